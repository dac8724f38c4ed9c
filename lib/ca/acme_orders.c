/* The ACME service's orders (ca_acme.h; RFC 8555 §7.1.3, §7.4, §7.5): made under the profile's name rules before
 * any CSR, read back only by the account that made them, and finalized through the issuance cycle once every
 * authorization is valid, the CSR naming exactly what was ordered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"
#include "iotca/ca_acme.h"
#include "iotca/store_acme.h"

/* A random challenge token: base64url of 16 CSPRNG bytes (§8.3: at least 128 bits). */
static iotca_rc new_token(char out[64]) {
    uint8_t raw[16];
    iotca_buf b = {0};
    IOTCA_GUARD(iotca_random(raw, sizeof raw));
    iotca_rc rc = iotca_b64url_encode(iotca_slice_of(raw, sizeof raw), &b);
    if (rc == IOTCA_OK) snprintf(out, 64, "%s", (const char *)b.data);
    iotca_buf_free(&b);
    return rc;
}

/* The identifiers as a JSON array text, as §7.1.3 shows them (malloc'd); values are DNS names iotca checked. */
static char *identifiers_json(const iotca_acme_identifier *ids, size_t n) {
    size_t cap = 2 + n * (sizeof ids[0].value + 32);
    char *out = malloc(cap), *p = out;
    if (out == NULL) return NULL;
    p += snprintf(p, cap, "[");
    for (size_t i = 0; i < n; i++)
        p += snprintf(p, cap - (size_t)(p - out), "%s{\"type\":\"%s\",\"value\":\"%s\"}", i ? "," : "", ids[i].type,
                      ids[i].value);
    snprintf(p, cap - (size_t)(p - out), "]");
    return out;
}

/* Checks the identifiers against the profile and fills the names (lower-cased, duplicates refused). */
static iotca_rc check_identifiers(const iotca_profile *p, const iotca_acme_identifier *ids, size_t n,
                                  iotca_names *names) {
    memset(names, 0, sizeof *names);
    IOTCA_ENSURE(n >= 1, IOTCA_E_POLICY, "malformed: an order names at least one identifier");
    IOTCA_ENSURE(n <= IOTCA_ACME_MAX_IDENTIFIERS && n <= IOTCA_SPEC_MAX_NAMES, IOTCA_E_POLICY,
                 "rejectedIdentifier: %zu identifiers, at most %d in one order", n,
                 IOTCA_ACME_MAX_IDENTIFIERS < IOTCA_SPEC_MAX_NAMES ? IOTCA_ACME_MAX_IDENTIFIERS : IOTCA_SPEC_MAX_NAMES);
    for (size_t i = 0; i < n; i++) {
        IOTCA_ENSURE(strcmp(ids[i].type, "dns") == 0, IOTCA_E_POLICY,
                     "unsupportedIdentifier: identifier type '%.8s' (iotca's ACME orders DNS names)", ids[i].type);
        size_t len = strnlen(ids[i].value, sizeof ids[i].value);
        IOTCA_ENSURE(len <= IOTCA_NAME_MAX, IOTCA_E_POLICY, "rejectedIdentifier: a name over %d bytes", IOTCA_NAME_MAX);
        char *d = names->dns[names->n_dns];
        memcpy(d, ids[i].value, len); /* fits: len <= IOTCA_NAME_MAX, the array's size less its NUL */
        d[len] = 0;
        for (char *c = d; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        for (size_t k = 0; k < names->n_dns; k++)
            IOTCA_ENSURE(strcmp(names->dns[k], d) != 0, IOTCA_E_POLICY, "malformed: %s is ordered twice", d);
        names->n_dns++;
    }
    iotca_rc rc = iotca_policy_check_names(p, names);
    if (rc == IOTCA_E_POLICY) rc = iotca_error_set(IOTCA_E_POLICY, "rejectedIdentifier: %s", iotca_error_detail());
    return rc;
}

iotca_rc iotca_ca_acme_order_new(iotca_ca *ca, const iotca_acme_account_rec *account, const char *directory,
                                 const char *variant, const iotca_acme_identifier *ids, size_t n, const char *replaces,
                                 iotca_acme_order_rec *out) {
    IOTCA_ENSURE(ca && account && directory && (ids || n == 0) && out, IOTCA_E_USAGE, "iotca_ca_acme_order_new: NULL");
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(strcmp(account->profile, directory) == 0, IOTCA_E_POLICY,
                 "unauthorized: account %lld belongs to profile %s, not %s", (long long)account->id, account->profile,
                 directory);
    const char *profile = variant ? variant : directory;
    const iotca_profile *p = iotca_ca_profile(ca, profile);
    IOTCA_ENSURE(p != NULL, IOTCA_E_POLICY, "unauthorized: profile %s is no longer configured", profile);
    if (replaces) IOTCA_GUARD(iotca_ca_acme_replaces_check(ca, account->id, replaces));
    iotca_names *names = malloc(sizeof *names);
    IOTCA_ENSURE(names != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = check_identifiers(p, ids, n, names);
    iotca_acme_authz_rec *az = rc == IOTCA_OK ? calloc(n, sizeof *az) : NULL;
    if (rc == IOTCA_OK && az == NULL) rc = iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    time_t now = time(NULL);
    for (size_t i = 0; rc == IOTCA_OK && i < n; i++) {
        snprintf(az[i].type, sizeof az[i].type, "dns");
        snprintf(az[i].value, sizeof az[i].value, "%s", names->dns[i]);
        az[i].expires_at = now + IOTCA_ACME_AUTHZ_TTL;
        az[i].n_challenges = 3;
        az[i].challenges[0].type = IOTCA_ACME_HTTP_01;
        az[i].challenges[1].type = IOTCA_ACME_DNS_01;
        az[i].challenges[2].type = IOTCA_ACME_TLS_ALPN_01;
        for (size_t k = 0; k < 3 && rc == IOTCA_OK; k++) rc = new_token(az[i].challenges[k].token);
    }
    iotca_acme_order_rec o = {.account_id = account->id, .created_at = now, .expires_at = now + IOTCA_ACME_ORDER_TTL};
    snprintf(o.profile, sizeof o.profile, "%s", profile);
    if (replaces) snprintf(o.replaces, sizeof o.replaces, "%s", replaces);
    if (rc == IOTCA_OK && (o.identifiers = identifiers_json(ids, n)) == NULL)
        rc = iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    iotca_store *s = NULL;
    if (rc == IOTCA_OK) rc = ca_store(ca, &s);
    if (rc == IOTCA_OK) rc = iotca_store_acme_order_add(s, &o, az, n);
    if (rc == IOTCA_OK) rc = iotca_store_acme_order_get(s, o.id, out);
    iotca_acme_order_rec_free(&o);
    free(az);
    free(names);
    return rc;
}

iotca_rc iotca_ca_acme_order_get(iotca_ca *ca, int64_t account_id, int64_t id, iotca_acme_order_rec *out) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    IOTCA_GUARD(iotca_store_acme_order_get(s, id, out));
    if (out->account_id == account_id) return IOTCA_OK;
    iotca_acme_order_rec_free(out);
    IOTCA_BAIL(IOTCA_E_POLICY, "unauthorized: order %lld belongs to another account", (long long)id);
}

iotca_rc iotca_ca_acme_order_authzs(iotca_ca *ca, int64_t order_id, iotca_acme_authz_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_acme_order_authzs(s, order_id, out, n);
}

iotca_rc iotca_ca_acme_authz_get(iotca_ca *ca, int64_t account_id, int64_t id, iotca_acme_authz_rec *out) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    IOTCA_GUARD(iotca_store_acme_authz_get(s, id, out));
    iotca_acme_order_rec o;
    IOTCA_GUARD(iotca_store_acme_order_get(s, out->order_id, &o));
    bool mine = o.account_id == account_id;
    iotca_acme_order_rec_free(&o);
    IOTCA_ENSURE(mine, IOTCA_E_POLICY, "unauthorized: authorization %lld belongs to another account", (long long)id);
    return IOTCA_OK;
}

iotca_rc iotca_ca_acme_order_list(iotca_ca *ca, int64_t account_id, int64_t **ids, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_acme_order_list(s, account_id, 1000, ids, n);
}

/* A problem document (RFC 7807) as JSON text for the store's error columns: the ACME error type and a detail with
 * the characters JSON would need escaped replaced. */
static void problem_json(const char *type, const char *detail, char out[1024]) {
    char why[700];
    snprintf(why, sizeof why, "%s", detail);
    for (char *c = why; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) *c = '\'';
    snprintf(out, 1024, "{\"type\":\"urn:ietf:params:acme:error:%s\",\"detail\":\"%s\"}", type, why);
}

/* The CSR asks for exactly the order's names (§7.4: "the CSR MUST indicate the exact same set of requested
 * identifiers as the initial newOrder request"), in any order, a CN among them if there is one. */
static iotca_rc csr_matches(iotca_slice csr_der, const iotca_acme_authz_rec *az, size_t n) {
    iotca_csr *csr = NULL;
    iotca_rc rc = iotca_csr_parse(csr_der, &csr);
    if (rc != IOTCA_OK) return iotca_error_set(IOTCA_E_POLICY, "badCSR: %s", iotca_error_detail());
    iotca_names *names = malloc(sizeof *names);
    rc = names ? iotca_csr_names(csr, names) : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    if (rc == IOTCA_OK && (names->n_ips || names->n_uris || names->n_other))
        rc = iotca_error_set(IOTCA_E_POLICY, "badCSR: the CSR asks for names other than the order's DNS names");
    if (rc == IOTCA_OK && names->n_dns != n)
        rc = iotca_error_set(IOTCA_E_POLICY, "badCSR: the CSR asks for %zu DNS names, the order has %zu", names->n_dns, n);
    for (size_t i = 0; rc == IOTCA_OK && i < names->n_dns; i++) {
        bool found = false;
        for (size_t k = 0; k < n && !found; k++) found = strcasecmp(names->dns[i], az[k].value) == 0;
        if (!found) rc = iotca_error_set(IOTCA_E_POLICY, "badCSR: %s is not in the order", names->dns[i]);
    }
    free(names);
    iotca_csr_free(csr);
    return rc;
}

iotca_rc iotca_ca_acme_finalize(iotca_ca *ca, const iotca_acme_account_rec *account, int64_t order_id,
                                iotca_slice csr_der, const iotca_issue_audit *audit, iotca_acme_order_rec *out) {
    IOTCA_ENSURE(ca && account && audit && out, IOTCA_E_USAGE, "iotca_ca_acme_finalize: NULL argument");
    memset(out, 0, sizeof *out);
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_acme_order_rec o;
    IOTCA_GUARD(iotca_ca_acme_order_get(ca, account->id, order_id, &o));
    iotca_acme_status st = o.status;
    char profile[64];
    snprintf(profile, sizeof profile, "%s", o.profile);
    iotca_acme_order_rec_free(&o);
    IOTCA_ENSURE(st == IOTCA_ACME_READY, IOTCA_E_POLICY, "orderNotReady: order %lld is %s", (long long)order_id,
                 iotca_acme_status_name(st));
    iotca_acme_authz_rec *az = NULL;
    size_t n = 0;
    IOTCA_GUARD(iotca_store_acme_order_authzs(s, order_id, &az, &n));
    iotca_rc rc = csr_matches(csr_der, az, n);
    free(az);
    IOTCA_GUARD(rc); /* a CSR that does not fit leaves the order ready for another try */
    /* ready -> processing: of two finalize requests, one goes on */
    rc = iotca_store_acme_order_transition(s, order_id, IOTCA_ACME_READY, IOTCA_ACME_PROCESSING, NULL, NULL);
    if (rc == IOTCA_E_POLICY) rc = iotca_error_set(IOTCA_E_POLICY, "orderNotReady: %s", iotca_error_detail());
    IOTCA_GUARD(rc);
    iotca_issued issued = {0};
    rc = iotca_ca_issue_audited(ca, csr_der, profile, 0, audit, &issued);
    if (rc == IOTCA_OK) {
        rc = iotca_store_acme_order_transition(s, order_id, IOTCA_ACME_PROCESSING, IOTCA_ACME_VALID, NULL, issued.serial);
    } else if (rc == IOTCA_E_POLICY || rc == IOTCA_E_PARSE || rc == IOTCA_E_CRYPTO || rc == IOTCA_E_USAGE) {
        /* the profile refused the CSR: the order fails with it (§7.4), and the client is told why */
        char problem[1024], detail[600];
        snprintf(detail, sizeof detail, "%s", iotca_error_detail());
        problem_json("badCSR", detail, problem);
        iotca_store_acme_order_transition(s, order_id, IOTCA_ACME_PROCESSING, IOTCA_ACME_INVALID, problem, NULL);
        rc = iotca_error_set(IOTCA_E_POLICY, "badCSR: %s", detail);
    } else {
        /* the CA could not issue (no issuer, storage): back to ready, the client may finalize again */
        iotca_rc failed = rc;
        iotca_store_acme_order_transition(s, order_id, IOTCA_ACME_PROCESSING, IOTCA_ACME_READY, NULL, NULL);
        rc = failed;
    }
    iotca_issued_free(&issued);
    IOTCA_GUARD(rc);
    return iotca_store_acme_order_get(s, order_id, out);
}

iotca_rc iotca_ca_acme_challenge_respond(iotca_ca *ca, const iotca_acme_account_rec *account, int64_t id,
                                         iotca_acme_validator validate, void *ctx, iotca_acme_challenge_rec *out) {
    IOTCA_ENSURE(ca && account && validate && out, IOTCA_E_USAGE, "iotca_ca_acme_challenge_respond: NULL argument");
    memset(out, 0, sizeof *out);
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    IOTCA_GUARD(iotca_store_acme_challenge_get(s, id, out));
    iotca_acme_authz_rec az;
    IOTCA_GUARD(iotca_ca_acme_authz_get(ca, account->id, out->authz_id, &az));
    if (out->status != IOTCA_ACME_PENDING) return IOTCA_OK; /* §7.5.1: asked again, it answers as it stands */
    iotca_rc rc = iotca_store_acme_challenge_start(s, id, time(NULL));
    if (rc == IOTCA_E_POLICY) rc = iotca_error_set(IOTCA_E_POLICY, "malformed: %s", iotca_error_detail());
    IOTCA_GUARD(rc);
    iotca_buf ka = {0};
    uint8_t tp[32];
    iotca_buf jwk = {0};
    rc = iotca_jwk_from_spki(iotca_buf_slice(&account->spki), &jwk, tp);
    if (rc == IOTCA_OK) rc = iotca_acme_key_authorization(out->token, tp, &ka);
    iotca_buf_free(&jwk);
    iotca_rc v = rc == IOTCA_OK ? validate(ctx, out->type, az.value, out->token, (const char *)ka.data) : rc;
    iotca_buf_free(&ka);
    char problem[1024] = "";
    if (v != IOTCA_OK) {
        /* the detail "type: why" becomes the challenge's problem document (§7.1.5 "error") */
        const char *d = iotca_error_detail(), *colon = strchr(d, ':');
        char type[32] = "connection";
        if (colon && colon - d < (long)sizeof type && colon[1] == ' ') {
            snprintf(type, sizeof type, "%.*s", (int)(colon - d), d);
            d = colon + 2;
        }
        problem_json(type, d, problem);
    }
    IOTCA_GUARD(iotca_store_acme_challenge_finish(s, id, v == IOTCA_OK, v == IOTCA_OK ? NULL : problem, time(NULL)));
    return iotca_store_acme_challenge_get(s, id, out);
}

iotca_rc iotca_ca_acme_cert_owner(iotca_ca *ca, int64_t account_id, const char *serial) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    int64_t owner = 0;
    IOTCA_GUARD(iotca_store_acme_serial_account(s, serial, &owner, NULL));
    IOTCA_ENSURE(owner == account_id, IOTCA_E_POLICY, "unauthorized: certificate %s was ordered by another account",
                 serial);
    return IOTCA_OK;
}

iotca_rc iotca_ca_acme_authz_deactivate(iotca_ca *ca, int64_t account_id, int64_t id) {
    iotca_acme_authz_rec a;
    IOTCA_GUARD(iotca_ca_acme_authz_get(ca, account_id, id, &a)); /* this account's */
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_rc rc = iotca_store_acme_authz_deactivate(s, id);
    if (rc == IOTCA_E_POLICY) rc = iotca_error_set(IOTCA_E_POLICY, "malformed: %s", iotca_error_detail());
    return rc;
}

iotca_rc iotca_ca_acme_cert_origin(iotca_ca *ca, const char *serial, int64_t *account_id, int64_t *order_id) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_acme_serial_account(s, serial, account_id, order_id);
}
