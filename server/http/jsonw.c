/* A JSON object written straight into a response body (jsonw.h). Strings are escaped as RFC 8259 §7 asks and
 * as Jansson's compact output does ('"', '\\' and the controls below U+0020; '/' and non-ASCII stay as they
 * are), after checking they are well-formed UTF-8 (RFC 3629), which JSON text must be (RFC 8259 §8.1). */
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

static void put(jsonw *w, const char *p, size_t n) {
    if (!w->bad && iotca_buf_append(w->b, p, n) != IOTCA_OK) w->bad = true;
}

size_t jsonw_utf8_len(const unsigned char *p) {
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    unsigned c = p[0];
    size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (k <= 1) return k;
    unsigned cp = c & (0x7fu >> k);
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    return cp >= min[k] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? k : 0;
}

static void string(jsonw *w, const char *s) {
    const unsigned char *p = (const unsigned char *)s, *run = p;
    put(w, "\"", 1);
    while (*p) {
        unsigned c = *p;
        if (c >= 0x20 && c != '"' && c != '\\') {
            size_t k = c < 0x80 ? 1 : jsonw_utf8_len(p);
            if (k == 0) {
                w->bad = true;
                return;
            }
            p += k;
            continue;
        }
        put(w, (const char *)run, (size_t)(p - run));
        char esc[8];
        const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                        : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        if (e == NULL) {
            snprintf(esc, sizeof esc, "\\u%04X", c);
            e = esc;
        }
        put(w, e, strlen(e));
        run = ++p;
    }
    put(w, (const char *)run, (size_t)(p - run));
    put(w, "\"", 1);
}

/* The separator before a member or item, then the key and its colon (key NULL: an array's item). */
static void member(jsonw *w, const char *key) {
    if (w->depth == 0) {
        w->bad = true; /* nothing is open */
        return;
    }
    if (!w->first[w->depth]) put(w, ",", 1);
    w->first[w->depth] = false;
    if (key) {
        string(w, key);
        put(w, ":", 1);
    }
}

static void open(jsonw *w, const char *bracket) {
    if (w->depth == JSONW_DEPTH) {
        w->bad = true;
        return;
    }
    put(w, bracket, 1);
    w->depth++;
    w->first[w->depth] = true;
    w->kind[w->depth] = bracket[0];
}

void jsonw_open(jsonw *w, iotca_buf *b) {
    *w = (jsonw){.b = b};
    iotca_buf_clear(b);
    open(w, "{");
}

void jsonw_str(jsonw *w, const char *key, const char *v) {
    member(w, key);
    if (v) string(w, v);
    else put(w, "null", 4);
}

void jsonw_int(jsonw *w, const char *key, long long v) {
    char n[24];
    member(w, key);
    put(w, n, (size_t)snprintf(n, sizeof n, "%lld", v));
}

void jsonw_bool(jsonw *w, const char *key, bool v) {
    member(w, key);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_time(jsonw *w, const char *key, time_t t) {
    if (t == 0) {
        jsonw_null(w, key);
        return;
    }
    char s[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    jsonw_str(w, key, s);
}

void jsonw_null(jsonw *w, const char *key) {
    member(w, key);
    put(w, "null", 4);
}

void jsonw_object(jsonw *w, const char *key) {
    member(w, key);
    open(w, "{");
}

void jsonw_array(jsonw *w, const char *key) {
    member(w, key);
    open(w, "[");
}

void jsonw_item(jsonw *w, const char *v) { jsonw_str(w, NULL, v); }

void jsonw_end(jsonw *w) {
    if (w->depth == 0) {
        w->bad = true;
        return;
    }
    put(w, w->kind[w->depth] == '[' ? "]" : "}", 1);
    w->depth--;
}

bool jsonw_done(jsonw *w) {
    if (w->depth != 0) w->bad = true;
    if (!w->bad && iotca_buf_cstr(w->b) != IOTCA_OK) w->bad = true;
    return !w->bad;
}
