/* PKCS#10 certification requests (RFC 2986): parse and verify the self-signature; build for tests and the CLI. */
#include <stdlib.h>
#include <string.h>

#include "iotca/der.h"
#include "iotca/oid.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

struct iotca_csr {
    iotca_buf der;
    iotca_csr_info info;
};

const iotca_csr_info *iotca_csr_get(const iotca_csr *c) { return &c->info; }

void iotca_csr_free(iotca_csr *c) {
    if (c == NULL) return;
    iotca_buf_free(&c->der);
    free(c);
}

/* attributes [0] IMPLICIT SET OF Attribute: extensionRequest and challengePassword (PKCS#9, RFC 2985 §5.4), each
 * at most once and with one value; other attributes are passed over. */
static iotca_rc find_attributes(iotca_slice attrs, iotca_csr_info *info) {
    bool has_exts = false;
    while (attrs.len) {
        iotca_tlv attr, oid, values, v;
        IOTCA_GUARD(iotca_der_expect(&attrs, IOTCA_DER_SEQUENCE, &attr));
        iotca_slice a = attr.val;
        IOTCA_GUARD(iotca_der_expect(&a, IOTCA_DER_OID, &oid));
        IOTCA_GUARD(iotca_der_expect(&a, IOTCA_DER_SET, &values));
        if (IOTCA_OID_IS(oid.val, IOTCA_OID_EXTENSION_REQUEST)) {
            IOTCA_ENSURE(!has_exts, IOTCA_E_PARSE, "two extensionRequest attributes in the CSR");
            IOTCA_GUARD(iotca_der_single(values.val, IOTCA_DER_SEQUENCE, &v));
            info->extensions = v.val;
            has_exts = true;
        } else if (IOTCA_OID_IS(oid.val, IOTCA_OID_CHALLENGE_PASSWORD)) {
            IOTCA_ENSURE(!info->has_challenge_password, IOTCA_E_PARSE, "two challengePassword attributes in the CSR");
            iotca_slice in = values.val;
            IOTCA_GUARD(iotca_der_next(&in, &v));
            IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "a challengePassword attribute has one value");
            IOTCA_ENSURE(v.tag == IOTCA_DER_PRINTABLESTRING || v.tag == IOTCA_DER_UTF8STRING, IOTCA_E_PARSE,
                         "challengePassword must be a PrintableString or UTF8String");
            IOTCA_ENSURE(v.val.len >= 1 && v.val.len <= 255, IOTCA_E_PARSE,
                         "challengePassword has 1 to 255 characters, not %zu", v.val.len);
            info->challenge_password = v.val;
            info->has_challenge_password = true;
        }
    }
    return IOTCA_OK;
}

static iotca_rc parse(iotca_csr *c) {
    iotca_tlv req, info, alg, sig, ver, subject, spki, attrs;
    bool has_attrs;
    IOTCA_GUARD(iotca_der_single(iotca_buf_slice(&c->der), IOTCA_DER_SEQUENCE, &req));
    iotca_slice r = req.val;
    IOTCA_GUARD(iotca_der_expect(&r, IOTCA_DER_SEQUENCE, &info));
    IOTCA_GUARD(iotca_der_expect(&r, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&r, IOTCA_DER_BIT_STRING, &sig));
    IOTCA_ENSURE(r.len == 0, IOTCA_E_PARSE, "trailing data in certification request");
    IOTCA_ENSURE(sig.val.len >= 2 && sig.val.p[0] == 0, IOTCA_E_PARSE, "malformed CSR signature bits");
    iotca_slice in = info.val;
    uint64_t v;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_INTEGER, &ver));
    IOTCA_GUARD(iotca_der_read_uint(&ver, &v));
    IOTCA_ENSURE(v == 0, IOTCA_E_PARSE, "CSR version must be 1 (0)");
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &subject));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &spki));
    IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX_CONS(0), &attrs, &has_attrs));
    IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "trailing data in CertificationRequestInfo");
    c->info.der = iotca_buf_slice(&c->der);
    c->info.subject = subject.tlv;
    c->info.spki = spki.tlv;
    if (has_attrs) IOTCA_GUARD(find_attributes(attrs.val, &c->info));
    IOTCA_GUARD(iotca_spki_key_type(spki.tlv, &c->info.key_type));
    iotca_rc rc = iotca_verify(spki.tlv, alg.tlv, info.tlv, iotca_slice_of(sig.val.p + 1, sig.val.len - 1));
    if (rc == IOTCA_E_CRYPTO) IOTCA_BAIL(IOTCA_E_CRYPTO, "CSR signature does not verify with its own public key");
    return rc;
}

iotca_rc iotca_csr_parse(iotca_slice in, iotca_csr **out) {
    iotca_csr *c = calloc(1, sizeof *c);
    IOTCA_ENSURE(c != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = iotca_pem_or_der(in, "CERTIFICATE REQUEST", &c->der);
    if (rc == IOTCA_OK) rc = parse(c);
    if (rc != IOTCA_OK) {
        iotca_csr_free(c);
        return rc;
    }
    *out = c;
    return IOTCA_OK;
}

static iotca_rc copy_ia5(const iotca_tlv *t, char *dst, const char *what) {
    IOTCA_ENSURE(t->val.len >= 1 && t->val.len <= IOTCA_NAME_MAX, IOTCA_E_POLICY, "%s name of %zu bytes", what,
                 t->val.len);
    for (size_t i = 0; i < t->val.len; i++)
        IOTCA_ENSURE(t->val.p[i] > 0x20 && t->val.p[i] < 0x7f, IOTCA_E_POLICY,
                     "%s name has a space, control or non-ASCII byte", what);
    memcpy(dst, t->val.p, t->val.len);
    dst[t->val.len] = 0;
    return IOTCA_OK;
}

/* Room for one more name of a kind that holds n; the refusal is IOTCA_NAMES_FAULT_COUNT. */
static iotca_rc room(iotca_names *out, size_t n, const char *kind) {
    if (n < IOTCA_SPEC_MAX_NAMES) return IOTCA_OK;
    out->fault = IOTCA_NAMES_FAULT_COUNT;
    IOTCA_BAIL(IOTCA_E_POLICY, "more than %d %s", IOTCA_SPEC_MAX_NAMES, kind);
}

/* One GeneralName (RFC 5280 §4.2.1.6) into out; a refusal sets out->fault to what it refused. */
static iotca_rc take_name(const iotca_tlv *t, iotca_names *out) {
    iotca_rc rc;
    switch (t->tag) {
    case IOTCA_DER_CTX(2): /* dNSName */
        IOTCA_GUARD(room(out, out->n_dns, "DNS names"));
        rc = copy_ia5(t, out->dns[out->n_dns], "DNS");
        if (rc != IOTCA_OK) out->fault = IOTCA_NAMES_FAULT_DNS;
        else out->n_dns++;
        return rc;
    case IOTCA_DER_CTX(6): /* uniformResourceIdentifier */
        IOTCA_GUARD(room(out, out->n_uris, "URIs"));
        rc = copy_ia5(t, out->uris[out->n_uris], "URI");
        if (rc != IOTCA_OK) out->fault = IOTCA_NAMES_FAULT_URI;
        else out->n_uris++;
        return rc;
    case IOTCA_DER_CTX(7): /* iPAddress: four octets for IPv4, sixteen for IPv6 */
        if (t->val.len != 4 && t->val.len != 16) {
            out->fault = IOTCA_NAMES_FAULT_IP;
            IOTCA_BAIL(IOTCA_E_PARSE, "IP address SAN of %zu bytes", t->val.len);
        }
        IOTCA_GUARD(room(out, out->n_ips, "IP addresses"));
        iotca_ip *ip = &out->ips[out->n_ips++];
        memcpy(ip->addr, t->val.p, t->val.len);
        memset(ip->mask, 0xff, t->val.len);
        ip->len = t->val.len;
        return IOTCA_OK;
    default: /* email, directoryName, otherName...: counted, not kept */
        out->n_other++;
        return IOTCA_OK;
    }
}

iotca_rc iotca_names_parse(iotca_slice general_names, iotca_names *out) {
    memset(out, 0, sizeof *out);
    iotca_tlv seq;
    IOTCA_GUARD(iotca_der_single(general_names, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_ENSURE(in.len > 0, IOTCA_E_PARSE, "empty subjectAltName");
    while (in.len) {
        iotca_tlv t;
        IOTCA_GUARD(iotca_der_next(&in, &t));
        IOTCA_GUARD(take_name(&t, out));
    }
    return IOTCA_OK;
}

iotca_rc iotca_csr_names(const iotca_csr *c, iotca_names *out) {
    memset(out, 0, sizeof *out);
    iotca_slice in = c->info.extensions;
    while (in.len) {
        iotca_tlv ext, oid, val, crit;
        bool has_crit;
        IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &ext));
        iotca_slice e = ext.val;
        IOTCA_GUARD(iotca_der_expect(&e, IOTCA_DER_OID, &oid));
        IOTCA_GUARD(iotca_der_optional(&e, IOTCA_DER_BOOLEAN, &crit, &has_crit));
        IOTCA_GUARD(iotca_der_expect(&e, IOTCA_DER_OCTET_STRING, &val));
        if (IOTCA_OID_IS(oid.val, IOTCA_OID_EXT_SAN)) return iotca_names_parse(val.val, out);
    }
    return IOTCA_OK;
}

iotca_rc iotca_csr_build(const iotca_key *key, iotca_slice subject, iotca_buf *out) {
    return iotca_csr_build_names(key, subject, NULL, out);
}

iotca_rc iotca_csr_build_names(const iotca_key *key, iotca_slice subject, const iotca_names *names, iotca_buf *out) {
    iotca_rc rc = IOTCA_OK;
    iotca_buf info = {0}, spki = {0}, alg = {0}, sig = {0};
    IOTCA_TRY(iotca_key_spki(key, &spki));
    IOTCA_TRY(iotca_key_sigalg(key, &alg));
    iotca_der w;
    iotca_der_init(&w, &info);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_int(&w, 0);
    iotca_der_raw(&w, subject.p, subject.len);
    iotca_der_raw(&w, spki.data, spki.len);
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(0));
    if (names && names->n_dns + names->n_ips + names->n_uris) {
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* Attribute */
        iotca_der_oid(&w, IOTCA_OID_EXTENSION_REQUEST, sizeof IOTCA_OID_EXTENSION_REQUEST);
        iotca_der_begin(&w, IOTCA_DER_SET);
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* Extensions */
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* Extension */
        iotca_der_oid(&w, IOTCA_OID_EXT_SAN, sizeof IOTCA_OID_EXT_SAN);
        iotca_der_begin(&w, IOTCA_DER_OCTET_STRING);
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
        for (size_t i = 0; i < names->n_dns; i++) iotca_der_prim(&w, IOTCA_DER_CTX(2), names->dns[i], strlen(names->dns[i]));
        for (size_t i = 0; i < names->n_ips; i++) iotca_der_prim(&w, IOTCA_DER_CTX(7), names->ips[i].addr, names->ips[i].len);
        for (size_t i = 0; i < names->n_uris; i++)
            iotca_der_prim(&w, IOTCA_DER_CTX(6), names->uris[i], strlen(names->uris[i]));
        for (int i = 0; i < 6; i++) iotca_der_end(&w);
    }
    iotca_der_end(&w);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
    IOTCA_TRY(iotca_key_sign(key, iotca_buf_slice(&info), &sig));
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_raw(&w, info.data, info.len);
    iotca_der_raw(&w, alg.data, alg.len);
    iotca_der_bits(&w, sig.data, sig.len);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
out:
    iotca_buf_free(&info);
    iotca_buf_free(&spki);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    return rc;
}
