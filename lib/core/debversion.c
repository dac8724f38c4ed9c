/* Debian package versions and dpkg's status file (debversion.h). */
#include <stdlib.h>
#include <string.h>

#include "iotca/debversion.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool in_set(char c, const char *extra) { return is_digit(c) || is_alpha(c) || (c && strchr(extra, c)); }

bool iotca_debversion_valid(const char *s) {
    if (s == NULL || *s == 0 || strlen(s) >= IOTCA_DEBVERSION_MAX) return false;
    const char *colon = strchr(s, ':'), *up = s;
    if (colon) {
        if (colon == s) return false;
        for (const char *p = s; p < colon; p++)
            if (!is_digit(*p)) return false;
        up = colon + 1;
    }
    const char *dash = strrchr(up, '-');
    const char *end = dash ? dash : up + strlen(up);
    if (up == end || !is_digit(*up)) return false;
    for (const char *p = up; p < end; p++)
        if (!in_set(*p, colon ? ".+~-:" : ".+~-")) return false;
    if (dash) {
        if (dash[1] == 0) return false;
        for (const char *p = dash + 1; *p; p++)
            if (!in_set(*p, ".+~")) return false;
    }
    return true;
}

/* The weight of one character of a non-digit run: the end and digits 0, '~' below it, letters by their code,
 * everything else after the letters. */
static int weight(char c) {
    if (c == 0 || is_digit(c)) return 0;
    if (c == '~') return -1;
    if (is_alpha(c)) return (unsigned char)c;
    return (unsigned char)c + 256;
}

/* One part (upstream or revision), [a, a_end) against [b, b_end). */
static int part_cmp(const char *a, const char *a_end, const char *b, const char *b_end) {
#define AT(p, e) ((p) < (e) ? *(p) : 0)
    while (a < a_end || b < b_end) {
        while ((a < a_end && !is_digit(*a)) || (b < b_end && !is_digit(*b))) {
            int wa = weight(AT(a, a_end)), wb = weight(AT(b, b_end));
            if (wa != wb) return wa - wb;
            a++, b++;
        }
        while (a < a_end && *a == '0') a++;
        while (b < b_end && *b == '0') b++;
        int first = 0;
        while (a < a_end && b < b_end && is_digit(*a) && is_digit(*b)) {
            if (first == 0) first = *a - *b;
            a++, b++;
        }
        if (a < a_end && is_digit(*a)) return 1; /* the longer run of digits is the larger number */
        if (b < b_end && is_digit(*b)) return -1;
        if (first) return first;
    }
    return 0;
#undef AT
}

typedef struct parts {
    unsigned long epoch;
    const char *up, *up_end, *rev, *rev_end;
} parts;

static parts split(const char *s) {
    parts p = {0};
    const char *colon = strchr(s, ':');
    p.up = colon ? colon + 1 : s;
    if (colon) p.epoch = strtoul(s, NULL, 10);
    const char *dash = strrchr(p.up, '-');
    p.up_end = dash ? dash : p.up + strlen(p.up);
    p.rev = dash ? dash + 1 : p.up_end;
    p.rev_end = p.rev + strlen(p.rev);
    return p;
}

int iotca_debversion_cmp(const char *a, const char *b) {
    parts x = split(a), y = split(b);
    if (x.epoch != y.epoch) return x.epoch < y.epoch ? -1 : 1;
    int c = part_cmp(x.up, x.up_end, y.up, y.up_end);
    return c ? c : part_cmp(x.rev, x.rev_end, y.rev, y.rev_end);
}

/* The value of field name in line [p, e) ("Name: value"), into out (trimmed); false when it is another field. */
static bool field(const char *p, const char *e, const char *name, char *out, size_t cap) {
    size_t n = strlen(name);
    if ((size_t)(e - p) < n + 1 || memcmp(p, name, n) != 0 || p[n] != ':') return false;
    p += n + 1;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    size_t len = (size_t)(e - p) < cap - 1 ? (size_t)(e - p) : cap - 1;
    memcpy(out, p, len);
    out[len] = 0;
    return true;
}

typedef struct stanza {
    char pkg[256], ver[IOTCA_DEBVERSION_MAX], status[128];
} stanza;

/* At a stanza's end: its version into out when it is an installed package of the prefix and higher. */
static void take(stanza *s, const char *prefix, char out[IOTCA_DEBVERSION_MAX], bool *found) {
    if (s->pkg[0] && strncmp(s->pkg, prefix, strlen(prefix)) == 0 && strcmp(s->status, "install ok installed") == 0 &&
        iotca_debversion_valid(s->ver) && (!*found || iotca_debversion_cmp(s->ver, out) > 0)) {
        memcpy(out, s->ver, sizeof s->ver);
        *found = true;
    }
    memset(s, 0, sizeof *s);
}

bool iotca_dpkg_installed(iotca_slice status, const char *prefix, char out[IOTCA_DEBVERSION_MAX]) {
    stanza s = {0};
    bool found = false;
    const char *p = (const char *)status.p, *end = p + status.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e > p && e[-1] == '\r') e--;
        if (e == p) take(&s, prefix, out, &found); /* a blank line ends a stanza */
        else if (e - p <= 4096 && !field(p, e, "Package", s.pkg, sizeof s.pkg) &&
                 !field(p, e, "Version", s.ver, sizeof s.ver))
            field(p, e, "Status", s.status, sizeof s.status);
        p = nl ? nl + 1 : end;
    }
    take(&s, prefix, out, &found);
    return found;
}
