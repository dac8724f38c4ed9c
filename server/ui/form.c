/* What a browser sends the dashboard besides the path: a form's body (application/x-www-form-urlencoded, the
 * WHATWG URL standard §5.1) and the Cookie header (RFC 6265 §5.4). Both come from outside: bounded, and every
 * malformed byte refused rather than guessed at. */
#include <string.h>

#include "ui.h"

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes p[0..n) ('+' a space, %XX a byte) into out (cap bytes with its NUL); false on a bad escape, a NUL or
 * a control byte, or a value that does not fit. */
static bool decode(const uint8_t *p, size_t n, char *out, size_t cap, const char **why) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = p[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            if (i + 2 >= n) {
                *why = "a truncated %-escape";
                return false;
            }
            if (hexval(p[i + 1]) < 0 || hexval(p[i + 2]) < 0) {
                *why = "a %-escape that is not two hex digits";
                return false;
            }
            c = hexval(p[i + 1]) * 16 + hexval(p[i + 2]);
            i += 2;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            *why = "a control byte";
            return false;
        }
        if (o + 1 >= cap) {
            *why = "a field too long";
            return false;
        }
        out[o++] = (char)c;
    }
    out[o] = 0;
    return true;
}

bool ui_form_parse(const uint8_t *body, size_t len, ui_form *f, const char **why) {
    memset(f, 0, sizeof *f);
    *why = "";
    if (len > UI_FORM_MAX_BODY) {
        *why = "the form is too large";
        return false;
    }
    size_t i = 0;
    while (i < len) {
        const uint8_t *amp = memchr(body + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end > i) { /* empty pairs ("a=1&&b=2") are skipped, as the standard does */
            if (f->n == UI_FORM_MAX_FIELDS) {
                *why = "too many form fields";
                return false;
            }
            const uint8_t *eq = memchr(body + i, '=', end - i);
            size_t name_end = eq ? (size_t)(eq - body) : end;
            if (!decode(body + i, name_end - i, f->name[f->n], sizeof f->name[f->n], why)) return false;
            if (eq && !decode(eq + 1, end - name_end - 1, f->value[f->n], sizeof f->value[f->n], why)) return false;
            f->n++;
        }
        i = end + 1;
    }
    return true;
}

const char *ui_form_get(const ui_form *f, const char *name) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0) return f->value[i];
    return NULL;
}

bool ui_cookie_get(const char *header, const char *name, char *out, size_t cap) {
    if (header == NULL) return false;
    size_t nl = strlen(name);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            while (vl && p[nl + 1 + vl - 1] == ' ') vl--;
            if (vl + 1 > cap) return false;
            memcpy(out, p + nl + 1, vl);
            out[vl] = 0;
            return true;
        }
        if (end == NULL) break;
        p = end + 1;
    }
    return false;
}
