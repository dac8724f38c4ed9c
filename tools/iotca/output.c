/* Output helpers: error reports and exit codes, pretty JSON, safe text fields and aligned tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cli_report(iotca_rc rc) {
    if (rc == IOTCA_OK) return EXIT_OK;
    cli_err("%s", iotca_error_detail());
    switch (rc) {
    case IOTCA_E_USAGE:
    case IOTCA_E_PARSE:
    case IOTCA_E_POLICY:
    case IOTCA_E_STORAGE: return EXIT_USAGE;
    default: return EXIT_LOCAL;
    }
}

void cli_err(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("iotca: ", stderr);
    out_safe(stderr, msg);
    fputc('\n', stderr);
}

void out_json(const json_t *doc) {
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
    }
    free(s);
}

const char *jstr(const json_t *o, const char *key, const char *fallback) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : fallback;
}

const char *jscalar(const json_t *o, const char *key, char *buf, size_t n, const char *fallback) {
    const json_t *v = json_object_get(o, key);
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return fallback;
}

void out_safe(FILE *f, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

void out_field(const char *label, const char *value) {
    printf("  %-12s ", label);
    out_safe(stdout, value);
    fputc('\n', stdout);
}

static char *safe_dup(const char *s) {
    char *d = strdup(s ? s : "");
    if (d)
        for (char *p = d; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return d;
}

void table_init(table *t, size_t ncols, const char *const *headers) {
    memset(t, 0, sizeof *t);
    t->ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS;
    table_add(t, headers);
}

void table_add(table *t, const char *const *row) {
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **cells = realloc(t->cells, cap * t->ncols * sizeof *cells);
        if (cells == NULL) return; /* out of memory: the row is dropped, the table stays consistent */
        t->cells = cells;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        char *d = safe_dup(row[i]);
        t->cells[t->nrows * t->ncols + i] = d;
        size_t w = d ? strlen(d) : 0;
        if (w > t->width[i]) t->width[i] = w;
    }
    t->nrows++;
}

void table_print(const table *t, FILE *f) {
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * t->ncols + i] ? t->cells[r * t->ncols + i] : "";
            if (i + 1 == t->ncols) fprintf(f, "%s\n", s);
            else fprintf(f, "%-*s  ", (int)t->width[i], s);
        }
    }
}

void table_free(table *t) {
    for (size_t i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

void fmt_time(time_t t, char out[32]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

iotca_rc out_path_free(const char *flag, const char *path) {
    struct stat st;
    if (lstat(path, &st) == 0) IOTCA_BAIL(IOTCA_E_USAGE, "%s %s already exists; iotca never overwrites files", flag, path);
    IOTCA_ENSURE(errno == ENOENT, IOTCA_E_USAGE, "%s %s: %s", flag, path, strerror(errno));
    return IOTCA_OK;
}
