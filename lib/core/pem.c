/* PEM (RFC 7468) with a strict base64 decoder. */
#include <stdio.h>
#include <string.h>

#include "iotca/pem.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

iotca_rc iotca_pem_encode(const char *label, const uint8_t *der, size_t n, iotca_buf *out) {
    IOTCA_GUARD(iotca_buf_printf(out, "-----BEGIN %s-----\n", label));
    IOTCA_GUARD(iotca_base64_encode(iotca_slice_of(der, n), 64, out));
    IOTCA_GUARD(iotca_buf_printf(out, "-----END %s-----\n", label));
    return iotca_buf_cstr(out);
}

/* by range rather than a search of b64[] (strchr was 0.6% of an issuance's CPU in perf, for the CSR a
 * request carries) */
int iotca_base64_value(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

iotca_rc iotca_base64_encode(iotca_slice data, size_t line, iotca_buf *out) {
    size_t col = 0;
    for (size_t i = 0; i < data.len; i += 3) {
        uint32_t v = (uint32_t)data.p[i] << 16;
        if (i + 1 < data.len) v |= (uint32_t)data.p[i + 1] << 8;
        if (i + 2 < data.len) v |= data.p[i + 2];
        char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63], i + 1 < data.len ? b64[v >> 6 & 63] : '=',
                     i + 2 < data.len ? b64[v & 63] : '='};
        IOTCA_GUARD(iotca_buf_append(out, q, 4));
        col += 4;
        if (line && col == line) {
            IOTCA_GUARD(iotca_buf_append_byte(out, '\n'));
            col = 0;
        }
    }
    if (line && col) IOTCA_GUARD(iotca_buf_append_byte(out, '\n'));
    return iotca_buf_cstr(out);
}

iotca_rc iotca_base64_decode(iotca_slice text, iotca_buf *out) {
    const uint8_t *p = text.p;
    size_t n = text.len;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = iotca_base64_value(c);
        IOTCA_ENSURE(v >= 0 && pad == 0, IOTCA_E_PARSE, "invalid base64 character (byte %zu)", i + 1);
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            IOTCA_GUARD(iotca_buf_append_byte(out, (uint8_t)(acc >> bits)));
        }
    }
    IOTCA_ENSURE(pad <= 2 && bits < 6 && (acc & ((1u << bits) - 1)) == 0, IOTCA_E_PARSE, "bad base64 padding");
    return IOTCA_OK;
}

static const uint8_t *find(const uint8_t *h, size_t hn, const char *needle) {
    size_t nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, needle, nn) == 0) return h + i;
    return NULL;
}

iotca_rc iotca_pem_next(iotca_slice *text, const char *label, iotca_buf *der, char label_out[64]) {
    static const char begin[] = "-----BEGIN ";
    const uint8_t *p = text->p, *end = text->p + text->len;
    for (;;) {
        const uint8_t *b = find(p, (size_t)(end - p), begin);
        IOTCA_ENSURE(b != NULL, IOTCA_E_PARSE, "PEM: no %s%sblock found", label ? label : "", label ? " " : "");
        const uint8_t *lstart = b + sizeof begin - 1;
        const uint8_t *lend = find(lstart, (size_t)(end - lstart), "-----");
        IOTCA_ENSURE(lend != NULL && lend - lstart < 64, IOTCA_E_PARSE, "PEM: malformed BEGIN line");
        char lab[64];
        memcpy(lab, lstart, (size_t)(lend - lstart));
        lab[lend - lstart] = 0;
        /* RFC 7468 §3: a label is printable ASCII; anything else is not PEM (and must not reach a message) */
        for (const char *c = lab; *c; c++)
            IOTCA_ENSURE(*c >= 0x20 && *c < 0x7f, IOTCA_E_PARSE, "PEM: malformed BEGIN line");
        const uint8_t *body = lend + 5;
        char endline[96];
        snprintf(endline, sizeof endline, "-----END %s-----", lab);
        const uint8_t *e = find(body, (size_t)(end - body), endline);
        IOTCA_ENSURE(e != NULL, IOTCA_E_PARSE, "PEM: no END line for %s", lab);
        if (label != NULL && strcmp(label, lab) != 0) {
            p = e + strlen(endline);
            continue;
        }
        /* RFC 1421 encapsulated headers (Proc-Type: ...) mean legacy encryption */
        IOTCA_ENSURE(find(body, (size_t)(e - body), ":") == NULL, IOTCA_E_PARSE,
                     "PEM: headers in a %s block are not supported", lab);
        size_t before = der->len;
        iotca_rc rc = iotca_base64_decode(iotca_slice_of(body, (size_t)(e - body)), der);
        if (rc != IOTCA_OK) rc = iotca_error_set(rc, "PEM: %s", iotca_error_detail());
        if (rc != IOTCA_OK) { /* leave der as it was: callers free only what a successful call added */
            if (before == 0) {
                iotca_buf_free(der);
            } else {
                if (der->secret) iotca_wipe(der->data + before, der->len - before);
                der->len = before;
            }
            return rc;
        }
        IOTCA_ENSURE(der->len > before, IOTCA_E_PARSE, "PEM: empty %s block", lab);
        if (label_out) strcpy(label_out, lab);
        const uint8_t *after = e + strlen(endline);
        text->len -= (size_t)(after - text->p);
        text->p = after;
        return IOTCA_OK;
    }
}

iotca_rc iotca_pem_or_der(iotca_slice in, const char *label, iotca_buf *der) {
    IOTCA_ENSURE(in.len > 0, IOTCA_E_PARSE, "empty input");
    if (in.p[0] == 0x30) return iotca_buf_append(der, in.p, in.len);
    return iotca_pem_next(&in, label, der, NULL);
}
