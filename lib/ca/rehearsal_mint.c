/* Rehearsal certificates (issue 24): the lab hierarchy that the failure scenarios need, the leaves every
 * scenario presents, and the revoked leaf's OCSP staple. Nothing here touches the store. */
#include <stdio.h>
#include <string.h>

#include "iotca/ocsp.h"
#include "iotca/pem.h"
#include "rehearsal_int.h"

#define LAB_YEARS (5L * 365 * 86400)
#define BACKDATE 300 /* leaves start a little in the past: a bench device's clock may lag */

void rh_ca_free(rh_ca *c) {
    iotca_buf_free(&c->der);
    iotca_cert_free(c->cert);
    iotca_key_free(c->key);
    memset(c, 0, sizeof *c);
}

/* A CA certificate with subject (DER), signed by `by` (NULL: self-signed), into c with a fresh P-256 key.
 * permit: a DNS subtree for a critical nameConstraints extension, or NULL. */
static iotca_rc make_ca(rh_ca *c, iotca_slice subject, const rh_ca *by, const char *permit, time_t now) {
    rh_ca_free(c);
    uint8_t serial[IOTCA_SERIAL_LEN];
    iotca_buf spki = {0};
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &c->key));
    IOTCA_TRY(iotca_key_spki(c->key, &spki));
    IOTCA_TRY(iotca_serial_random(serial));
    iotca_cert_spec spec = {0};
    spec.serial = iotca_slice_of(serial, sizeof serial);
    spec.subject = subject;
    spec.issuer = by ? iotca_cert_get(by->cert)->subject : subject;
    spec.issuer_skid = by ? iotca_cert_get(by->cert)->skid : (iotca_slice){0};
    spec.spki = iotca_buf_slice(&spki);
    spec.not_before = now - BACKDATE;
    spec.not_after = now + LAB_YEARS;
    spec.is_ca = true;
    spec.path_len = by ? 0 : 1;
    spec.key_usage = IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN;
    if (permit) {
        spec.nc_mode = IOTCA_NC_CRITICAL;
        spec.permit_dns[0] = permit;
        spec.n_permit_dns = 1;
    }
    IOTCA_TRY(iotca_cert_sign(&spec, by ? by->key : c->key, &c->der));
    IOTCA_TRY(iotca_cert_parse(iotca_buf_slice(&c->der), &c->cert));
out:
    iotca_buf_free(&spki);
    if (rc != IOTCA_OK) rh_ca_free(c);
    return rc;
}

/* The domain a name lives in ("bench.example.com" -> "example.com"; a one-label name stays itself): what the
 * critical-nameConstraints intermediate permits, so the leaf is inside it and only the criticality is on test. */
static const char *parent_domain(const char *name) {
    const char *dot = strchr(name, '.');
    return dot && strchr(dot + 1, '.') ? dot + 1 : name;
}

iotca_rc rh_lab_make(struct ca_rehearsal *rh, time_t now) {
    if (rh->lab_root.cert && rh->nc_int.cert) return IOTCA_OK;
    iotca_buf root_name = {0}, nc_name = {0};
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(iotca_name_build(NULL, "iotca rehearsal lab", NULL, "iotca rehearsal lab root (trust only on a bench)",
                               &root_name));
    IOTCA_TRY(iotca_name_build(NULL, "iotca rehearsal lab", NULL, "iotca rehearsal critical nameConstraints CA",
                               &nc_name));
    IOTCA_TRY(make_ca(&rh->lab_root, iotca_buf_slice(&root_name), NULL, NULL, now));
    IOTCA_TRY(make_ca(&rh->nc_int, iotca_buf_slice(&nc_name), &rh->lab_root, parent_domain(rh->name), now));
out:
    iotca_buf_free(&root_name);
    iotca_buf_free(&nc_name);
    return rc;
}

iotca_rc rh_impostor_make(struct ca_rehearsal *rh, const iotca_cert *root, const iotca_cert *issuer, time_t now) {
    IOTCA_GUARD(make_ca(&rh->imp_root, iotca_cert_get(root)->subject, NULL, NULL, now));
    return make_ca(&rh->imp_int, iotca_cert_get(issuer)->subject, &rh->imp_root, NULL, now);
}

iotca_rc rh_leaf(const struct ca_rehearsal *rh, const char *scenario, const rh_signer *sg, time_t nb, time_t na,
                 iotca_buf *der, iotca_buf *key_pem, char serial[41]) {
    const iotca_cert *issuer = sg->is ? sg->is->cert : sg->lab->cert;
    const iotca_key *signer = sg->is ? sg->is->key : sg->lab->key;
    const iotca_cert_info *ii = iotca_cert_get(issuer);
    if (na > ii->not_after) na = ii->not_after; /* no leaf outlives its issuer (SPEC §3) */
    iotca_key *key = NULL;
    iotca_buf spki = {0}, subject = {0}, alg = {0}, tbs = {0}, pk = {.secret = true}, hex = {0};
    char org[96];
    uint8_t sn[IOTCA_SERIAL_LEN];
    iotca_rc rc = IOTCA_OK;
    snprintf(org, sizeof org, "iotca rehearsal %s", scenario);
    IOTCA_TRY(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &key));
    IOTCA_TRY(iotca_key_spki(key, &spki));
    IOTCA_TRY(iotca_name_build(NULL, org, NULL, rh->name, &subject));
    IOTCA_TRY(iotca_serial_random(sn));
    iotca_cert_spec spec = {0};
    spec.serial = iotca_slice_of(sn, sizeof sn);
    spec.issuer = ii->subject;
    spec.issuer_skid = ii->skid;
    spec.subject = iotca_buf_slice(&subject);
    spec.spki = iotca_buf_slice(&spki);
    spec.not_before = nb;
    spec.not_after = na;
    spec.path_len = -1;
    spec.key_usage = IOTCA_KU_DIGITAL_SIGNATURE;
    spec.eku = IOTCA_EKU_SERVER;
    spec.dns[0] = rh->name;
    spec.n_dns = 1;
    IOTCA_TRY(iotca_key_sigalg(signer, &alg));
    IOTCA_TRY(iotca_cert_tbs(&spec, iotca_buf_slice(&alg), &tbs));
    if (sg->is) {
        /* the lint vouches for what a CA issuer's key signs; an expired leaf breaks its validity rule on
         * purpose, so that one is only built from the same spec, and the signature is still verified */
        if (na > nb && nb >= ii->not_before) IOTCA_TRY(iotca_lint_leaf(iotca_buf_slice(&tbs), issuer, &spec));
        IOTCA_TRY(ca_issuer_sign_tbs(sg->is, iotca_buf_slice(&tbs), der));
    } else {
        IOTCA_TRY(iotca_cert_sign_tbs(iotca_buf_slice(&tbs), signer, der));
    }
    IOTCA_TRY(iotca_key_to_pkcs8(key, &pk));
    IOTCA_TRY(iotca_pem_encode("PRIVATE KEY", pk.data, pk.len, key_pem));
    IOTCA_TRY(iotca_hex_encode(sn, sizeof sn, &hex));
    snprintf(serial, 41, "%s", (const char *)hex.data);
out:
    iotca_key_free(key);
    iotca_buf_free(&spki);
    iotca_buf_free(&subject);
    iotca_buf_free(&alg);
    iotca_buf_free(&tbs);
    iotca_buf_free(&pk);
    iotca_buf_free(&hex);
    return rc;
}

iotca_rc rh_ocsp_revoked(iotca_ca *ca, ca_issuer *is, const char *serial, time_t at, time_t now, iotca_buf *out) {
    iotca_ocsp_certid id = {0};
    id.hash = IOTCA_OCSP_SHA1;
    IOTCA_GUARD(iotca_ocsp_issuer_hashes(is->cert, IOTCA_OCSP_SHA1, id.name_hash, id.key_hash, &id.hash_len));
    iotca_buf sn = {0};
    IOTCA_GUARD(iotca_hex_decode(serial, &sn));
    IOTCA_ENSURE(sn.len >= 1 && sn.len <= sizeof id.serial, IOTCA_E_INTERNAL, "rehearsal serial %s", serial);
    memcpy(id.serial, sn.data, sn.len);
    id.serial_len = sn.len;
    iotca_buf_free(&sn);
    /* RFC 6960 §4.2.2.2: the issuer itself may sign; cessationOfOperation (5): the leaf was never in use */
    iotca_ocsp_answer a = {&id, IOTCA_CERT_REVOKED, at, 5, now - BACKDATE, now + 3600};
    pthread_mutex_lock(&ca->lock); /* the issuer's main key signs under the CA's lock (ca_internal.h) */
    iotca_rc rc = iotca_ocsp_response_sign(&a, is->cert, is->key, now, out);
    pthread_mutex_unlock(&ca->lock);
    return rc;
}
