/* The ACME service's nonces, External Account Binding keys, request checks and accounts (ca_acme.h; RFC 8555
 * §6.2, §7.2, §7.3). Orders and finalization are in acme_orders.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"
#include "iotca/ca_acme.h"
#include "iotca/store_acme.h"

/* ---- nonces ---- */

iotca_rc iotca_ca_acme_nonce(iotca_ca *ca, char out[IOTCA_ACME_NONCE_LEN + 1]) {
    uint8_t raw[16];
    iotca_buf b = {0};
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    IOTCA_GUARD(iotca_random(raw, sizeof raw));
    iotca_rc rc = iotca_b64url_encode(iotca_slice_of(raw, sizeof raw), &b);
    if (rc == IOTCA_OK && b.len != IOTCA_ACME_NONCE_LEN) rc = iotca_error_set(IOTCA_E_INTERNAL, "nonce of %zu chars", b.len);
    if (rc == IOTCA_OK) {
        memcpy(out, b.data, IOTCA_ACME_NONCE_LEN + 1);
        rc = iotca_store_acme_nonce_add(s, out, time(NULL) + IOTCA_ACME_NONCE_TTL);
    }
    iotca_buf_free(&b);
    return rc;
}

/* ---- EAB keys ---- */

/* The secret every EAB key is made from: PBKDF2 of the key passphrase under a fixed label, derived once. */
static iotca_rc eab_master(iotca_ca *ca, uint8_t out[32]) {
    static const char label[] = "iotca ACME external account binding keys v1";
    iotca_rc rc = IOTCA_OK;
    pthread_mutex_lock(&ca->lock);
    if (!ca->acme_eab_ready) {
        rc = iotca_pbkdf2_sha256(iotca_buf_slice(&ca->pass), iotca_slice_of(label, sizeof label - 1),
                                 ca->kdf_iterations, ca->acme_eab_master, sizeof ca->acme_eab_master);
        ca->acme_eab_ready = rc == IOTCA_OK;
    }
    if (rc == IOTCA_OK) memcpy(out, ca->acme_eab_master, 32);
    pthread_mutex_unlock(&ca->lock);
    return rc;
}

/* The HMAC key of EAB key kid: HMAC-SHA256(master, kid). */
static iotca_rc eab_hmac_key(iotca_ca *ca, const char *kid, uint8_t key[32]) {
    uint8_t m[32];
    IOTCA_GUARD(eab_master(ca, m));
    iotca_rc rc = iotca_hmac_sha256(iotca_slice_of(m, sizeof m), iotca_slice_of(kid, strlen(kid)), key);
    iotca_wipe(m, sizeof m);
    return rc;
}

typedef struct eab_job {
    iotca_acme_eab_rec rec;
    const char *actor, *action;
} eab_job;

static iotca_rc eab_add_write(iotca_store *s, void *arg) {
    eab_job *j = arg;
    IOTCA_GUARD(iotca_store_acme_eab_add(s, &j->rec));
    iotca_audit_rec r;
    char detail[128];
    snprintf(detail, sizeof detail, "profile %s", j->rec.profile);
    ca_audit_fill(&r, j->actor, "acme.eab.create", j->rec.kid, "-", "ok", detail);
    return ca_audit_append(s, &r);
}

iotca_rc iotca_ca_acme_eab_create(iotca_ca *ca, const char *profile, const char *actor, iotca_acme_eab_key *out) {
    memset(out, 0, sizeof *out);
    char names[256];
    IOTCA_ENSURE(profile && iotca_ca_profile(ca, profile), IOTCA_E_USAGE, "no profile named '%s' (known profiles: %s)",
                 profile ? profile : "", iotca_ca_profile_names(ca, NULL, names, sizeof names));
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    uint8_t id[8], key[32];
    IOTCA_GUARD(iotca_random(id, sizeof id));
    eab_job j = {.actor = actor && *actor ? actor : "cli"};
    j.rec.created_at = time(NULL);
    j.rec.secret.secret = true;
    snprintf(j.rec.kid, sizeof j.rec.kid, "eab-%02x%02x%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2], id[3], id[4],
             id[5], id[6], id[7]);
    snprintf(j.rec.profile, sizeof j.rec.profile, "%s", profile);
    iotca_buf b64 = {.secret = true};
    iotca_rc rc = eab_hmac_key(ca, j.rec.kid, key);
    if (rc == IOTCA_OK) {
        iotca_sha256(iotca_slice_of(key, sizeof key), j.rec.secret_hash);
        /* the store's secret column holds the hash again: the key is made from the kid, never stored */
        rc = iotca_buf_append(&j.rec.secret, j.rec.secret_hash, sizeof j.rec.secret_hash);
    }
    if (rc == IOTCA_OK) rc = iotca_b64url_encode(iotca_slice_of(key, sizeof key), &b64);
    if (rc == IOTCA_OK) rc = iotca_store_group_write(ca->group, s, eab_add_write, &j);
    if (rc == IOTCA_OK) {
        snprintf(out->kid, sizeof out->kid, "%s", j.rec.kid);
        snprintf(out->hmac_key, sizeof out->hmac_key, "%s", (const char *)b64.data);
        snprintf(out->profile, sizeof out->profile, "%s", profile);
    }
    iotca_wipe(key, sizeof key);
    iotca_buf_free(&b64);
    iotca_acme_eab_rec_free(&j.rec);
    return rc;
}

iotca_rc iotca_ca_acme_eab_list(iotca_ca *ca, iotca_acme_eab_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_acme_eab_list(s, out, n);
}

static iotca_rc eab_revoke_write(iotca_store *s, void *arg) {
    eab_job *j = arg;
    IOTCA_GUARD(iotca_store_acme_eab_revoke(s, j->rec.kid, j->rec.revoked_at));
    iotca_audit_rec r;
    ca_audit_fill(&r, j->actor, "acme.eab.revoke", j->rec.kid, "-", "ok", "");
    return ca_audit_append(s, &r);
}

iotca_rc iotca_ca_acme_eab_revoke(iotca_ca *ca, const char *kid, const char *actor) {
    IOTCA_ENSURE(kid && *kid && strlen(kid) < 64, IOTCA_E_USAGE, "no such EAB key");
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    eab_job j = {.actor = actor && *actor ? actor : "cli", .rec = {.revoked_at = time(NULL)}};
    snprintf(j.rec.kid, sizeof j.rec.kid, "%s", kid);
    return iotca_store_group_write(ca->group, s, eab_revoke_write, &j);
}

/* ---- the envelope of every request ---- */

iotca_rc iotca_ca_acme_check(iotca_ca *ca, const iotca_jws *j, const char *url, int64_t account_id,
                             iotca_acme_account_rec *account) {
    IOTCA_ENSURE(ca && j && url && account, IOTCA_E_USAGE, "iotca_ca_acme_check: NULL argument");
    memset(account, 0, sizeof *account);
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    /* RFC 8555 §6.4: the url the client signed is the one it asked */
    IOTCA_ENSURE(strcmp(j->url, url) == 0, IOTCA_E_POLICY, "unauthorized: the JWS url is %.200s, not %.200s", j->url,
                 url);
    IOTCA_ENSURE(j->nonce[0], IOTCA_E_POLICY, "badNonce: the JWS has no nonce");
    IOTCA_GUARD(iotca_store_acme_nonce_take(s, j->nonce, time(NULL)));
    if (account_id == 0) return iotca_jws_verify(j, iotca_buf_slice(&j->jwk_spki));
    iotca_rc rc = iotca_store_acme_account_get(s, account_id, account);
    if (rc == IOTCA_E_USAGE) return iotca_error_set(IOTCA_E_POLICY, "accountDoesNotExist: no account %lld",
                                                   (long long)account_id);
    IOTCA_GUARD(rc);
    if (account->status != IOTCA_ACME_VALID)
        rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: account %lld is %s", (long long)account_id,
                             iotca_acme_status_name(account->status));
    if (rc == IOTCA_OK) rc = iotca_jws_verify(j, iotca_buf_slice(&account->spki));
    if (rc != IOTCA_OK) iotca_acme_account_rec_free(account);
    return rc;
}

/* ---- accounts ---- */

/* The EAB of a newAccount request: the binding's kid names an unrevoked, unused key of this profile whose MAC
 * checks (the key made again from the kid, and its hash compared with the stored one first). */
static iotca_rc eab_check(iotca_ca *ca, iotca_store *s, const iotca_jws *j, const iotca_acme_account_req *req,
                          char kid_out[64]) {
    iotca_eab e;
    iotca_rc rc = iotca_eab_parse(req->eab_json, req->url, iotca_buf_slice(&j->jwk_json), &e);
    if (rc == IOTCA_E_PARSE) rc = iotca_error_set(IOTCA_E_POLICY, "malformed: externalAccountBinding: %s",
                                                  iotca_error_detail());
    IOTCA_GUARD(rc);
    iotca_acme_eab_rec r = {0};
    uint8_t key[32], hash[32];
    rc = strlen(e.kid) < sizeof r.kid ? iotca_store_acme_eab_get(s, e.kid, &r) : iotca_error_set(IOTCA_E_USAGE, "x");
    if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: no EAB key %.64s", e.kid);
    if (rc == IOTCA_OK && r.revoked_at) rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: EAB key %s is revoked", r.kid);
    if (rc == IOTCA_OK && r.account_id)
        rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: EAB key %s is bound to another account already", r.kid);
    if (rc == IOTCA_OK && strcmp(r.profile, req->profile) != 0)
        rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: EAB key %s is for profile %s, not %s", r.kid, r.profile,
                             req->profile);
    if (rc == IOTCA_OK) rc = eab_hmac_key(ca, r.kid, key);
    if (rc == IOTCA_OK) {
        iotca_sha256(iotca_slice_of(key, sizeof key), hash);
        if (memcmp(hash, r.secret_hash, sizeof hash) != 0) /* the passphrase changed since the key was made */
            rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: EAB key %s no longer matches this CA's secret", r.kid);
    }
    if (rc == IOTCA_OK && iotca_eab_verify(&e, iotca_slice_of(key, sizeof key)) != IOTCA_OK)
        rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: the external account binding's MAC does not verify");
    if (rc == IOTCA_OK) snprintf(kid_out, 64, "%s", r.kid);
    iotca_wipe(key, sizeof key);
    iotca_acme_eab_rec_free(&r);
    iotca_eab_free(&e);
    return rc;
}

iotca_rc iotca_ca_acme_account_new(iotca_ca *ca, const iotca_jws *j, const iotca_acme_account_req *req,
                                   iotca_acme_account_rec *out, bool *created) {
    IOTCA_ENSURE(ca && j && req && req->profile && req->url && out && created && j->jwk_spki.len, IOTCA_E_USAGE,
                 "iotca_ca_acme_account_new: bad argument");
    memset(out, 0, sizeof *out);
    *created = false;
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_rc rc = iotca_store_acme_account_find(s, j->thumbprint, out);
    if (rc == IOTCA_OK) return IOTCA_OK; /* §7.3.1: the account of this key */
    if (rc != IOTCA_E_USAGE) return rc;
    IOTCA_ENSURE(!req->only_existing, IOTCA_E_POLICY, "accountDoesNotExist: no account has this key");
    const char *contact = req->contact_json ? req->contact_json : "[]";
    IOTCA_ENSURE(strlen(contact) < sizeof out->contact, IOTCA_E_POLICY, "malformed: the contact list is over %zu bytes",
                 sizeof out->contact - 1);
    IOTCA_ENSURE(req->eab_json.len > 0 || !req->eab_required, IOTCA_E_POLICY,
                 "externalAccountRequired: profile %s makes accounts with an external account binding only "
                 "(iotcad acme eab create --profile %s)",
                 req->profile, req->profile);
    iotca_acme_account_rec a = {.created_at = time(NULL)};
    if (req->eab_json.len > 0) IOTCA_GUARD(eab_check(ca, s, j, req, a.eab_kid));
    memcpy(a.thumbprint, j->thumbprint, 32);
    snprintf(a.profile, sizeof a.profile, "%s", req->profile);
    snprintf(a.contact, sizeof a.contact, "%s", contact);
    IOTCA_GUARD(iotca_buf_append(&a.spki, j->jwk_spki.data, j->jwk_spki.len));
    int64_t existing = 0;
    rc = iotca_store_acme_account_add(s, &a, &existing);
    iotca_acme_account_rec_free(&a);
    if (rc == IOTCA_E_POLICY && existing) /* made meanwhile by a racing request with this key */
        return iotca_store_acme_account_get(s, existing, out);
    IOTCA_GUARD(rc);
    *created = true;
    return iotca_store_acme_account_get(s, a.id, out);
}

iotca_rc iotca_ca_acme_account_update(iotca_ca *ca, int64_t id, const char *contact_json, bool deactivate) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_rc rc = iotca_store_acme_account_update(s, id, contact_json,
                                                  deactivate ? IOTCA_ACME_DEACTIVATED : IOTCA_ACME_VALID);
    if (rc == IOTCA_E_USAGE && contact_json)
        rc = iotca_error_set(IOTCA_E_POLICY, "malformed: %s", iotca_error_detail());
    return rc;
}

iotca_rc iotca_ca_acme_key_change(iotca_ca *ca, const iotca_acme_account_rec *account, const char *account_url,
                                  const char *url, iotca_slice inner, int64_t *other) {
    IOTCA_ENSURE(ca && account && account_url && url && other, IOTCA_E_USAGE, "iotca_ca_acme_key_change: NULL");
    *other = 0;
    iotca_jws in;
    iotca_rc rc = iotca_jws_parse(inner, &in);
    if (rc == IOTCA_E_PARSE) return iotca_error_set(IOTCA_E_PARSE, "malformed: the inner JWS: %s", iotca_error_detail());
    IOTCA_GUARD(rc);
    iotca_buf old = {0};
    uint8_t tp[32];
    /* §7.3.5: the inner JWS has a jwk (the new key), no nonce, the same url, and verifies with its key */
    if (in.kid[0] || in.nonce[0]) rc = iotca_error_set(IOTCA_E_PARSE, "malformed: the inner JWS takes a jwk and no nonce");
    else if (strcmp(in.url, url) != 0) rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: the inner JWS url is not %s", url);
    else if (iotca_jws_verify(&in, iotca_buf_slice(&in.jwk_spki)) != IOTCA_OK)
        rc = iotca_error_set(IOTCA_E_PARSE, "malformed: the inner JWS signature does not verify");
    /* its payload: {"account": the kid, "oldKey": the account's current key} */
    if (rc == IOTCA_OK) rc = iotca_jwk_from_spki(iotca_buf_slice(&account->spki), &old, tp);
    if (rc == IOTCA_OK)
        rc = iotca_acme_key_change_payload_check(iotca_buf_slice(&in.payload), account_url, (const char *)old.data);
    iotca_store *s = NULL;
    if (rc == IOTCA_OK) rc = ca_store(ca, &s);
    if (rc == IOTCA_OK) {
        rc = iotca_store_acme_account_rekey(s, account->id, iotca_buf_slice(&in.jwk_spki), in.thumbprint);
        if (rc == IOTCA_E_POLICY && strstr(iotca_error_detail(), "conflict")) {
            iotca_acme_account_rec o;
            if (iotca_store_acme_account_find(s, in.thumbprint, &o) == IOTCA_OK) {
                *other = o.id;
                iotca_acme_account_rec_free(&o);
            }
            rc = iotca_error_set(IOTCA_E_POLICY, "conflict: another account has the new key");
        }
    }
    iotca_buf_free(&old);
    iotca_jws_free(&in);
    return rc;
}
