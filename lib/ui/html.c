/* HTML text for the dashboard: escaping (HTML, URL) and iotca_html, the printf whose %s escapes, so a value from
 * the store reaches a page as text and never as markup. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iotca/ui.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8: what a byte that is not text becomes. */
#define REPLACEMENT "\xEF\xBF\xBD"

/* The length of the well-formed UTF-8 sequence at s (RFC 3629 §4; at most n bytes there), or 0 if the bytes at s
 * do not start one: a lone continuation byte, a truncated sequence, an overlong form (C0, C1, E0 80..9F,
 * F0 80..8F), a UTF-16 surrogate (ED A0..BF) or a code point past U+10FFFF (F4 90.., F5..FF). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the range allowed for the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return len;
}

/* What the ASCII byte c becomes, or NULL if it stays as it is. Tab and line feed are text; every other control
 * byte (C0 and DEL) is not, and HTML (§13.2.3.5) calls it a parse error in text. */
static const char *ascii_replacement(unsigned char c) {
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    case '\t':
    case '\n': return NULL;
    default: return c < 0x20 || c == 0x7F ? REPLACEMENT : NULL;
    }
}

iotca_rc iotca_html_escape(iotca_buf *out, const char *s) {
    if (s == NULL) return IOTCA_OK;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), run = 0; /* run: bytes at p[i - run .. i) that go out as they are */
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        const char *rep = len == 0 ? REPLACEMENT : len == 1 ? ascii_replacement(p[i]) : NULL;
        if (rep == NULL) {
            run += len;
            i += len;
            continue;
        }
        IOTCA_GUARD(iotca_buf_append(out, p + i - run, run));
        IOTCA_GUARD(iotca_buf_append_str(out, rep));
        run = 0;
        i++; /* an invalid sequence is replaced byte by byte: each of its bytes becomes one U+FFFD */
    }
    return iotca_buf_append(out, p + n - run, run);
}

iotca_rc iotca_url_escape(iotca_buf *out, const char *s) {
    static const char hex[] = "0123456789ABCDEF"; /* upper case, as RFC 3986 §2.1 asks producers to use */
    if (s == NULL) return IOTCA_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '.' || c == '_' || c == '~'; /* RFC 3986 §2.3 */
        if (unreserved) {
            IOTCA_GUARD(iotca_buf_append_byte(out, c));
        } else {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
            IOTCA_GUARD(iotca_buf_append(out, enc, 3));
        }
    }
    return IOTCA_OK;
}

/* t as "YYYY-MM-DD" (or with " HH:MM UTC" when with_time), "never" for 0; in UTC whatever the local zone. */
static void date_text(time_t t, bool with_time, char out[48]) {
    struct tm tm;
    if (t == 0)
        snprintf(out, 48, "never");
    else if (gmtime_r(&t, &tm) == NULL || strftime(out, 48, with_time ? "%Y-%m-%d %H:%M UTC" : "%Y-%m-%d", &tm) == 0)
        snprintf(out, 48, "@%lld", (long long)t); /* past what struct tm holds: the raw number rather than nothing */
}

/* Appends the conversion that starts at *p (just after its '%'), taking its argument from ap, and advances *p past
 * it. ap is a pointer so the caller's list moves on (C11 §7.16p3). */
static iotca_rc conversion(iotca_buf *out, const char **p, va_list *ap) {
    char num[48];
    const char *c = *p;
    if (c[0] == 's' || c[0] == 'u' || c[0] == 'H') {
        const char *s = va_arg(*ap, const char *);
        *p = c + 1;
        if (c[0] == 's') return iotca_html_escape(out, s);
        if (c[0] == 'u') return iotca_url_escape(out, s);
        return s ? iotca_buf_append_str(out, s) : IOTCA_OK;
    }
    if (c[0] == '%') {
        *p = c + 1;
        return iotca_buf_append_byte(out, '%');
    }
    if (c[0] == 'T' || c[0] == 'D') {
        date_text(va_arg(*ap, time_t), c[0] == 'D', num);
        *p = c + 1;
    } else if (c[0] == 'd') {
        snprintf(num, sizeof num, "%d", va_arg(*ap, int));
        *p = c + 1;
    } else if (c[0] == 'l' && c[1] == 'd') {
        snprintf(num, sizeof num, "%ld", va_arg(*ap, long));
        *p = c + 2;
    } else if (c[0] == 'l' && c[1] == 'l' && c[2] == 'd') {
        snprintf(num, sizeof num, "%lld", va_arg(*ap, long long));
        *p = c + 3;
    } else if (c[0] == 'z' && c[1] == 'u') {
        snprintf(num, sizeof num, "%zu", va_arg(*ap, size_t));
        *p = c + 2;
    } else {
        IOTCA_BAIL(IOTCA_E_USAGE, "iotca_html: unknown conversion '%%%.4s'", c);
    }
    return iotca_buf_append_str(out, num);
}

iotca_rc iotca_html_v(iotca_buf *out, const char *fmt, va_list ap) {
    IOTCA_ENSURE(out != NULL && fmt != NULL, IOTCA_E_USAGE, "iotca_html: no buffer or no format");
    iotca_rc rc = IOTCA_OK;
    size_t len0 = out->len;
    va_list aq;
    va_copy(aq, ap); /* a va_list parameter may be an array type; its copy is a real object to point at */
    const char *p = fmt;
    while (*p) {
        const char *pct = strchr(p, '%');
        size_t lit = pct ? (size_t)(pct - p) : strlen(p);
        IOTCA_TRY(iotca_buf_append(out, p, lit)); /* the format itself is markup this program wrote */
        if (pct == NULL) break;
        p = pct + 1;
        IOTCA_TRY(conversion(out, &p, &aq));
    }
out:
    va_end(aq);
    if (rc != IOTCA_OK) out->len = len0; /* all or nothing: no half-written element on a page */
    return rc;
}

iotca_rc iotca_html(iotca_buf *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    iotca_rc rc = iotca_html_v(out, fmt, ap);
    va_end(ap);
    return rc;
}
