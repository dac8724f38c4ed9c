/* CRL encoding and signing (RFC 5280 §5): v2, AKID and CRL number, reason codes. wolfSSL has no CRL builder. */
#include <string.h>

#include "iotca/der.h"
#include "iotca/pem.h"
#include "iotca/oid.h"
#include "iotca/x509.h"

static void extension(iotca_der *w, const uint8_t *oid, size_t n) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, oid, n);
    iotca_der_begin(w, IOTCA_DER_OCTET_STRING);
}

static void extension_end(iotca_der *w) {
    iotca_der_end(w);
    iotca_der_end(w);
}

iotca_rc iotca_crl_sign(const iotca_crl_spec *s, const iotca_key *signer, iotca_buf *out) {
    IOTCA_ENSURE(s->issuer.len > 0 && s->issuer_skid.len > 0, IOTCA_E_USAGE, "CRL needs an issuer name and key id");
    IOTCA_ENSURE(s->next_update > s->this_update, IOTCA_E_USAGE, "nextUpdate must be after thisUpdate");
    IOTCA_ENSURE(s->crl_number < ((uint64_t)1 << 62), IOTCA_E_USAGE, "CRL number out of range");
    iotca_rc rc = IOTCA_OK;
    iotca_buf alg = {0}, tbs = {0}, sig = {0}, crl = {0};
    IOTCA_TRY(iotca_key_sigalg(signer, &alg));
    iotca_der w;
    iotca_der_init(&w, &tbs);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_int(&w, 1); /* v2 */
    iotca_der_raw(&w, alg.data, alg.len);
    iotca_der_raw(&w, s->issuer.p, s->issuer.len);
    iotca_der_time(&w, s->this_update);
    iotca_der_time(&w, s->next_update);
    if (s->n_entries) { /* §5.1.2.6: absent, not empty, when nothing is revoked */
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
        for (size_t i = 0; i < s->n_entries; i++) {
            const iotca_crl_entry *e = &s->entries[i];
            IOTCA_CHECK(e->serial.len >= 1 && e->serial.len <= 20, IOTCA_E_USAGE, "bad serial in CRL entry %zu", i);
            iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
            iotca_der_uint(&w, e->serial.p, e->serial.len);
            iotca_der_time(&w, e->revoked_at);
            if (e->reason != IOTCA_REASON_UNSPECIFIED) { /* §5.3.1: omit unspecified */
                iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
                extension(&w, IOTCA_OID_EXT_CRL_REASON, sizeof IOTCA_OID_EXT_CRL_REASON);
                uint8_t r = (uint8_t)e->reason;
                iotca_der_prim(&w, IOTCA_DER_ENUMERATED, &r, 1);
                extension_end(&w);
                iotca_der_end(&w);
            }
            iotca_der_end(&w);
        }
        iotca_der_end(&w);
    }
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(0));
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    extension(&w, IOTCA_OID_EXT_AKID, sizeof IOTCA_OID_EXT_AKID); /* §5.2.1 */
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_prim(&w, IOTCA_DER_CTX(0), s->issuer_skid.p, s->issuer_skid.len);
    iotca_der_end(&w);
    extension_end(&w);
    extension(&w, IOTCA_OID_EXT_CRL_NUMBER, sizeof IOTCA_OID_EXT_CRL_NUMBER); /* §5.2.3 */
    iotca_der_int(&w, (int64_t)s->crl_number);
    extension_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
    IOTCA_TRY(iotca_key_sign(signer, iotca_buf_slice(&tbs), &sig));
    iotca_der_init(&w, &crl);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_raw(&w, tbs.data, tbs.len);
    iotca_der_raw(&w, alg.data, alg.len);
    iotca_der_bits(&w, sig.data, sig.len);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
    IOTCA_TRY(iotca_buf_append(out, crl.data, crl.len));
out:
    iotca_buf_free(&alg);
    iotca_buf_free(&tbs);
    iotca_buf_free(&sig);
    iotca_buf_free(&crl);
    return rc;
}

iotca_rc iotca_crl_parse(iotca_slice in, iotca_buf *der, iotca_crl_info *info) {
    memset(info, 0, sizeof *info);
    IOTCA_GUARD(iotca_pem_or_der(in, "X509 CRL", der));
    iotca_tlv list, tbs, alg, sig, ver, talg, iss, tu, nu, t;
    bool has;
    IOTCA_GUARD(iotca_der_single(iotca_buf_slice(der), IOTCA_DER_SEQUENCE, &list));
    iotca_slice l = list.val;
    IOTCA_GUARD(iotca_der_expect(&l, IOTCA_DER_SEQUENCE, &tbs));
    IOTCA_GUARD(iotca_der_expect(&l, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&l, IOTCA_DER_BIT_STRING, &sig));
    IOTCA_ENSURE(l.len == 0 && sig.val.len >= 2 && sig.val.p[0] == 0, IOTCA_E_PARSE, "malformed CRL");
    iotca_slice b = tbs.val;
    uint64_t v;
    IOTCA_GUARD(iotca_der_expect(&b, IOTCA_DER_INTEGER, &ver));
    IOTCA_GUARD(iotca_der_read_uint(&ver, &v));
    IOTCA_ENSURE(v == 1, IOTCA_E_PARSE, "only v2 CRLs are accepted");
    IOTCA_GUARD(iotca_der_expect(&b, IOTCA_DER_SEQUENCE, &talg));
    IOTCA_ENSURE(iotca_slice_eq(talg.tlv, alg.tlv), IOTCA_E_PARSE, "inner and outer CRL signature algorithms differ");
    IOTCA_GUARD(iotca_der_expect(&b, IOTCA_DER_SEQUENCE, &iss));
    IOTCA_GUARD(iotca_der_next(&b, &tu));
    IOTCA_GUARD(iotca_der_read_time(&tu, &info->this_update));
    IOTCA_GUARD(iotca_der_next(&b, &nu));
    IOTCA_GUARD(iotca_der_read_time(&nu, &info->next_update));
    IOTCA_GUARD(iotca_der_optional(&b, IOTCA_DER_SEQUENCE, &t, &has));
    if (has) {
        iotca_slice e = t.val;
        iotca_tlv entry;
        while (e.len) {
            IOTCA_GUARD(iotca_der_expect(&e, IOTCA_DER_SEQUENCE, &entry));
            info->n_entries++;
        }
    }
    IOTCA_GUARD(iotca_der_optional(&b, IOTCA_DER_CTX_CONS(0), &t, &has));
    if (has) {
        iotca_tlv exts;
        IOTCA_GUARD(iotca_der_single(t.val, IOTCA_DER_SEQUENCE, &exts));
        iotca_slice x = exts.val;
        while (x.len) {
            iotca_tlv ext, oid, val, crit;
            bool c;
            IOTCA_GUARD(iotca_der_expect(&x, IOTCA_DER_SEQUENCE, &ext));
            iotca_slice xe = ext.val;
            IOTCA_GUARD(iotca_der_expect(&xe, IOTCA_DER_OID, &oid));
            IOTCA_GUARD(iotca_der_optional(&xe, IOTCA_DER_BOOLEAN, &crit, &c));
            IOTCA_GUARD(iotca_der_expect(&xe, IOTCA_DER_OCTET_STRING, &val));
            if (IOTCA_OID_IS(oid.val, IOTCA_OID_EXT_CRL_NUMBER)) {
                iotca_tlv n;
                IOTCA_GUARD(iotca_der_single(val.val, IOTCA_DER_INTEGER, &n));
                IOTCA_GUARD(iotca_der_read_uint(&n, &info->number));
                info->has_number = true;
            }
        }
    }
    IOTCA_ENSURE(b.len == 0, IOTCA_E_PARSE, "trailing data in TBSCertList");
    info->tbs = tbs.tlv;
    info->sigalg = alg.tlv;
    info->sig = iotca_slice_of(sig.val.p + 1, sig.val.len - 1);
    info->issuer = iss.tlv;
    return IOTCA_OK;
}

iotca_rc iotca_crl_verify(const iotca_crl_info *info, const iotca_cert *ca) {
    IOTCA_ENSURE(iotca_slice_eq(info->issuer, iotca_cert_get(ca)->subject), IOTCA_E_CRYPTO,
                 "the CRL's issuer is not this CA");
    return iotca_verify(iotca_cert_get(ca)->spki, info->sigalg, info->tbs, info->sig);
}
