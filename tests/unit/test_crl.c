/* Unit tests for CRLs: the streaming encoder, digest signing, and the CA's per-issuer CRLs (numbering, entries
 * against the store, expiry, debounce, files) and root CRL import, driven through lib/ca's public API. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit_run.h"
#include "iotca/ca.h"
#include "iotca/der.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

#include "ca_fixture.h"

/* Records a certificate of the issuer straight in the store (the CRL path never reads its DER). */
static void add_cert(fixture *f, time_t not_after, char serial[41]) {
    uint8_t raw[IOTCA_SERIAL_LEN];
    iotca_buf hex = {0};
    OK(iotca_serial_random(raw));
    OK(iotca_hex_encode(raw, sizeof raw, &hex));
    snprintf(serial, 41, "%s", (const char *)hex.data);
    iotca_buf_free(&hex);
    OK(iotca_store_serial_reserve(f->s, serial, f->issuer, time(NULL)));
    static const uint8_t der[] = {0x30, 0x00};
    iotca_cert_rec r = {0};
    snprintf(r.serial, sizeof r.serial, "%s", serial);
    r.issuer_id = f->issuer;
    snprintf(r.profile, sizeof r.profile, "unit");
    snprintf(r.subject, sizeof r.subject, "CN=unit");
    r.der = iotca_buf_borrow(der, sizeof der);
    r.not_before = not_after - 30 * DAY;
    r.not_after = not_after;
    r.created_at = time(NULL);
    OK(iotca_store_cert_add(f->s, &r));
}

/* The issuer's current CRL, parsed (its DER in *der) and checked: signature by the issuer, AKID. */
static void current_crl(fixture *f, iotca_buf *der, iotca_crl_info *info) {
    iotca_crl_rec rec = {0};
    OK(iotca_ca_crl(f->ca, f->issuer, &rec));
    iotca_buf_clear(der);
    OK(iotca_crl_parse(iotca_buf_slice(&rec.der), der, info));
    ck_assert_uint_eq(rec.size, der->len);
    ck_assert_uint_eq(rec.entries, info->n_entries);
    ck_assert_uint_eq(rec.number, info->number);
    OK(iotca_crl_verify(info, f->issuer_cert));
    ck_assert(iotca_slice_eq(info->akid, iotca_cert_get(f->issuer_cert)->skid));
    iotca_buf_free(&rec.der);
}

/* Looks a serial up in the CRL: its reason and date if listed. */
static bool listed(const iotca_crl_info *info, const char *serial, iotca_crl_entry *out) {
    iotca_buf want = {0};
    OK(iotca_hex_decode(serial, &want));
    iotca_slice rv = info->revoked;
    bool found = false;
    while (rv.len && !found) {
        OK(iotca_crl_entry_next(&rv, out));
        found = iotca_slice_eq(out->serial, iotca_buf_slice(&want));
    }
    iotca_buf_free(&want);
    return found;
}

static int crl_files(fixture *f) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '^%lld-[0-9]*\\.crl$'", f->crl_dir, (long long)f->issuer);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1) n = -1;
    if (p) pclose(p);
    return n;
}

/* ---- many issuers ---------------------------------------------------- */

/* A long-lived daemon loads every issuer that rotates in; there used to be a fixed limit of 64 loaded
 * issuers, after which CRLs and issuance failed with "too many issuers loaded" (found by fuzz_api). */
START_TEST(more_issuers_than_the_old_limit) {
    fixture f;
    setup(&f);
    enum { N = 70 };
    const iotca_cert_info *ri = iotca_cert_get(f.root);
    for (int i = 0; i < N; i++) {
        char group[16];
        snprintf(group, sizeof group, "g%d", i);
        int64_t id;
        iotca_buf csr_pem = {0}, inter = {0}, chain = {0};
        iotca_csr *csr = NULL;
        OK(iotca_ca_issuer_new(f.ca, group, NULL, &id, &csr_pem));
        OK(iotca_csr_parse(iotca_buf_slice(&csr_pem), &csr));
        sign_ca_cert(&f, ri->subject, iotca_csr_get(csr)->subject, iotca_csr_get(csr)->spki, 0, &inter);
        OK(iotca_ca_issuer_import(f.ca, id, iotca_buf_slice(&inter), 0));
        int changes = 0;
        OK(iotca_ca_tick(f.ca, time(NULL), &changes)); /* activates it and makes its CRL: loads it */
        OK(iotca_ca_chain(f.ca, id, &chain));
        ck_assert_uint_gt(chain.len, 0);
        iotca_csr_free(csr);
        iotca_buf_free(&csr_pem);
        iotca_buf_free(&inter);
        iotca_buf_free(&chain);
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '\\.crl$'", f.crl_dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    ck_assert_int_ge(n, N + 1); /* every issuer, the fixture's included, has its CRL */
    teardown(&f);
}
END_TEST

/* ---- the CA's CRLs ------------------------------------------------- */

START_TEST(empty_crl_after_activation) {
    fixture f;
    setup(&f);
    iotca_buf der = {0};
    iotca_crl_info info;
    current_crl(&f, &der, &info);
    ck_assert(info.has_number);
    ck_assert_uint_ge(info.number, 1);
    ck_assert_uint_eq(info.n_entries, 0);
    ck_assert_uint_eq(info.revoked.len, 0); /* RFC 5280 §5.1.2.6: absent, not an empty SEQUENCE */
    ck_assert(iotca_slice_eq(info.issuer, iotca_cert_get(f.issuer_cert)->subject));
    ck_assert_int_eq(info.next_update - info.this_update, 7 * DAY + 60);
    ck_assert_int_le(info.this_update, time(NULL));
    iotca_buf_free(&der);
    teardown(&f);
}
END_TEST

START_TEST(entries_match_store) {
    fixture f;
    setup(&f);
    enum { N = 40 };
    char serials[N][41];
    static const int reasons[] = {0, 1, 3, 4, 5, 9};
    time_t now = time(NULL);
    for (int i = 0; i < N; i++) add_cert(&f, now + 30 * DAY, serials[i]);
    for (int i = 0; i < N; i += 2) /* every other one, through the store: the trigger counts them */
        OK(iotca_store_cert_revoke(f.s, serials[i], reasons[(i / 2) % 6], now - 1000 + i));
    int changes = 0;
    OK(iotca_ca_tick(f.ca, now, &changes));
    iotca_buf der = {0};
    iotca_crl_info info;
    current_crl(&f, &der, &info);
    ck_assert_uint_eq(info.n_entries, N / 2);
    for (int i = 0; i < N; i++) {
        iotca_crl_entry e;
        bool in = listed(&info, serials[i], &e);
        ck_assert_msg(in == (i % 2 == 0), "serial %d listed=%d", i, in);
        if (!in) continue;
        ck_assert_int_eq(e.revoked_at, now - 1000 + i);
        ck_assert_int_eq(e.reason, reasons[(i / 2) % 6]);
    }
    /* the same set the store lists as revoked */
    iotca_cert_filter flt = {.status = 1, .limit = 1000};
    iotca_cert_rec *list = NULL;
    size_t n = 0;
    OK(iotca_store_cert_list(f.s, &flt, &list, &n));
    ck_assert_uint_eq(n, info.n_entries);
    for (size_t i = 0; i < n; i++) {
        iotca_crl_entry e;
        ck_assert(listed(&info, list[i].serial, &e));
        iotca_cert_rec_free(&list[i]);
    }
    free(list);
    iotca_buf_free(&der);
    teardown(&f);
}
END_TEST

START_TEST(expired_revoked_dropped) {
    fixture f;
    setup(&f);
    time_t now = time(NULL);
    char gone[41], grace[41], live[41], valid[41];
    add_cert(&f, now - 2 * DAY, gone);    /* expired two days ago: may leave (RFC 5280 §3.3) */
    add_cert(&f, now - 3600, grace);      /* expired an hour ago: still inside the day of grace */
    add_cert(&f, now + 10 * DAY, live);   /* valid and revoked */
    add_cert(&f, now + 10 * DAY, valid);  /* valid, not revoked */
    OK(iotca_store_cert_revoke(f.s, gone, 1, now - 5 * DAY));
    OK(iotca_store_cert_revoke(f.s, grace, 1, now - 5 * DAY));
    OK(iotca_store_cert_revoke(f.s, live, 4, now - 60));
    int changes = 0;
    OK(iotca_ca_tick(f.ca, now, &changes));
    iotca_buf der = {0};
    iotca_crl_info info;
    current_crl(&f, &der, &info);
    iotca_crl_entry e;
    ck_assert(!listed(&info, gone, &e));
    ck_assert(listed(&info, grace, &e));
    ck_assert(listed(&info, live, &e));
    ck_assert_int_eq(e.reason, IOTCA_REASON_SUPERSEDED);
    ck_assert(!listed(&info, valid, &e));
    ck_assert_uint_eq(info.n_entries, 2);
    iotca_buf_free(&der);
    teardown(&f);
}
END_TEST

/* The tick pre-signs new certificates' OCSP answers, more than one group write's worth, and moves the OCSP
 * mark past them (schema 0009); a tick whose new certificates are all expired, so that nothing is signed,
 * still moves the mark, or they would be listed at every tick. */
START_TEST(ocsp_tick_moves_the_mark) {
    fixture f;
    setup(&f);
    time_t now = time(NULL);
    char old1[41], old2[41];
    add_cert(&f, now - 2 * DAY, old1);
    add_cert(&f, now - DAY, old2);
    int changes = 0;
    OK(iotca_ca_tick(f.ca, now, &changes));
    char(*due)[41] = NULL;
    size_t n = 9;
    int64_t mark = 9;
    OK(iotca_store_ocsp_due(f.s, now, now + 2 * DAY, 100, &due, &n, &mark));
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(mark, 0); /* nothing after the mark: it moved past the two expired ones */
    free(due);
    iotca_ocsp_lookup look;
    iotca_buf der = {0};
    OK(iotca_store_ocsp_lookup(f.s, old1, &look, &der));
    ck_assert(!look.has_answer); /* expired before it was ever answered: nothing signed */

    char live[70][41]; /* three chunks of at most 32 */
    for (size_t i = 0; i < 70; i++) add_cert(&f, now + 10 * DAY, live[i]);
    changes = 0;
    OK(iotca_ca_tick(f.ca, now, &changes));
    ck_assert_int_ge(changes, 70);
    for (size_t i = 0; i < 70; i++) {
        der.len = 0;
        OK(iotca_store_ocsp_lookup(f.s, live[i], &look, &der));
        ck_assert_msg(look.has_answer && der.len > 0 && look.next_update > now, "certificate %zu not pre-signed", i);
    }
    OK(iotca_store_ocsp_due(f.s, now, now + 2 * DAY, 100, &due, &n, &mark));
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(mark, 0);
    free(due);
    iotca_buf_free(&der);
    teardown(&f);
}
END_TEST

START_TEST(number_monotonic_and_durable) {
    fixture f;
    setup(&f);
    iotca_buf der = {0};
    iotca_crl_info info;
    current_crl(&f, &der, &info);
    uint64_t n0 = info.number;
    time_t now = time(NULL);
    int changes = 0;
    /* nothing due: no new CRL */
    OK(iotca_ca_tick(f.ca, now, &changes));
    current_crl(&f, &der, &info);
    ck_assert_uint_eq(info.number, n0);
    int64_t due[4];
    size_t nd = 9;
    OK(iotca_store_crl_due(f.s, now, now + 3 * DAY, due, 4, &nd));
    ck_assert_uint_eq(nd, 0);
    /* a revocation makes it due; the tick publishes n0 + 1 */
    char s1[41];
    add_cert(&f, now + 30 * DAY, s1);
    OK(iotca_store_cert_revoke(f.s, s1, 1, now));
    int64_t count = 0;
    OK(iotca_store_crl_revocations(f.s, f.issuer, &count));
    ck_assert_int_eq(count, 1);
    OK(iotca_store_crl_due(f.s, now, now + 3 * DAY, due, 4, &nd));
    ck_assert_uint_eq(nd, 1);
    ck_assert_int_eq(due[0], f.issuer);
    OK(iotca_ca_tick(f.ca, now, &changes));
    current_crl(&f, &der, &info);
    ck_assert_uint_eq(info.number, n0 + 1);
    /* less than half the validity left: refreshed */
    OK(iotca_ca_tick(f.ca, now + 4 * DAY, &changes));
    current_crl(&f, &der, &info);
    ck_assert_uint_eq(info.number, n0 + 2);
    ck_assert_int_eq(info.this_update, now + 4 * DAY - 60);
    /* a number reserved by a generation that never finished (a crash) is skipped, never reused */
    uint64_t reserved = 0;
    OK(iotca_store_crl_reserve(f.s, f.issuer, &reserved));
    ck_assert_uint_eq(reserved, n0 + 3);
    /* a new process on the same database continues above it */
    iotca_ca_close(f.ca);
    f.ca = open_ca(&f);
    char s2[41];
    add_cert(&f, now + 30 * DAY, s2);
    OK(iotca_store_cert_revoke(f.s, s2, 4, now));
    OK(iotca_ca_tick(f.ca, now + 4 * DAY, &changes));
    current_crl(&f, &der, &info);
    ck_assert_uint_eq(info.number, n0 + 4);
    ck_assert_uint_eq(info.n_entries, 2);
    /* the store refuses to go back */
    iotca_crl_rec old = {n0 + 1, now, now + DAY, {0}, 100, 0, 0};
    ck_assert_int_eq(iotca_store_crl_put(f.s, f.issuer, &old), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "not greater"));
    /* the current file and the one before it are kept, older ones pruned */
    ck_assert_int_eq(crl_files(&f), 2);
    iotca_buf_free(&der);
    teardown(&f);
}
END_TEST

START_TEST(revocations_debounced) {
    fixture f;
    setup(&f);
    time_t now = time(NULL);
    char s0[41], s1[41], s2[41];
    add_cert(&f, now + 30 * DAY, s0);
    add_cert(&f, now + 30 * DAY, s1);
    add_cert(&f, now + 30 * DAY, s2);
    /* a CRL made just now */
    OK(iotca_store_cert_revoke(f.s, s0, 1, now));
    int changes = 0;
    OK(iotca_ca_tick(f.ca, time(NULL), &changes));
    iotca_buf der = {0};
    iotca_crl_info info;
    current_crl(&f, &der, &info);
    uint64_t n = info.number;
    /* revocations within the debounce window are counted, not signed in the request */
    OK(iotca_ca_cert_revoke(f.ca, s1, IOTCA_REASON_KEY_COMPROMISE, NULL));
    OK(iotca_ca_cert_revoke(f.ca, s2, IOTCA_REASON_CESSATION_OF_OPERATION, NULL));
    current_crl(&f, &der, &info);
    ck_assert_uint_eq(info.number, n);
    iotca_crl_entry e;
    ck_assert(!listed(&info, s1, &e));
    int64_t due[4];
    size_t nd = 0;
    OK(iotca_store_crl_due(f.s, time(NULL), time(NULL), due, 4, &nd));
    ck_assert_uint_eq(nd, 1);
    /* the tick publishes both in one CRL */
    OK(iotca_ca_tick(f.ca, time(NULL), &changes));
    current_crl(&f, &der, &info);
    ck_assert_uint_eq(info.number, n + 1);
    ck_assert(listed(&info, s1, &e));
    ck_assert_int_eq(e.reason, IOTCA_REASON_KEY_COMPROMISE);
    ck_assert(listed(&info, s2, &e));
    ck_assert_int_eq(e.reason, IOTCA_REASON_CESSATION_OF_OPERATION);
    OK(iotca_store_crl_due(f.s, time(NULL), time(NULL), due, 4, &nd));
    ck_assert_uint_eq(nd, 0);
    /* an already revoked certificate is refused and counts nothing */
    ck_assert_int_eq(iotca_ca_cert_revoke(f.ca, s1, IOTCA_REASON_KEY_COMPROMISE, NULL), IOTCA_E_POLICY);
    int64_t count = 0;
    OK(iotca_store_crl_revocations(f.s, f.issuer, &count));
    ck_assert_int_eq(count, 3);
    iotca_buf_free(&der);
    teardown(&f);
}
END_TEST

START_TEST(retiring_and_retired_publish) {
    fixture f;
    setup(&f);
    time_t now = time(NULL), issuer_end = iotca_cert_get(f.issuer_cert)->not_after;
    int64_t due[4];
    size_t nd = 0;
    /* retiring: no new leaves, but revocations of its leaves are still published */
    OK(iotca_store_issuer_transition(f.s, f.issuer, IOTCA_ISSUER_ACTIVE, IOTCA_ISSUER_RETIRING, now));
    char s1[41];
    add_cert(&f, now + 30 * DAY, s1);
    OK(iotca_store_cert_revoke(f.s, s1, 1, now));
    OK(iotca_store_crl_due(f.s, now, now, due, 4, &nd));
    ck_assert_uint_eq(nd, 1);
    int changes = 0;
    OK(iotca_ca_tick(f.ca, now, &changes));
    iotca_buf der = {0};
    iotca_crl_info info;
    current_crl(&f, &der, &info);
    iotca_crl_entry e;
    ck_assert(listed(&info, s1, &e));
    /* retired: published while its certificate (and so every leaf, which ends before it) can be valid */
    OK(iotca_store_issuer_transition(f.s, f.issuer, IOTCA_ISSUER_RETIRING, IOTCA_ISSUER_RETIRED, now));
    OK(iotca_store_crl_due(f.s, now, now + 30 * DAY, due, 4, &nd));
    ck_assert_uint_eq(nd, 1); /* nextUpdate within the window: refreshed */
    OK(iotca_store_crl_due(f.s, issuer_end, issuer_end + 30 * DAY, due, 4, &nd));
    ck_assert_uint_eq(nd, 0); /* past its notAfter: done */
    iotca_buf_free(&der);
    teardown(&f);
}
END_TEST

START_TEST(crl_open_refusals) {
    fixture f;
    setup(&f);
    iotca_crl_rec rec = {0};
    int fd = -1;
    ck_assert_int_eq(iotca_ca_crl_open(f.ca, 999, &rec, &fd), IOTCA_E_USAGE);
    int64_t pending;
    iotca_buf csr = {0};
    OK(iotca_ca_issuer_new(f.ca, NULL, NULL, &pending, &csr));
    ck_assert_int_eq(iotca_ca_crl_open(f.ca, pending, &rec, &fd), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_crl_info(f.ca, pending, &rec), IOTCA_E_USAGE);
    /* a file that is not what the database describes (truncated), or gone for good (a restored backup, a
     * wiped directory), is made again, with a new number */
    char path[256];
    for (int damage = 0; damage < 2; damage++) {
        OK(iotca_ca_crl_open(f.ca, f.issuer, &rec, &fd));
        close(fd);
        uint64_t was = rec.number;
        snprintf(path, sizeof path, "%s/%lld-%llu.crl", f.crl_dir, (long long)f.issuer, (unsigned long long)was);
        ck_assert_int_eq(damage ? unlink(path) : truncate(path, 10), 0);
        OK(iotca_ca_crl_open(f.ca, f.issuer, &rec, &fd));
        struct stat sb;
        ck_assert_int_eq(fstat(fd, &sb), 0);
        ck_assert_uint_eq((uint64_t)sb.st_size, rec.size);
        close(fd);
        ck_assert_uint_gt(rec.number, was);
    }
    iotca_buf_free(&csr);
    teardown(&f);
}
END_TEST

/* ---- root CRL import ------------------------------------------------ */

static void root_crl(fixture *f, const iotca_key *signer, uint64_t number, time_t next, iotca_buf *out) {
    static const uint8_t serial[] = {0x42, 0x01};
    iotca_crl_entry e = {iotca_slice_of(serial, 2), time(NULL) - 60, IOTCA_REASON_SUPERSEDED};
    const iotca_cert_info *ri = iotca_cert_get(f->root);
    iotca_crl_spec cs = {ri->subject, ri->skid, time(NULL) - 60, next, number, &e, 1};
    iotca_buf_clear(out);
    OK(iotca_crl_sign(&cs, signer, out));
}

START_TEST(root_crl_import) {
    fixture f;
    setup(&f);
    iotca_buf crl = {0}, pem = {0};
    size_t idx = 0;
    uint64_t num = 0;
    time_t next = time(NULL) + 365 * DAY;
    root_crl(&f, f.root_key, 5, next, &crl);
    OK(iotca_ca_root_crl_import(f.ca, iotca_buf_slice(&crl), &idx, &num));
    ck_assert_uint_eq(idx, 1);
    ck_assert_uint_eq(num, 5);
    iotca_crl_rec got = {0};
    OK(iotca_ca_root_crl(f.ca, 1, &got));
    ck_assert(iotca_slice_eq(iotca_buf_slice(&got.der), iotca_buf_slice(&crl)));
    ck_assert_uint_eq(got.number, 5);
    iotca_buf_free(&got.der);
    ck_assert_int_eq(iotca_ca_root_crl(f.ca, 2, &got), IOTCA_E_USAGE);
    /* the same number again, or an older one: stale */
    ck_assert_int_eq(iotca_ca_root_crl_import(f.ca, iotca_buf_slice(&crl), &idx, &num), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "not greater"));
    root_crl(&f, f.root_key, 4, next, &crl);
    ck_assert_int_eq(iotca_ca_root_crl_import(f.ca, iotca_buf_slice(&crl), &idx, &num), IOTCA_E_POLICY);
    /* the root's name but another key: not a configured root */
    iotca_key *other;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &other));
    root_crl(&f, other, 9, next, &crl);
    ck_assert_int_eq(iotca_ca_root_crl_import(f.ca, iotca_buf_slice(&crl), &idx, &num), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "not signed by a configured root"));
    iotca_key_free(other);
    /* an issuer's CRL is not a root CRL */
    iotca_crl_rec ic = {0};
    OK(iotca_ca_crl(f.ca, f.issuer, &ic));
    ck_assert_int_eq(iotca_ca_root_crl_import(f.ca, iotca_buf_slice(&ic.der), &idx, &num), IOTCA_E_POLICY);
    iotca_buf_free(&ic.der);
    /* past its nextUpdate */
    root_crl(&f, f.root_key, 10, time(NULL) - 1, &crl);
    ck_assert_int_eq(iotca_ca_root_crl_import(f.ca, iotca_buf_slice(&crl), &idx, &num), IOTCA_E_POLICY);
    /* garbage, truncated, a flipped signature byte */
    ck_assert_int_eq(iotca_ca_root_crl_import(f.ca, iotca_slice_of("garbage", 7), &idx, &num), IOTCA_E_PARSE);
    root_crl(&f, f.root_key, 11, next, &crl);
    ck_assert_int_eq(iotca_ca_root_crl_import(f.ca, iotca_slice_of(crl.data, crl.len - 5), &idx, &num), IOTCA_E_PARSE);
    crl.data[crl.len - 3] ^= 0x5a;
    ck_assert_int_eq(iotca_ca_root_crl_import(f.ca, iotca_buf_slice(&crl), &idx, &num), IOTCA_E_POLICY);
    /* PEM, as iotca-root writes it */
    root_crl(&f, f.root_key, 12, next, &crl);
    OK(iotca_pem_encode("X509 CRL", crl.data, crl.len, &pem));
    OK(iotca_ca_root_crl_import(f.ca, iotca_buf_slice(&pem), &idx, &num));
    ck_assert_uint_eq(num, 12);
    iotca_buf_free(&crl);
    iotca_buf_free(&pem);
    teardown(&f);
}
END_TEST

/* ---- the streaming encoder ------------------------------------------- */

static iotca_rc buf_sink(void *ctx, const uint8_t *p, size_t n) { return iotca_buf_append(ctx, p, n); }

/* Streams n entries (serial i, reasons cycling, unspecified included) and parses them back in order. */
static void stream_roundtrip(iotca_key_type type, size_t n, bool expect_spill) {
    iotca_key *k;
    OK(iotca_key_generate(type, &k));
    iotca_buf name = {0}, spki = {0}, out = {0}, der = {0};
    OK(iotca_name_build(NULL, NULL, NULL, "Stream CA", &name));
    OK(iotca_key_spki(k, &spki));
    static const uint8_t skid[20] = {1, 2, 3};
    iotca_crl_spec cs = {iotca_buf_slice(&name), iotca_slice_of(skid, 20), 1700000000, 1700604800, 77, NULL, 0};
    char dir[] = "/tmp/iotca-spool-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    iotca_crl_stream *st;
    OK(iotca_crl_stream_new(&cs, k, dir, &st));
    static const iotca_reason reasons[] = {IOTCA_REASON_UNSPECIFIED, IOTCA_REASON_KEY_COMPROMISE,
                                           IOTCA_REASON_SUPERSEDED, IOTCA_REASON_PRIVILEGE_WITHDRAWN};
    for (size_t i = 0; i < n; i++) {
        uint8_t serial[16] = {0x40};
        for (int b = 0; b < 8; b++) serial[15 - b] = (uint8_t)(i >> (8 * b));
        iotca_crl_entry e = {iotca_slice_of(serial, 16), 1700000000 + (time_t)i, reasons[i % 4]};
        OK(iotca_crl_stream_add(st, &e));
    }
    ck_assert_uint_eq(iotca_crl_stream_count(st), n);
    OK(iotca_crl_stream_end(st));
    OK(iotca_crl_stream_sign(st));
    uint64_t len = 0;
    OK(iotca_crl_stream_write(st, buf_sink, &out, &len));
    ck_assert_uint_eq(len, out.len);
    iotca_crl_stream_free(st);
    rmdir(dir); /* empty: the spool was never linked into it */
    iotca_crl_info info;
    OK(iotca_crl_parse(iotca_buf_slice(&out), &der, &info));
    ck_assert_uint_eq(info.n_entries, n);
    ck_assert_uint_eq(info.number, 77);
    ck_assert_uint_eq(info.revoked.len > IOTCA_CRL_SPILL, expect_spill);
    OK(iotca_verify(iotca_buf_slice(&spki), info.sigalg, info.tbs, info.sig));
    iotca_slice rv = info.revoked;
    for (size_t i = 0; i < n; i++) {
        iotca_crl_entry e;
        OK(iotca_crl_entry_next(&rv, &e));
        ck_assert_uint_eq(e.serial.len, 16);
        uint64_t v = 0;
        for (int b = 8; b < 16; b++) v = v << 8 | e.serial.p[b];
        ck_assert_uint_eq(v, i);
        ck_assert_int_eq(e.revoked_at, 1700000000 + (time_t)i);
        ck_assert_int_eq(e.reason, reasons[i % 4]);
    }
    ck_assert_uint_eq(rv.len, 0);
    /* the in-memory signer writes the same TBS for the same entries */
    if (n <= 1000) {
        iotca_crl_entry *es = calloc(n ? n : 1, sizeof *es);
        uint8_t(*sers)[16] = calloc(n ? n : 1, 16);
        for (size_t i = 0; i < n; i++) {
            sers[i][0] = 0x40;
            for (int b = 0; b < 8; b++) sers[i][15 - b] = (uint8_t)(i >> (8 * b));
            es[i] = (iotca_crl_entry){iotca_slice_of(sers[i], 16), 1700000000 + (time_t)i, reasons[i % 4]};
        }
        cs.entries = es;
        cs.n_entries = n;
        iotca_buf whole = {0}, der2 = {0};
        iotca_crl_info info2;
        OK(iotca_crl_sign(&cs, k, &whole));
        OK(iotca_crl_parse(iotca_buf_slice(&whole), &der2, &info2));
        ck_assert(iotca_slice_eq(info.tbs, info2.tbs));
        iotca_buf_free(&whole);
        iotca_buf_free(&der2);
        free(es);
        free(sers);
    }
    iotca_key_free(k);
    iotca_buf_free(&name);
    iotca_buf_free(&spki);
    iotca_buf_free(&out);
    iotca_buf_free(&der);
}

START_TEST(stream_small_p256) { stream_roundtrip(IOTCA_KEY_ECDSA_P256, 3, false); }
END_TEST
START_TEST(stream_empty_p384) { stream_roundtrip(IOTCA_KEY_ECDSA_P384, 0, false); }
END_TEST
START_TEST(stream_ed25519) { stream_roundtrip(IOTCA_KEY_ED25519, 500, false); }
END_TEST
START_TEST(stream_spills_to_file) { stream_roundtrip(IOTCA_KEY_ECDSA_P256, 30000, true); } /* ~1.4 MB */
END_TEST

START_TEST(stream_refusals) {
    iotca_key *k;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    iotca_buf name = {0}, out = {0};
    OK(iotca_name_build(NULL, NULL, NULL, "Stream CA", &name));
    static const uint8_t skid[20] = {1}, big[21] = {1}, one[1] = {5};
    iotca_crl_spec cs = {iotca_buf_slice(&name), iotca_slice_of(skid, 20), 1700000000, 1700000000, 1, NULL, 0};
    iotca_crl_stream *st = NULL;
    ck_assert_int_eq(iotca_crl_stream_new(&cs, k, NULL, &st), IOTCA_E_USAGE); /* nextUpdate not after thisUpdate */
    cs.next_update = 1700086400;
    cs.issuer_skid = iotca_slice_of(NULL, 0);
    ck_assert_int_eq(iotca_crl_stream_new(&cs, k, NULL, &st), IOTCA_E_USAGE); /* no AKID */
    cs.issuer_skid = iotca_slice_of(skid, 20);
    OK(iotca_crl_stream_new(&cs, k, NULL, &st));
    iotca_crl_entry e = {iotca_slice_of(big, 21), 1700000000, IOTCA_REASON_UNSPECIFIED};
    ck_assert_int_eq(iotca_crl_stream_add(st, &e), IOTCA_E_USAGE);
    e.serial = iotca_slice_of(NULL, 0);
    ck_assert_int_eq(iotca_crl_stream_add(st, &e), IOTCA_E_USAGE);
    e.serial = iotca_slice_of(one, 1);
    e.reason = (iotca_reason)7; /* unused in RFC 5280 §5.3.1 */
    ck_assert_int_eq(iotca_crl_stream_add(st, &e), IOTCA_E_USAGE);
    e.reason = IOTCA_REASON_CA_COMPROMISE;
    OK(iotca_crl_stream_add(st, &e));
    ck_assert_uint_eq(iotca_crl_stream_count(st), 1);
    ck_assert_int_eq(iotca_crl_stream_sign(st), IOTCA_E_USAGE);                    /* before end */
    ck_assert_int_eq(iotca_crl_stream_write(st, buf_sink, &out, NULL), IOTCA_E_USAGE); /* before sign */
    OK(iotca_crl_stream_end(st));
    ck_assert_int_eq(iotca_crl_stream_add(st, &e), IOTCA_E_USAGE); /* after end */
    OK(iotca_crl_stream_sign(st));
    OK(iotca_crl_stream_write(st, buf_sink, &out, NULL));
    iotca_crl_stream_free(st);
    iotca_crl_stream_free(NULL);
    /* the array signer names the bad entry and leaves out as it was */
    iotca_crl_entry bad[2] = {{iotca_slice_of(one, 1), 1700000000, IOTCA_REASON_UNSPECIFIED},
                              {iotca_slice_of(big, 21), 1700000000, IOTCA_REASON_UNSPECIFIED}};
    cs.entries = bad;
    cs.n_entries = 2;
    size_t before = out.len;
    ck_assert_int_eq(iotca_crl_sign(&cs, k, &out), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "entry 1"));
    ck_assert_uint_eq(out.len, before);
    iotca_key_free(k);
    iotca_buf_free(&name);
    iotca_buf_free(&out);
}
END_TEST

START_TEST(entry_parse_refusals) {
    /* serial 5, a time, and a reasonCode 11 (out of range) */
    static const uint8_t bad_reason[] = {0x30, 0x20, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3', '1', '1', '1', '4',
                                         '2', '2', '1', '3', '2', '0', 'Z', 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03,
                                         0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x0b};
    uint8_t buf[sizeof bad_reason + 1];
    memcpy(buf, bad_reason, sizeof bad_reason);
    buf[sizeof bad_reason - 1] = 11;
    iotca_slice in = iotca_slice_of(buf, sizeof bad_reason);
    iotca_crl_entry e;
    ck_assert_int_eq(iotca_crl_entry_next(&in, &e), IOTCA_E_PARSE);
    buf[sizeof bad_reason - 1] = 1;
    in = iotca_slice_of(buf, sizeof bad_reason);
    OK(iotca_crl_entry_next(&in, &e));
    ck_assert_int_eq(e.reason, IOTCA_REASON_KEY_COMPROMISE);
    ck_assert_uint_eq(in.len, 0);
    in = iotca_slice_of(buf, sizeof bad_reason - 4); /* truncated */
    ck_assert_int_eq(iotca_crl_entry_next(&in, &e), IOTCA_E_PARSE);
}
END_TEST

START_TEST(key_sign_digest) {
    iotca_key *k, *ed;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P384, &k));
    OK(iotca_key_generate(IOTCA_KEY_ED25519, &ed));
    ck_assert_uint_eq(iotca_key_digest_len(k), 48);
    ck_assert_uint_eq(iotca_key_digest_len(ed), 0);
    static const char msg[] = "to be signed";
    uint8_t d[48];
    /* SHA-384 of msg, computed the long way round: sign the message, then check a digest signature verifies too */
    iotca_buf spki = {0}, alg = {0}, sig = {0};
    OK(iotca_key_spki(k, &spki));
    OK(iotca_key_sigalg(k, &alg));
    FILE *p = popen("printf 'to be signed' | sha384sum | cut -c1-96", "r");
    ck_assert_ptr_nonnull(p);
    char hex[100] = "";
    ck_assert_ptr_nonnull(fgets(hex, sizeof hex, p));
    pclose(p);
    hex[96] = 0;
    iotca_buf raw = {0};
    OK(iotca_hex_decode(hex, &raw));
    memcpy(d, raw.data, 48);
    OK(iotca_key_sign_digest(k, d, 48, &sig));
    OK(iotca_verify(iotca_buf_slice(&spki), iotca_buf_slice(&alg), iotca_slice_of(msg, strlen(msg)),
                    iotca_buf_slice(&sig)));
    ck_assert_int_eq(iotca_key_sign_digest(k, d, 32, &sig), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_key_sign_digest(ed, d, 32, &sig), IOTCA_E_USAGE);
    iotca_key_free(k);
    iotca_key_free(ed);
    iotca_buf_free(&spki);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    iotca_buf_free(&raw);
}
END_TEST

int main(void) {
    Suite *s = suite_create("crl");
    TCase *tc = tcase_create("crl");
    tcase_set_timeout(tc, 240); /* generous for valgrind */
    tcase_add_test(tc, empty_crl_after_activation);
    tcase_add_test(tc, more_issuers_than_the_old_limit);
    tcase_add_test(tc, entries_match_store);
    tcase_add_test(tc, expired_revoked_dropped);
    tcase_add_test(tc, ocsp_tick_moves_the_mark);
    tcase_add_test(tc, number_monotonic_and_durable);
    tcase_add_test(tc, revocations_debounced);
    tcase_add_test(tc, retiring_and_retired_publish);
    tcase_add_test(tc, crl_open_refusals);
    tcase_add_test(tc, root_crl_import);
    tcase_add_test(tc, stream_small_p256);
    tcase_add_test(tc, stream_empty_p384);
    tcase_add_test(tc, stream_ed25519);
    tcase_add_test(tc, stream_spills_to_file);
    tcase_add_test(tc, stream_refusals);
    tcase_add_test(tc, entry_parse_refusals);
    tcase_add_test(tc, key_sign_digest);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    return status;
}
