/* DER writer: nested TLVs with back-patched lengths (X.690 §10 definite form). */
#include <string.h>
#include <time.h>

#include "iotca/der.h"

void iotca_der_init(iotca_der *w, iotca_buf *out) {
    memset(w, 0, sizeof *w);
    w->out = out;
}

static void put(iotca_der *w, const void *p, size_t n) {
    if (w->rc == IOTCA_OK) w->rc = iotca_buf_append(w->out, p, n);
}

static size_t len_octets(size_t n) {
    size_t k = 1;
    if (n < 0x80) return 1;
    while (n) {
        k++;
        n >>= 8;
    }
    return k;
}

static void encode_len(uint8_t *dst, size_t n, size_t k) {
    if (k == 1) {
        dst[0] = (uint8_t)n;
        return;
    }
    dst[0] = (uint8_t)(0x80 | (k - 1));
    for (size_t i = k - 1; i >= 1; i--) {
        dst[i] = (uint8_t)(n & 0xff);
        n >>= 8;
    }
}

static void header(iotca_der *w, uint8_t tag, size_t n) {
    uint8_t h[1 + 9];
    size_t k = len_octets(n);
    h[0] = tag;
    encode_len(h + 1, n, k);
    put(w, h, 1 + k);
}

void iotca_der_begin(iotca_der *w, uint8_t tag) {
    if (w->rc != IOTCA_OK) return;
    if (w->depth >= IOTCA_DER_MAX_DEPTH) {
        w->rc = iotca_error_set(IOTCA_E_INTERNAL, "DER nesting deeper than %d", IOTCA_DER_MAX_DEPTH);
        return;
    }
    uint8_t h[2] = {tag, 0};
    put(w, h, 2); /* one length byte reserved; widened at end if needed */
    w->open[w->depth++] = w->out->len;
}

void iotca_der_end(iotca_der *w) {
    if (w->rc != IOTCA_OK) return;
    if (w->depth == 0) {
        w->rc = iotca_error_set(IOTCA_E_INTERNAL, "DER end without begin");
        return;
    }
    size_t start = w->open[--w->depth];
    size_t n = w->out->len - start;
    size_t k = len_octets(n);
    if (k > 1) {
        w->rc = iotca_buf_reserve(w->out, k - 1);
        if (w->rc != IOTCA_OK) return;
        memmove(w->out->data + start + k - 1, w->out->data + start, n);
        w->out->len += k - 1;
    }
    encode_len(w->out->data + start - 1, n, k);
}

void iotca_der_prim(iotca_der *w, uint8_t tag, const void *content, size_t n) {
    header(w, tag, n);
    put(w, content, n);
}

void iotca_der_raw(iotca_der *w, const void *tlv, size_t n) { put(w, tlv, n); }

void iotca_der_uint(iotca_der *w, const uint8_t *be, size_t n) {
    while (n > 0 && be[0] == 0) {
        be++;
        n--;
    }
    if (n == 0) {
        uint8_t zero = 0;
        iotca_der_prim(w, IOTCA_DER_INTEGER, &zero, 1);
        return;
    }
    int pad = (be[0] & 0x80) != 0;
    header(w, IOTCA_DER_INTEGER, n + (size_t)pad);
    if (pad) put(w, "\0", 1);
    put(w, be, n);
}

void iotca_der_int(iotca_der *w, int64_t v) {
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(u & 0xff);
        u >>= 8;
    }
    /* minimal two's complement: drop redundant leading 0x00/0xff octets */
    int i = 0;
    while (i < 7 && ((b[i] == 0 && !(b[i + 1] & 0x80)) || (b[i] == 0xff && (b[i + 1] & 0x80)))) i++;
    iotca_der_prim(w, IOTCA_DER_INTEGER, b + i, (size_t)(8 - i));
}

void iotca_der_bool(iotca_der *w, int v) {
    uint8_t b = v ? 0xff : 0x00; /* X.690 §11.1: TRUE is all ones in DER */
    iotca_der_prim(w, IOTCA_DER_BOOLEAN, &b, 1);
}

void iotca_der_null(iotca_der *w) { iotca_der_prim(w, IOTCA_DER_NULL, NULL, 0); }

void iotca_der_oid(iotca_der *w, const uint8_t *oid, size_t n) { iotca_der_prim(w, IOTCA_DER_OID, oid, n); }

void iotca_der_bits(iotca_der *w, const uint8_t *data, size_t n) {
    header(w, IOTCA_DER_BIT_STRING, n + 1);
    put(w, "\0", 1);
    put(w, data, n);
}

void iotca_der_named_bits(iotca_der *w, uint32_t bits, int nbits) {
    int last = -1;
    for (int i = 0; i < nbits && i < 32; i++)
        if (bits & (1u << i)) last = i;
    uint8_t b[5] = {0};
    size_t nbytes = last < 0 ? 0 : (size_t)(last / 8 + 1);
    for (int i = 0; i <= last; i++)
        if (bits & (1u << i)) b[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
    b[0] = last < 0 ? 0 : (uint8_t)(7 - last % 8);
    iotca_der_prim(w, IOTCA_DER_BIT_STRING, b, 1 + nbytes);
}

void iotca_der_time(iotca_der *w, time_t t) {
    struct tm tm;
    char s[32];
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1950) {
        if (w->rc == IOTCA_OK) w->rc = iotca_error_set(IOTCA_E_USAGE, "time out of X.509 range");
        return;
    }
    if (tm.tm_year + 1900 < 2050) {
        strftime(s, sizeof s, "%y%m%d%H%M%SZ", &tm);
        iotca_der_prim(w, IOTCA_DER_UTCTIME, s, 13);
    } else {
        strftime(s, sizeof s, "%Y%m%d%H%M%SZ", &tm);
        iotca_der_prim(w, IOTCA_DER_GENERALIZEDTIME, s, 15);
    }
}

void iotca_der_gtime(iotca_der *w, time_t t) {
    struct tm tm;
    char s[32];
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1950) {
        if (w->rc == IOTCA_OK) w->rc = iotca_error_set(IOTCA_E_USAGE, "time out of range");
        return;
    }
    strftime(s, sizeof s, "%Y%m%d%H%M%SZ", &tm);
    iotca_der_prim(w, IOTCA_DER_GENERALIZEDTIME, s, 15);
}

iotca_rc iotca_der_finish(iotca_der *w) {
    if (w->rc == IOTCA_OK && w->depth != 0)
        w->rc = iotca_error_set(IOTCA_E_INTERNAL, "DER: %d constructed values left open", w->depth);
    return w->rc;
}
