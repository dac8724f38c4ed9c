/* base64url without padding (RFC 4648 §5, as RFC 7515 §2 uses it): a strict decoder with one encoding per value. */
#include "iotca/jws.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of c, or -1 outside the base64url alphabet. */
static int sextet(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

iotca_rc iotca_b64url_encode(iotca_slice data, iotca_buf *out) {
    IOTCA_ENSURE(data.p != NULL || data.len == 0, IOTCA_E_USAGE, "base64url: no data");
    IOTCA_GUARD(iotca_buf_reserve(out, (data.len + 2) / 3 * 4 + 1));
    size_t i = 0;
    for (; i + 3 <= data.len; i += 3) {
        uint32_t v = (uint32_t)data.p[i] << 16 | (uint32_t)data.p[i + 1] << 8 | data.p[i + 2];
        char q[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
        IOTCA_GUARD(iotca_buf_append(out, q, 4));
    }
    size_t rest = data.len - i;
    if (rest > 0) { /* 1 byte -> 2 characters, 2 bytes -> 3 (no '=' padding) */
        uint32_t v = (uint32_t)data.p[i] << 16 | (rest == 2 ? (uint32_t)data.p[i + 1] << 8 : 0);
        char q[3] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63]};
        IOTCA_GUARD(iotca_buf_append(out, q, rest + 1));
    }
    return iotca_buf_cstr(out);
}

iotca_rc iotca_b64url_decode(const char *s, size_t len, iotca_buf *out) {
    IOTCA_ENSURE(s != NULL || len == 0, IOTCA_E_USAGE, "base64url: no input");
    IOTCA_ENSURE(len % 4 != 1, IOTCA_E_PARSE, "base64url: a length of %zu characters cannot be base64url", len);
    IOTCA_GUARD(iotca_buf_reserve(out, len / 4 * 3 + 2));
    size_t start = out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = sextet((unsigned char)s[i]);
        if (v < 0) {
            out->len = start;
            IOTCA_BAIL(IOTCA_E_PARSE, "base64url: %s at offset %zu (RFC 7515 §2: base64url without padding)",
                       s[i] == '=' ? "padding '='" : "a character outside the alphabet", i);
        }
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[out->len++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
        out->len = start;
        IOTCA_BAIL(IOTCA_E_PARSE, "base64url: non-zero unused bits in the last character (not the canonical encoding)");
    }
    return IOTCA_OK;
}
