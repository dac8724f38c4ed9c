/* Growable, optionally secret byte buffers; hex; wiping; constant-time compare. */
#include "iotca/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void iotca_wipe(void *p, size_t n) {
    if (p == NULL) return;
    volatile uint8_t *v = p;
    while (n--) *v++ = 0;
}

bool iotca_ct_equal(const void *a, const void *b, size_t n) {
    const volatile uint8_t *x = a, *y = b;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= (uint8_t)(x[i] ^ y[i]);
    return acc == 0;
}

bool iotca_slice_eq(iotca_slice a, iotca_slice b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

iotca_rc iotca_buf_reserve(iotca_buf *b, size_t extra) {
    IOTCA_ENSURE(!b->borrowed, IOTCA_E_USAGE, "cannot grow a borrowed buffer");
    IOTCA_ENSURE(extra <= IOTCA_BUF_MAX && b->len <= IOTCA_BUF_MAX - extra,
                 IOTCA_E_USAGE, "buffer would exceed %zu bytes", IOTCA_BUF_MAX);
    size_t need = b->len + extra + 1; /* +1 keeps room for iotca_buf_cstr */
    if (need <= b->cap) return IOTCA_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    uint8_t *p = malloc(cap);
    IOTCA_ENSURE(p != NULL, IOTCA_E_INTERNAL, "out of memory");
    if (b->len) memcpy(p, b->data, b->len);
    /* realloc could leave a secret's old copy behind; copy and wipe instead */
    if (b->secret) iotca_wipe(b->data, b->cap);
    free(b->data);
    b->data = p;
    b->cap = cap;
    return IOTCA_OK;
}

iotca_rc iotca_buf_append(iotca_buf *b, const void *data, size_t n) {
    if (n == 0) return IOTCA_OK;
    IOTCA_GUARD(iotca_buf_reserve(b, n));
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return IOTCA_OK;
}

iotca_rc iotca_buf_append_byte(iotca_buf *b, uint8_t c) { return iotca_buf_append(b, &c, 1); }

iotca_rc iotca_buf_append_str(iotca_buf *b, const char *s) { return iotca_buf_append(b, s, strlen(s)); }

iotca_rc iotca_buf_printf(iotca_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    IOTCA_ENSURE(n >= 0, IOTCA_E_INTERNAL, "bad format");
    IOTCA_GUARD(iotca_buf_reserve(b, (size_t)n));
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return IOTCA_OK;
}

iotca_rc iotca_buf_cstr(iotca_buf *b) {
    IOTCA_GUARD(iotca_buf_reserve(b, 0));
    b->data[b->len] = 0;
    return IOTCA_OK;
}

iotca_buf iotca_buf_borrow(const uint8_t *data, size_t len) {
    iotca_buf b = {(uint8_t *)data, len, len, true, false};
    return b;
}

void iotca_buf_free(iotca_buf *b) {
    if (b == NULL) return;
    if (!b->borrowed) {
        if (b->secret) iotca_wipe(b->data, b->cap);
        free(b->data);
    }
    bool secret = b->secret;
    memset(b, 0, sizeof *b);
    b->secret = secret;
}

void iotca_buf_clear(iotca_buf *b) {
    if (b->secret && !b->borrowed) iotca_wipe(b->data, b->cap);
    b->len = 0;
}

iotca_rc iotca_hex_encode(const uint8_t *data, size_t n, iotca_buf *out) {
    static const char digits[] = "0123456789abcdef";
    IOTCA_GUARD(iotca_buf_reserve(out, 2 * n));
    for (size_t i = 0; i < n; i++) {
        out->data[out->len++] = (uint8_t)digits[data[i] >> 4];
        out->data[out->len++] = (uint8_t)digits[data[i] & 15];
    }
    return iotca_buf_cstr(out);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

iotca_rc iotca_hex_decode(const char *hex, iotca_buf *out) {
    IOTCA_ENSURE(hex != NULL, IOTCA_E_USAGE, "no hex string");
    size_t i = 0;
    while (hex[i]) {
        if (hex[i] == ':' && i > 0) {
            i++;
            continue;
        }
        int hi = hexval(hex[i]), lo = hex[i + 1] ? hexval(hex[i + 1]) : -1;
        IOTCA_ENSURE(hi >= 0 && lo >= 0, IOTCA_E_PARSE, "invalid hex at position %zu", i);
        IOTCA_GUARD(iotca_buf_append_byte(out, (uint8_t)(hi << 4 | lo)));
        i += 2;
    }
    return IOTCA_OK;
}
