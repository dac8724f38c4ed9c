/* Strict DER reader: one TLV at a time, never reading past its input. */
#include <string.h>
#include <time.h>

#include "iotca/der.h"

iotca_rc iotca_der_next(iotca_slice *in, iotca_tlv *out) {
    const uint8_t *p = in->p;
    size_t n = in->len;
    IOTCA_ENSURE(n >= 2, IOTCA_E_PARSE, "DER: truncated element (%zu bytes left)", n);
    uint8_t tag = p[0];
    IOTCA_ENSURE((tag & 0x1f) != 0x1f, IOTCA_E_PARSE, "DER: multi-byte tags are not supported");
    size_t len, hdr;
    if (p[1] < 0x80) {
        len = p[1];
        hdr = 2;
    } else {
        size_t k = p[1] & 0x7f;
        IOTCA_ENSURE(k != 0, IOTCA_E_PARSE, "DER: indefinite length is not DER");
        IOTCA_ENSURE(k <= 4, IOTCA_E_PARSE, "DER: length of %zu octets is too long", k);
        IOTCA_ENSURE(n >= 2 + k, IOTCA_E_PARSE, "DER: truncated length");
        IOTCA_ENSURE(p[2] != 0, IOTCA_E_PARSE, "DER: length not minimally encoded");
        len = 0;
        for (size_t i = 0; i < k; i++) len = (len << 8) | p[2 + i];
        IOTCA_ENSURE(len >= 0x80, IOTCA_E_PARSE, "DER: length not minimally encoded");
        hdr = 2 + k;
    }
    IOTCA_ENSURE(len <= n - hdr, IOTCA_E_PARSE, "DER: element of %zu bytes overruns its %zu-byte input", len,
                 n - hdr);
    out->tag = tag;
    out->val = iotca_slice_of(p + hdr, len);
    out->tlv = iotca_slice_of(p, hdr + len);
    in->p += hdr + len;
    in->len -= hdr + len;
    return IOTCA_OK;
}

iotca_rc iotca_der_expect(iotca_slice *in, uint8_t tag, iotca_tlv *out) {
    iotca_slice save = *in;
    IOTCA_GUARD(iotca_der_next(in, out));
    if (out->tag != tag) {
        *in = save;
        IOTCA_BAIL(IOTCA_E_PARSE, "DER: expected tag 0x%02x, found 0x%02x", tag, out->tag);
    }
    return IOTCA_OK;
}

iotca_rc iotca_der_optional(iotca_slice *in, uint8_t tag, iotca_tlv *out, bool *present) {
    *present = false;
    if (in->len == 0 || in->p[0] != tag) return IOTCA_OK;
    IOTCA_GUARD(iotca_der_next(in, out));
    *present = true;
    return IOTCA_OK;
}

iotca_rc iotca_der_single(iotca_slice in, uint8_t tag, iotca_tlv *out) {
    IOTCA_GUARD(iotca_der_expect(&in, tag, out));
    IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "DER: %zu trailing bytes after the element", in.len);
    return IOTCA_OK;
}

static int digits(const uint8_t *p, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

iotca_rc iotca_der_read_time(const iotca_tlv *t, time_t *out) {
    const uint8_t *p = t->val.p;
    int year, off;
    if (t->tag == IOTCA_DER_UTCTIME) {
        IOTCA_ENSURE(t->val.len == 13 && p[12] == 'Z', IOTCA_E_PARSE, "UTCTime must be YYMMDDHHMMSSZ");
        year = digits(p, 2);
        IOTCA_ENSURE(year >= 0, IOTCA_E_PARSE, "UTCTime has a non-digit");
        year += year < 50 ? 2000 : 1900; /* RFC 5280 §4.1.2.5.1 */
        off = 2;
    } else if (t->tag == IOTCA_DER_GENERALIZEDTIME) {
        IOTCA_ENSURE(t->val.len == 15 && p[14] == 'Z', IOTCA_E_PARSE, "GeneralizedTime must be YYYYMMDDHHMMSSZ");
        year = digits(p, 4);
        IOTCA_ENSURE(year >= 0, IOTCA_E_PARSE, "GeneralizedTime has a non-digit");
        off = 4;
    } else {
        IOTCA_BAIL(IOTCA_E_PARSE, "expected a time, found tag 0x%02x", t->tag);
    }
    int mon = digits(p + off, 2), day = digits(p + off + 2, 2), hh = digits(p + off + 4, 2),
        mm = digits(p + off + 6, 2), ss = digits(p + off + 8, 2);
    IOTCA_ENSURE(mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hh >= 0 && hh <= 23 && mm >= 0 && mm <= 59 &&
                     ss >= 0 && ss <= 59,
                 IOTCA_E_PARSE, "time field out of range");
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    *out = timegm(&tm);
    return IOTCA_OK;
}

iotca_rc iotca_der_read_uint(const iotca_tlv *t, uint64_t *out) {
    IOTCA_ENSURE(t->tag == IOTCA_DER_INTEGER && t->val.len >= 1, IOTCA_E_PARSE, "expected an INTEGER");
    IOTCA_ENSURE(!(t->val.p[0] & 0x80), IOTCA_E_PARSE, "INTEGER is negative");
    IOTCA_ENSURE(t->val.len <= 9 && (t->val.len < 9 || t->val.p[0] == 0), IOTCA_E_PARSE, "INTEGER too large");
    IOTCA_ENSURE(t->val.len == 1 || t->val.p[0] != 0 || (t->val.p[1] & 0x80), IOTCA_E_PARSE,
                 "INTEGER not minimally encoded");
    uint64_t v = 0;
    for (size_t i = 0; i < t->val.len; i++) v = (v << 8) | t->val.p[i];
    *out = v;
    return IOTCA_OK;
}

iotca_rc iotca_der_int_magnitude(const iotca_tlv *t, iotca_slice *out) {
    IOTCA_ENSURE(t->tag == IOTCA_DER_INTEGER && t->val.len >= 1, IOTCA_E_PARSE, "expected an INTEGER");
    IOTCA_ENSURE(!(t->val.p[0] & 0x80), IOTCA_E_PARSE, "INTEGER is negative");
    *out = t->val;
    if (out->len > 1 && out->p[0] == 0) {
        out->p++;
        out->len--;
    }
    return IOTCA_OK;
}
