/* EST's CSR attributes (RFC 7030 §4.5.2, as RFC 9148 reads it) from a profile: what a device's CSR must hold
 * for the profile to accept it. */
#include "iotca/der.h"
#include "iotca/oid.h"
#include "iotca/policy.h"

/* Attribute { type, SET { one value } } */
static void attribute_oid(iotca_der *w, const uint8_t *type, size_t tn, const uint8_t *value, size_t vn) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, type, tn);
    iotca_der_begin(w, IOTCA_DER_SET);
    iotca_der_oid(w, value, vn);
    iotca_der_end(w);
    iotca_der_end(w);
}

static void attribute_int(iotca_der *w, const uint8_t *type, size_t tn, int64_t value) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, type, tn);
    iotca_der_begin(w, IOTCA_DER_SET);
    iotca_der_int(w, value);
    iotca_der_end(w);
    iotca_der_end(w);
}

#define OIDARG(o) o, sizeof o

iotca_rc iotca_profile_csrattrs(const iotca_profile *p, iotca_buf *der) {
    IOTCA_ENSURE(p && der, IOTCA_E_USAGE, "iotca_profile_csrattrs: NULL argument");
    iotca_der w;
    iotca_der_init(&w, der);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    bool ec = false, rsa = false;
    /* the key types the profile takes: a curve for EC, a size for RSA (RFC 9148 §3.1's examples) */
    if (p->key_types & (1u << IOTCA_KEY_ECDSA_P256))
        ec = true, attribute_oid(&w, OIDARG(IOTCA_OID_EC_PUBLIC_KEY), OIDARG(IOTCA_OID_P256));
    if (p->key_types & (1u << IOTCA_KEY_ECDSA_P384))
        ec = true, attribute_oid(&w, OIDARG(IOTCA_OID_EC_PUBLIC_KEY), OIDARG(IOTCA_OID_P384));
    if (p->key_types & (1u << IOTCA_KEY_RSA_3072)) rsa = true, attribute_int(&w, OIDARG(IOTCA_OID_RSA), 3072);
    if (p->key_types & (1u << IOTCA_KEY_RSA_4096)) rsa = true, attribute_int(&w, OIDARG(IOTCA_OID_RSA), 4096);
    if (p->key_types & (1u << IOTCA_KEY_ED25519)) iotca_der_oid(&w, OIDARG(IOTCA_OID_ED25519));
    /* the signature the CSR is made with */
    if (ec) iotca_der_oid(&w, OIDARG(IOTCA_OID_ECDSA_SHA256));
    if (rsa) iotca_der_oid(&w, OIDARG(IOTCA_OID_RSA_SHA256));
    /* names come in a subjectAltName extension request */
    if (p->require_san) iotca_der_oid(&w, OIDARG(IOTCA_OID_EXTENSION_REQUEST));
    iotca_der_end(&w);
    return iotca_der_finish(&w);
}
