/* Unit tests for lib/store's ACME state (store_acme.h): nonces are single use, EAB keys bind once, accounts are
 * unique per key, orders move through RFC 8555 §7.1.6's statuses by compare-and-set only, a challenge's result
 * settles its authorization and order in the same transaction, and the cleanup expires and deletes what it must. */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit_run.h"
#include "store_fixture.h"
#include "iotca/store_acme.h"

static void setup(void) { store_fixture_open("acme-store"); }
static void teardown(void) { store_fixture_close(); }

START_TEST(nonces_are_single_use_and_expire) {
    OK(iotca_store_acme_nonce_add(s, "n1", T0 + 60));
    OK(iotca_store_acme_nonce_add(s, "n2", T0 + 60));
    OK(iotca_store_acme_nonce_take(s, "n1", T0));
    REFUSED(iotca_store_acme_nonce_take(s, "n1", T0), IOTCA_E_POLICY, "badNonce"); /* used */
    REFUSED(iotca_store_acme_nonce_take(s, "never", T0), IOTCA_E_POLICY, "badNonce");
    REFUSED(iotca_store_acme_nonce_take(s, "n2", T0 + 60), IOTCA_E_POLICY, "badNonce"); /* expired */
    REFUSED(iotca_store_acme_nonce_take(s, "", T0), IOTCA_E_POLICY, "badNonce");
    char longer[80];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    ck_assert_int_eq(iotca_store_acme_nonce_add(s, longer, T0 + 60), IOTCA_E_USAGE);
    REFUSED(iotca_store_acme_nonce_take(s, longer, T0), IOTCA_E_POLICY, "badNonce");
    size_t changed;
    OK(iotca_store_acme_prune(s, T0 + 61, 86400, &changed));
    ck_assert_uint_eq(changed, 1); /* n2 */
}
END_TEST

static void eab(const char *kid, const char *profile) {
    iotca_acme_eab_rec r = {.created_at = T0, .secret = {.secret = true}};
    snprintf(r.kid, sizeof r.kid, "%s", kid);
    snprintf(r.profile, sizeof r.profile, "%s", profile);
    OK(iotca_buf_append(&r.secret, "sealed-secret", 13));
    memset(r.secret_hash, 0xab, 32);
    OK(iotca_store_acme_eab_add(s, &r));
    iotca_acme_eab_rec_free(&r);
}

static int64_t account(uint8_t fill, const char *kid, iotca_rc want) {
    iotca_acme_account_rec a = {.created_at = T0};
    memset(a.thumbprint, fill, 32);
    OK(iotca_buf_append(&a.spki, &fill, 1));
    snprintf(a.profile, sizeof a.profile, "infra-server");
    snprintf(a.contact, sizeof a.contact, "[\"mailto:ops@example.com\"]");
    if (kid) snprintf(a.eab_kid, sizeof a.eab_kid, "%s", kid);
    int64_t existing = -1;
    iotca_rc rc = iotca_store_acme_account_add(s, &a, &existing);
    ck_assert_msg(rc == want, "account %u: %d (%s)", fill, (int)rc, iotca_error_detail());
    iotca_acme_account_rec_free(&a);
    return rc == IOTCA_OK ? a.id : existing;
}

START_TEST(eab_keys_bind_one_account_and_revoke) {
    eab("kid-1", "infra-server");
    eab("kid-2", "infra-server");
    REFUSED(iotca_store_acme_eab_add(s, &(iotca_acme_eab_rec){.kid = "kid-1", .profile = "p", .secret = {
                                                                  .data = (uint8_t *)"x", .len = 1}}),
            IOTCA_E_POLICY, "already exists");
    int64_t a1 = account(1, "kid-1", IOTCA_OK);
    ck_assert_int_gt(a1, 0);
    iotca_acme_eab_rec r;
    OK(iotca_store_acme_eab_get(s, "kid-1", &r));
    ck_assert_int_eq(r.account_id, a1);
    ck_assert_uint_eq(r.secret.len, 13);
    ck_assert(memcmp(r.secret.data, "sealed-secret", 13) == 0);
    iotca_acme_eab_rec_free(&r);
    /* a key binds once; an unknown or revoked one makes nothing */
    account(2, "kid-1", IOTCA_E_POLICY);
    account(3, "kid-404", IOTCA_E_USAGE);
    OK(iotca_store_acme_eab_revoke(s, "kid-2", T0 + 5));
    REFUSED(iotca_store_acme_eab_revoke(s, "kid-2", T0 + 6), IOTCA_E_POLICY, "revoked already");
    account(4, "kid-2", IOTCA_E_POLICY);
    iotca_acme_account_rec none;
    for (uint8_t f = 2; f <= 4; f++) {
        uint8_t tp[32];
        memset(tp, f, 32);
        ck_assert_int_eq(iotca_store_acme_account_find(s, tp, &none), IOTCA_E_USAGE); /* no row left */
    }
    iotca_acme_eab_rec *list;
    size_t n;
    OK(iotca_store_acme_eab_list(s, &list, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[0].kid, "kid-1");
    ck_assert_uint_eq(list[0].secret.len, 0); /* listed without secrets */
    ck_assert_int_eq(list[1].revoked_at, T0 + 5);
    free(list);
}
END_TEST

START_TEST(accounts_are_unique_per_key_and_deactivation_is_final) {
    int64_t a = account(7, NULL, IOTCA_OK);
    ck_assert_int_eq(account(7, NULL, IOTCA_E_POLICY), a); /* the same key: the existing account */
    iotca_acme_account_rec r;
    uint8_t tp[32];
    memset(tp, 7, 32);
    OK(iotca_store_acme_account_find(s, tp, &r));
    ck_assert_int_eq(r.id, a);
    ck_assert_int_eq(r.status, IOTCA_ACME_VALID);
    ck_assert_str_eq(r.contact, "[\"mailto:ops@example.com\"]");
    ck_assert_str_eq(r.eab_kid, "");
    iotca_acme_account_rec_free(&r);
    /* key rollover: onto a key no one has; not onto another account's */
    int64_t b = account(8, NULL, IOTCA_OK);
    uint8_t tp9[32], tp8[32];
    memset(tp9, 9, 32);
    memset(tp8, 8, 32);
    OK(iotca_store_acme_account_rekey(s, a, iotca_slice_of((const uint8_t *)"k9", 2), tp9));
    REFUSED(iotca_store_acme_account_rekey(s, a, iotca_slice_of((const uint8_t *)"k8", 2), tp8), IOTCA_E_POLICY,
            "conflict");
    OK(iotca_store_acme_account_find(s, tp9, &r));
    ck_assert_int_eq(r.id, a);
    iotca_acme_account_rec_free(&r);
    OK(iotca_store_acme_account_update(s, b, "[]", IOTCA_ACME_DEACTIVATED));
    REFUSED(iotca_store_acme_account_update(s, b, NULL, IOTCA_ACME_VALID), IOTCA_E_POLICY, "not valid");
    REFUSED(iotca_store_acme_account_rekey(s, b, iotca_slice_of((const uint8_t *)"kA", 2), tp), IOTCA_E_POLICY,
            "not valid");
    ck_assert_int_eq(iotca_store_acme_account_get(s, 999, &r), IOTCA_E_USAGE);
}
END_TEST

/* An order for names[0..n) with one http-01 and one dns-01 challenge each, expiring at T0 + 3600. */
static int64_t order(int64_t account_id, size_t n, iotca_acme_authz_rec *authz, const char *tag) {
    iotca_acme_order_rec o = {.account_id = account_id, .expires_at = T0 + 3600, .created_at = T0,
                              .identifiers = "[{\"type\":\"dns\",\"value\":\"a.example.com\"}]"};
    snprintf(o.profile, sizeof o.profile, "infra-server");
    for (size_t i = 0; i < n; i++) {
        memset(&authz[i], 0, sizeof authz[i]);
        snprintf(authz[i].type, sizeof authz[i].type, "dns");
        snprintf(authz[i].value, sizeof authz[i].value, "n%zu.example.com", i);
        authz[i].expires_at = T0 + 3600;
        authz[i].n_challenges = 2;
        authz[i].challenges[0].type = IOTCA_ACME_HTTP_01;
        authz[i].challenges[1].type = IOTCA_ACME_DNS_01;
        snprintf(authz[i].challenges[0].token, 64, "%s-http-%zu", tag, i);
        snprintf(authz[i].challenges[1].token, 64, "%s-dns-%zu", tag, i);
    }
    OK(iotca_store_acme_order_add(s, &o, authz, n));
    return o.id;
}

static iotca_acme_status order_status(int64_t id) {
    iotca_acme_order_rec o;
    OK(iotca_store_acme_order_get(s, id, &o));
    iotca_acme_status st = o.status;
    iotca_acme_order_rec_free(&o);
    return st;
}

START_TEST(a_challenge_result_settles_authorization_and_order) {
    int64_t acct = account(1, NULL, IOTCA_OK);
    iotca_acme_authz_rec az[2];
    int64_t o = order(acct, 2, az, "t1");
    ck_assert_int_eq(order_status(o), IOTCA_ACME_PENDING);
    iotca_acme_authz_rec *got;
    size_t n;
    OK(iotca_store_acme_order_authzs(s, o, &got, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(got[1].n_challenges, 2);
    ck_assert_str_eq(got[1].challenges[1].token, "t1-dns-1");
    ck_assert_int_eq(got[1].challenges[1].type, IOTCA_ACME_DNS_01);
    free(got);
    /* the first name validates: the order still waits for the second */
    OK(iotca_store_acme_challenge_start(s, az[0].challenges[0].id, T0));
    REFUSED(iotca_store_acme_challenge_start(s, az[0].challenges[0].id, T0), IOTCA_E_POLICY, "not pending");
    OK(iotca_store_acme_challenge_finish(s, az[0].challenges[0].id, true, NULL, T0 + 1));
    ck_assert_int_eq(order_status(o), IOTCA_ACME_PENDING);
    REFUSED(iotca_store_acme_challenge_start(s, az[0].challenges[1].id, T0), IOTCA_E_POLICY, "is valid");
    /* the second too: ready; finalize is a compare-and-set that one of two racing requests wins */
    OK(iotca_store_acme_challenge_start(s, az[1].challenges[1].id, T0));
    OK(iotca_store_acme_challenge_finish(s, az[1].challenges[1].id, true, NULL, T0 + 2));
    ck_assert_int_eq(order_status(o), IOTCA_ACME_READY);
    OK(iotca_store_acme_order_transition(s, o, IOTCA_ACME_READY, IOTCA_ACME_PROCESSING, NULL, NULL));
    REFUSED(iotca_store_acme_order_transition(s, o, IOTCA_ACME_READY, IOTCA_ACME_PROCESSING, NULL, NULL),
            IOTCA_E_POLICY, "is processing, not ready");
    OK(iotca_store_acme_order_transition(s, o, IOTCA_ACME_PROCESSING, IOTCA_ACME_VALID, NULL, "0abc"));
    iotca_acme_order_rec rec;
    OK(iotca_store_acme_order_get(s, o, &rec));
    ck_assert_str_eq(rec.serial, "0abc");
    ck_assert_str_eq(rec.identifiers, "[{\"type\":\"dns\",\"value\":\"a.example.com\"}]");
    iotca_acme_order_rec_free(&rec);
    ck_assert_int_eq(iotca_store_acme_order_transition(s, o, IOTCA_ACME_PROCESSING, IOTCA_ACME_VALID, NULL, "NOTHEX"),
                     IOTCA_E_USAGE);
}
END_TEST

START_TEST(a_failed_challenge_invalidates_the_order) {
    int64_t acct = account(1, NULL, IOTCA_OK);
    iotca_acme_authz_rec az[2];
    int64_t o = order(acct, 2, az, "t2");
    const char *err = "{\"type\":\"urn:ietf:params:acme:error:connection\",\"detail\":\"refused\"}";
    OK(iotca_store_acme_challenge_start(s, az[0].challenges[0].id, T0));
    OK(iotca_store_acme_challenge_finish(s, az[0].challenges[0].id, false, err, T0 + 1));
    iotca_acme_order_rec rec;
    OK(iotca_store_acme_order_get(s, o, &rec));
    ck_assert_int_eq(rec.status, IOTCA_ACME_INVALID);
    ck_assert_str_eq(rec.error, err);
    iotca_acme_order_rec_free(&rec);
    iotca_acme_challenge_rec c;
    OK(iotca_store_acme_challenge_get(s, az[0].challenges[0].id, &c));
    ck_assert_int_eq(c.status, IOTCA_ACME_INVALID);
    ck_assert_str_eq(c.error, err);
    ck_assert_int_eq(c.validated_at, T0 + 1);
    /* a finish without a start, and the other authorization, change nothing more */
    REFUSED(iotca_store_acme_challenge_finish(s, az[1].challenges[0].id, true, NULL, T0), IOTCA_E_POLICY,
            "not processing");
    REFUSED(iotca_store_acme_order_transition(s, o, IOTCA_ACME_READY, IOTCA_ACME_PROCESSING, NULL, NULL),
            IOTCA_E_POLICY, "is invalid");
}
END_TEST

START_TEST(deactivation_and_expiry) {
    int64_t acct = account(1, NULL, IOTCA_OK);
    iotca_acme_authz_rec az[1], bz[1], cz[1];
    int64_t o1 = order(acct, 1, az, "t3"), o2 = order(acct, 1, bz, "t4"), o3 = order(acct, 1, cz, "t5");
    OK(iotca_store_acme_authz_deactivate(s, az[0].id));
    ck_assert_int_eq(order_status(o1), IOTCA_ACME_INVALID);
    REFUSED(iotca_store_acme_authz_deactivate(s, az[0].id), IOTCA_E_POLICY, "cannot become deactivated");
    /* past its expiry a pending authorization cannot be validated, and the cleanup expires it and its order */
    REFUSED(iotca_store_acme_challenge_start(s, bz[0].challenges[0].id, T0 + 3600), IOTCA_E_POLICY, "expired");
    OK(iotca_store_acme_challenge_start(s, cz[0].challenges[0].id, T0));
    OK(iotca_store_acme_challenge_finish(s, cz[0].challenges[0].id, true, NULL, T0));
    ck_assert_int_eq(order_status(o3), IOTCA_ACME_READY);
    size_t changed;
    OK(iotca_store_acme_prune(s, T0 + 3600, 86400, &changed));
    ck_assert_int_eq(order_status(o2), IOTCA_ACME_INVALID);
    ck_assert_int_eq(order_status(o3), IOTCA_ACME_INVALID); /* ready, never finalized, expired */
    iotca_acme_authz_rec a;
    OK(iotca_store_acme_authz_get(s, bz[0].id, &a));
    ck_assert_int_eq(a.status, IOTCA_ACME_EXPIRED);
    ck_assert_uint_eq(changed, 3); /* bz's authorization, o2, o3 */
    /* a day later the ended orders go, with their authorizations and challenges */
    OK(iotca_store_acme_prune(s, T0 + 3600 + 86400, 86400, &changed));
    ck_assert_uint_eq(changed, 3);
    iotca_acme_order_rec rec;
    ck_assert_int_eq(iotca_store_acme_order_get(s, o1, &rec), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_acme_authz_get(s, bz[0].id, &a), IOTCA_E_USAGE);
    iotca_acme_challenge_rec c;
    ck_assert_int_eq(iotca_store_acme_challenge_get(s, cz[0].challenges[0].id, &c), IOTCA_E_USAGE);
    int64_t *ids;
    size_t n;
    OK(iotca_store_acme_order_list(s, acct, 10, &ids, &n));
    ck_assert_uint_eq(n, 0);
    free(ids);
}
END_TEST

START_TEST(bad_input_is_refused_and_leaves_nothing) {
    int64_t acct = account(1, NULL, IOTCA_OK);
    iotca_acme_authz_rec az[2];
    order(acct, 1, az, "dup");
    /* a token in use: the whole order is refused, no row of it stays */
    iotca_acme_order_rec o = {.account_id = acct, .expires_at = T0 + 60, .identifiers = "[]"};
    snprintf(o.profile, sizeof o.profile, "p");
    memset(az, 0, sizeof az);
    snprintf(az[0].type, 8, "dns");
    snprintf(az[0].value, 256, "x.example.com");
    az[0].n_challenges = 1;
    snprintf(az[0].challenges[0].token, 64, "fresh");
    az[1] = az[0];
    snprintf(az[1].challenges[0].token, 64, "dup-http-0");
    REFUSED(iotca_store_acme_order_add(s, &o, az, 2), IOTCA_E_POLICY, "token is in use");
    ck_assert_int_eq(o.id, 0);
    int64_t *ids;
    size_t n;
    OK(iotca_store_acme_order_list(s, acct, 10, &ids, &n));
    ck_assert_uint_eq(n, 1); /* only the first order */
    free(ids);
    snprintf(az[1].challenges[0].token, 64, "other");
    snprintf(az[1].type, 8, "email");
    ck_assert_int_eq(iotca_store_acme_order_add(s, &o, az, 2), IOTCA_E_USAGE);
    o.account_id = 4242;
    snprintf(az[1].type, 8, "dns");
    ck_assert_int_eq(iotca_store_acme_order_add(s, &o, az, 2), IOTCA_E_USAGE); /* no such account */
    OK(iotca_store_acme_order_list(s, acct, 10, &ids, &n));
    ck_assert_uint_eq(n, 1);
    free(ids);
}
END_TEST

/* Eight connections (as eight iotcad threads or replicas would) race to take one nonce and to move one order:
 * exactly one wins each, the others get a clear refusal, none a storage error. */
typedef struct racer {
    int64_t order;
    int nonce_ok, order_ok, other;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    iotca_store *mine;
    if (iotca_store_open(store_fixture_db(), false, 5000, &mine) != IOTCA_OK) {
        r->other++;
        return NULL;
    }
    iotca_rc rc = iotca_store_acme_nonce_take(mine, "race", T0);
    rc == IOTCA_OK ? r->nonce_ok++ : rc == IOTCA_E_POLICY ? 0 : r->other++;
    rc = iotca_store_acme_order_transition(mine, r->order, IOTCA_ACME_PENDING, IOTCA_ACME_INVALID, NULL, NULL);
    rc == IOTCA_OK ? r->order_ok++ : rc == IOTCA_E_POLICY ? 0 : r->other++;
    iotca_store_close(mine);
    return NULL;
}

START_TEST(concurrent_changes_have_one_winner) {
    int64_t acct = account(1, NULL, IOTCA_OK);
    iotca_acme_authz_rec az[1];
    int64_t o = order(acct, 1, az, "race");
    OK(iotca_store_acme_nonce_add(s, "race", T0 + 60));
    pthread_t t[8];
    racer r[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (racer){.order = o};
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    int nonce_ok = 0, order_ok = 0, other = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        nonce_ok += r[i].nonce_ok;
        order_ok += r[i].order_ok;
        other += r[i].other;
    }
    ck_assert_int_eq(other, 0);
    ck_assert_int_eq(nonce_ok, 1);
    ck_assert_int_eq(order_ok, 1);
}
END_TEST

int main(void) {
    Suite *su = suite_create("store_acme");
    TCase *tc = tcase_create("acme");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, nonces_are_single_use_and_expire);
    tcase_add_test(tc, eab_keys_bind_one_account_and_revoke);
    tcase_add_test(tc, accounts_are_unique_per_key_and_deactivation_is_final);
    tcase_add_test(tc, a_challenge_result_settles_authorization_and_order);
    tcase_add_test(tc, a_failed_challenge_invalidates_the_order);
    tcase_add_test(tc, deactivation_and_expiry);
    tcase_add_test(tc, bad_input_is_refused_and_leaves_nothing);
    tcase_add_test(tc, concurrent_changes_have_one_winner);
    suite_add_tcase(su, tc);
    return unit_run(su);
}
