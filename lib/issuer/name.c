/* Distinguished names and the small vocabularies (EKU names, IP ranges, reasons) that certificate specs use. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iotca/der.h"
#include "iotca/oid.h"
#include "iotca/x509.h"

static void rdn(iotca_der *w, const uint8_t *oid, size_t oidlen, uint8_t strtag, const char *v) {
    iotca_der_begin(w, IOTCA_DER_SET);
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, oid, oidlen);
    iotca_der_prim(w, strtag, v, strlen(v));
    iotca_der_end(w);
    iotca_der_end(w);
}

static bool printable(const char *s) {
    for (; *s; s++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?", *s)) return false;
    return true;
}

iotca_rc iotca_name_build(const char *c, const char *o, const char *ou, const char *cn, iotca_buf *out) {
    const char *vals[] = {c, o, ou, cn};
    bool any = false;
    for (int i = 0; i < 4; i++) {
        if (vals[i] == NULL || !*vals[i]) continue;
        any = true;
        IOTCA_ENSURE(strlen(vals[i]) <= 64, IOTCA_E_USAGE, "name attribute longer than 64 bytes: %.20s...", vals[i]);
        for (const unsigned char *p = (const unsigned char *)vals[i]; *p; p++)
            IOTCA_ENSURE(*p >= 0x20 && *p != 0x7f, IOTCA_E_USAGE, "control character in a name attribute");
    }
    IOTCA_ENSURE(any, IOTCA_E_USAGE, "a name needs at least one attribute");
    IOTCA_ENSURE(c == NULL || !*c || (strlen(c) == 2 && printable(c)), IOTCA_E_USAGE,
                 "country must be a two-letter code");
    iotca_der w;
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    if (c && *c) rdn(&w, IOTCA_OID_AT_C, sizeof IOTCA_OID_AT_C, IOTCA_DER_PRINTABLESTRING, c);
    if (o && *o) rdn(&w, IOTCA_OID_AT_O, sizeof IOTCA_OID_AT_O, IOTCA_DER_UTF8STRING, o);
    if (ou && *ou) rdn(&w, IOTCA_OID_AT_OU, sizeof IOTCA_OID_AT_OU, IOTCA_DER_UTF8STRING, ou);
    if (cn && *cn) rdn(&w, IOTCA_OID_AT_CN, sizeof IOTCA_OID_AT_CN, IOTCA_DER_UTF8STRING, cn);
    iotca_der_end(&w);
    return iotca_der_finish(&w);
}

/* Calls fn for each attribute (type OID, value TLV) of a DER Name. */
typedef iotca_rc (*attr_fn)(void *ctx, iotca_slice oid, const iotca_tlv *value);

static iotca_rc name_walk(iotca_slice name, attr_fn fn, void *ctx) {
    iotca_tlv seq;
    IOTCA_GUARD(iotca_der_single(name, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice rdns = seq.val;
    while (rdns.len) {
        iotca_tlv set;
        IOTCA_GUARD(iotca_der_expect(&rdns, IOTCA_DER_SET, &set));
        iotca_slice atvs = set.val;
        IOTCA_ENSURE(atvs.len > 0, IOTCA_E_PARSE, "empty RDN in a name");
        while (atvs.len) {
            iotca_tlv atv, oid, val;
            IOTCA_GUARD(iotca_der_expect(&atvs, IOTCA_DER_SEQUENCE, &atv));
            iotca_slice a = atv.val;
            IOTCA_GUARD(iotca_der_expect(&a, IOTCA_DER_OID, &oid));
            IOTCA_GUARD(iotca_der_next(&a, &val));
            IOTCA_ENSURE(a.len == 0, IOTCA_E_PARSE, "trailing data in a name attribute");
            IOTCA_GUARD(fn(ctx, oid.val, &val));
        }
    }
    return IOTCA_OK;
}

static iotca_rc fmt_attr(void *ctx, iotca_slice oid, const iotca_tlv *v) {
    iotca_buf *out = ctx;
    const char *label = IOTCA_OID_IS(oid, IOTCA_OID_AT_CN)   ? "CN"
                        : IOTCA_OID_IS(oid, IOTCA_OID_AT_O)  ? "O"
                        : IOTCA_OID_IS(oid, IOTCA_OID_AT_OU) ? "OU"
                        : IOTCA_OID_IS(oid, IOTCA_OID_AT_C)  ? "C"
                                                             : "attr";
    if (out->len) IOTCA_GUARD(iotca_buf_append_str(out, ", "));
    IOTCA_GUARD(iotca_buf_printf(out, "%s=", label));
    for (size_t i = 0; i < v->val.len; i++) {
        uint8_t ch = v->val.p[i];
        if (ch < 0x20 || ch == 0x7f) IOTCA_GUARD(iotca_buf_printf(out, "\\x%02x", ch));
        else IOTCA_GUARD(iotca_buf_append_byte(out, ch));
    }
    return IOTCA_OK;
}

iotca_rc iotca_name_format(iotca_slice name, iotca_buf *out) {
    iotca_buf tmp = {0};
    iotca_rc rc = name_walk(name, fmt_attr, &tmp);
    if (rc == IOTCA_OK) rc = iotca_buf_append(out, tmp.data, tmp.len);
    if (rc == IOTCA_OK) rc = iotca_buf_cstr(out);
    iotca_buf_free(&tmp);
    return rc;
}

static iotca_rc cn_attr(void *ctx, iotca_slice oid, const iotca_tlv *v) {
    iotca_buf *out = ctx;
    if (out->len == 0 && IOTCA_OID_IS(oid, IOTCA_OID_AT_CN)) IOTCA_GUARD(iotca_buf_append(out, v->val.p, v->val.len));
    return IOTCA_OK;
}

iotca_rc iotca_name_cn(iotca_slice name, iotca_buf *out) {
    iotca_buf_clear(out);
    IOTCA_GUARD(name_walk(name, cn_attr, out));
    return iotca_buf_cstr(out);
}

iotca_rc iotca_eku_parse(const char *list, unsigned *out) {
    IOTCA_ENSURE(list != NULL, IOTCA_E_USAGE, "no EKU list");
    char buf[256];
    IOTCA_ENSURE(strlen(list) < sizeof buf, IOTCA_E_USAGE, "EKU list too long");
    strcpy(buf, list);
    unsigned bits = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "server") == 0) bits |= IOTCA_EKU_SERVER;
        else if (strcmp(t, "client") == 0) bits |= IOTCA_EKU_CLIENT;
        else if (strcmp(t, "code-signing") == 0) bits |= IOTCA_EKU_CODE_SIGNING;
        else if (strcmp(t, "ocsp-signing") == 0) bits |= IOTCA_EKU_OCSP_SIGNING;
        else IOTCA_BAIL(IOTCA_E_USAGE, "unknown EKU '%s' (use server, client, code-signing, ocsp-signing)", t);
    }
    IOTCA_ENSURE(bits != 0, IOTCA_E_USAGE, "empty EKU list");
    *out = bits;
    return IOTCA_OK;
}

iotca_rc iotca_ip_parse(const char *text, iotca_ip *out) {
    IOTCA_ENSURE(text != NULL && strlen(text) < 64, IOTCA_E_USAGE, "IP address missing or too long");
    char buf[64];
    strcpy(buf, text);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        char *end;
        *slash = 0;
        prefix = strtol(slash + 1, &end, 10);
        IOTCA_ENSURE(*end == 0 && end != slash + 1, IOTCA_E_USAGE, "bad prefix length in '%s'", text);
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1) out->len = 4;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1) out->len = 16;
    else IOTCA_BAIL(IOTCA_E_USAGE, "'%s' is not an IPv4 or IPv6 address", text);
    long bits = (long)out->len * 8;
    if (prefix < 0) prefix = bits;
    IOTCA_ENSURE(prefix <= bits, IOTCA_E_USAGE, "prefix /%ld too long for '%s'", prefix, text);
    for (long i = 0; i < bits; i++)
        if (i < prefix) out->mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    for (size_t i = 0; i < out->len; i++)
        IOTCA_ENSURE((out->addr[i] & ~out->mask[i]) == 0, IOTCA_E_USAGE, "'%s' has host bits set beyond /%ld", text,
                     prefix);
    return IOTCA_OK;
}

iotca_rc iotca_nc_mode_parse(const char *s, iotca_nc_mode *out) {
    if (s && strcmp(s, "critical") == 0) *out = IOTCA_NC_CRITICAL;
    else if (s && strcmp(s, "noncritical") == 0) *out = IOTCA_NC_NONCRITICAL;
    else if (s && strcmp(s, "none") == 0) *out = IOTCA_NC_NONE;
    else IOTCA_BAIL(IOTCA_E_USAGE, "name constraints must be critical, noncritical or none (got '%s')", s ? s : "");
    return IOTCA_OK;
}

static const struct {
    const char *name, *alt;
    iotca_reason r;
} reasons[] = {
    {"unspecified", "unspecified", IOTCA_REASON_UNSPECIFIED},
    {"keyCompromise", "key-compromise", IOTCA_REASON_KEY_COMPROMISE},
    {"cACompromise", "ca-compromise", IOTCA_REASON_CA_COMPROMISE},
    {"affiliationChanged", "affiliation-changed", IOTCA_REASON_AFFILIATION_CHANGED},
    {"superseded", "superseded", IOTCA_REASON_SUPERSEDED},
    {"cessationOfOperation", "cessation-of-operation", IOTCA_REASON_CESSATION_OF_OPERATION},
    {"certificateHold", "certificate-hold", IOTCA_REASON_CERTIFICATE_HOLD},
    {"privilegeWithdrawn", "privilege-withdrawn", IOTCA_REASON_PRIVILEGE_WITHDRAWN},
};

iotca_rc iotca_reason_parse(const char *s, iotca_reason *out) {
    for (size_t i = 0; s && i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcasecmp(s, reasons[i].name) == 0 || strcasecmp(s, reasons[i].alt) == 0) {
            *out = reasons[i].r;
            return IOTCA_OK;
        }
    IOTCA_BAIL(IOTCA_E_USAGE,
               "unknown revocation reason '%s' (use unspecified, keyCompromise, cACompromise, affiliationChanged, "
               "superseded, cessationOfOperation, certificateHold, privilegeWithdrawn)",
               s ? s : "");
}

const char *iotca_reason_name(iotca_reason r) {
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].r == r) return reasons[i].name;
    return "unknown";
}
