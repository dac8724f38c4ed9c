/* Issuer lifecycle (SPEC §3): new key + CSR, import of the ceremony's certificate, and the chain served for
 * an issuer (the tick, tick.c, activates, expires and retires them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca_internal.h"
#include "iotca/file.h"
#include "iotca/pem.h"

iotca_rc iotca_ca_issuers(iotca_ca *ca, iotca_issuer_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_issuer_list(s, out, n);
}

iotca_rc iotca_ca_issuer_new(iotca_ca *ca, const char *group, const char *cn, int64_t *id, iotca_buf *csr_pem) {
    if (group == NULL || !*group) group = ca->default_group;
    IOTCA_ENSURE(strlen(group) < 48, IOTCA_E_USAGE, "group name too long");
    for (const char *p = group; *p; p++)
        IOTCA_ENSURE((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_', IOTCA_E_USAGE,
                     "group names use a-z, 0-9, '-' and '_'");
    iotca_rc rc = IOTCA_OK;
    iotca_store *s = NULL;
    iotca_issuer_rec *list = NULL, rec = {0};
    size_t n = 0, in_group = 0;
    iotca_key *key = NULL;
    iotca_buf name = {0}, csr = {0};
    char path[sizeof rec.key_ref] = "", cnbuf[64];
    IOTCA_TRY(ca_store(ca, &s));
    IOTCA_TRY(iotca_store_issuer_list(s, &list, &n));
    for (size_t i = 0; i < n; i++) in_group += strcmp(list[i].group, group) == 0;
    snprintf(rec.name, sizeof rec.name, "%s-%zu", group, in_group + 1);
    snprintf(rec.group, sizeof rec.group, "%s", group);
    /* A default subject no other issuer shares, in this database or any other (a rebuilt CA counting from 1
     * again, a second site): devices and the ceremony tell CA certificates apart by subject, and BearSSL and
     * ESP-IDF pick an anchor or issuer by its name alone. */
    uint8_t rnd[3];
    char day[16];
    struct tm tm;
    time_t now = time(NULL);
    IOTCA_TRY(iotca_random(rnd, sizeof rnd));
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(cnbuf, sizeof cnbuf, "%s Issuer %s %02x%02x%02x", group, day, rnd[0], rnd[1], rnd[2]);
    IOTCA_TRY(iotca_name_build(NULL, NULL, NULL, cn && *cn ? cn : cnbuf, &name));
    IOTCA_TRY(ca_key_new_issuer(ca, rec.name, &key, path, sizeof path)); /* a file, or a token's key pair */
    rc = iotca_csr_build(key, iotca_buf_slice(&name), &csr);
    memcpy(rec.key_ref, path, sizeof path);
    rec.csr = iotca_buf_borrow(csr.data, csr.len);
    if (rc == IOTCA_OK) rc = iotca_store_issuer_add(s, &rec, now);
    if (rc != IOTCA_OK) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", iotca_error_detail());
        (void)ca_key_discard(ca, path); /* no orphan key without a record */
        iotca_error_set(rc, "%s", keep);
        goto out;
    }
    *id = rec.id;
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE REQUEST", csr.data, csr.len, csr_pem));
out:
    iotca_issuer_recs_free(list, n);
    iotca_key_free(key);
    iotca_buf_free(&name);
    iotca_buf_free(&csr);
    return rc;
}

iotca_rc iotca_ca_issuer_import(iotca_ca *ca, int64_t id, iotca_slice cert_in, time_t activate_at) {
    iotca_rc rc = IOTCA_OK;
    iotca_store *s = NULL;
    iotca_issuer_rec rec = {0};
    iotca_cert *cert = NULL;
    iotca_csr *csr = NULL;
    time_t now = time(NULL);
    IOTCA_TRY(ca_store(ca, &s));
    IOTCA_TRY(iotca_store_issuer_get(s, id, &rec));
    IOTCA_CHECK(rec.state == IOTCA_ISSUER_PENDING, IOTCA_E_POLICY, "issuer %lld is %s, not pending",
                (long long)id, iotca_issuer_state_name(rec.state));
    rc = iotca_cert_parse(cert_in, &cert);
    IOTCA_CHECK(rc == IOTCA_OK, rc, "certificate: %s", iotca_error_detail());
    IOTCA_TRY(iotca_csr_parse(iotca_buf_slice(&rec.csr), &csr));
    const iotca_cert_info *ci = iotca_cert_get(cert);
    IOTCA_CHECK(iotca_slice_eq(ci->spki, iotca_csr_get(csr)->spki), IOTCA_E_POLICY,
                "the certificate is not for issuer %lld's key", (long long)id);
    IOTCA_CHECK(iotca_slice_eq(ci->subject, iotca_csr_get(csr)->subject), IOTCA_E_POLICY,
                "the certificate's subject differs from the CSR's");
    IOTCA_CHECK(ci->is_ca && (ci->key_usage & IOTCA_KU_KEY_CERT_SIGN), IOTCA_E_POLICY,
                "the certificate is not a CA certificate with keyCertSign");
    IOTCA_CHECK(ci->not_after > now, IOTCA_E_POLICY, "the certificate has expired");
    IOTCA_CHECK(ci->not_before <= now + 86400, IOTCA_E_POLICY, "the certificate is not valid until later");
    const iotca_cert *root = ca_root_of(ca, cert);
    IOTCA_CHECK(root != NULL, IOTCA_E_POLICY, "the certificate does not chain to a configured root");
    iotca_slice anchor = iotca_cert_get(root)->der;
    IOTCA_TRY(iotca_chain_verify_wolfssl(&anchor, 1, NULL, 0, ci->der));
    IOTCA_TRY(iotca_store_issuer_stage(s, id, ci->der, ci->not_before, ci->not_after,
                                       activate_at > 0 ? activate_at : now, now));
out:
    iotca_issuer_rec_free(&rec);
    iotca_cert_free(cert);
    iotca_csr_free(csr);
    return rc;
}

iotca_rc iotca_ca_chain_alternates(iotca_ca *ca, int64_t issuer_id, time_t now, iotca_buf *pems, size_t max,
                                   size_t *n) {
    *n = 0;
    if (ca->n_cross == 0) return IOTCA_OK;
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_issuer_rec rec = {0};
    IOTCA_GUARD(iotca_store_issuer_get(s, issuer_id, &rec));
    iotca_cert *cert = NULL;
    iotca_rc rc = rec.cert.len ? iotca_cert_parse(iotca_buf_slice(&rec.cert), &cert)
                               : iotca_error_set(IOTCA_E_POLICY, "issuer %lld has no certificate yet", (long long)issuer_id);
    const iotca_cert *root = rc == IOTCA_OK ? ca_root_of(ca, cert) : NULL;
    for (size_t i = 0; root && i < ca->n_cross && *n < max && rc == IOTCA_OK; i++) {
        const iotca_cert_info *x = iotca_cert_get(ca->cross[i]);
        if (ca->roots[ca->cross_root[i]] != root || now < x->not_before || now > x->not_after) continue;
        iotca_buf *out = &pems[*n];
        memset(out, 0, sizeof *out);
        rc = iotca_pem_encode("CERTIFICATE", rec.cert.data, rec.cert.len, out);
        if (rc == IOTCA_OK) rc = iotca_pem_encode("CERTIFICATE", x->der.p, x->der.len, out);
        if (rc == IOTCA_OK) (*n)++;
        else iotca_buf_free(out);
    }
    iotca_cert_free(cert);
    iotca_issuer_rec_free(&rec);
    if (rc != IOTCA_OK) {
        for (size_t i = 0; i < *n; i++) iotca_buf_free(&pems[i]);
        *n = 0;
    }
    return rc;
}

iotca_rc iotca_ca_chain(iotca_ca *ca, int64_t issuer_id, iotca_buf *pem) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    if (issuer_id == 0) IOTCA_GUARD(iotca_store_issuer_active(s, ca->default_group, &issuer_id));
    iotca_issuer_rec rec = {0};
    IOTCA_GUARD(iotca_store_issuer_get(s, issuer_id, &rec));
    iotca_rc rc = rec.cert.len ? iotca_pem_encode("CERTIFICATE", rec.cert.data, rec.cert.len, pem)
                               : iotca_error_set(IOTCA_E_POLICY, "issuer %lld has no certificate yet", (long long)issuer_id);
    iotca_issuer_rec_free(&rec);
    return rc;
}
