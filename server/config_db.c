/* The config's "database" (issue 25): a SQLite file path, PostgreSQL conninfo as a string (a postgresql:// URL
 * or key=value words), or an object with the conninfo (a string, or libpq's keywords as an object) and the
 * connection settings: connect_timeout_s, statement_timeout_ms, pool_size, and read_conninfo, a read replica (a hot standby)
 * for OCSP, CRL and inventory reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* libpq's conninfo words from an object of its keywords: key='value', with \ and ' escaped (libpq's rule for
 * quoted values). A password is refused: secrets are not kept in the config (libpq's passfile names a file). */
static iotca_rc words(json_t *o, const char *where, iotca_buf *out) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (strncmp(k, "//", 2) == 0) continue;
        IOTCA_ENSURE(strcmp(k, "password") != 0, IOTCA_E_USAGE,
                     "config: database.%s.password: keep the password out of the config; name a libpq "
                     "password file with passfile (mode 0600)",
                     where);
        size_t kl = strlen(k);
        IOTCA_ENSURE(kl > 0 && strspn(k, "abcdefghijklmnopqrstuvwxyz_") == kl, IOTCA_E_USAGE,
                     "config: database.%s: '%s' is not a libpq keyword", where, k);
        char num[24];
        const char *val = num;
        if (json_is_integer(v))
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        else if (json_is_string(v) && json_string_length(v) < 1024)
            val = json_string_value(v);
        else
            IOTCA_BAIL(IOTCA_E_USAGE, "config: database.%s.%s must be a string or an integer", where, k);
        IOTCA_GUARD(iotca_buf_printf(out, "%s%s='", out->len ? " " : "", k));
        for (const char *p = val; *p; p++)
            IOTCA_GUARD(iotca_buf_printf(out, "%s%c", *p == '\\' || *p == '\'' ? "\\" : "", *p));
        IOTCA_GUARD(iotca_buf_printf(out, "'"));
    }
    /* words that name neither dbname nor host would be read as a SQLite path by the store */
    IOTCA_ENSURE(json_object_get(o, "dbname") || json_object_get(o, "host"), IOTCA_E_USAGE,
                 "config: database.%s must name dbname or host", where);
    return iotca_buf_append(out, "", 1); /* the terminating NUL */
}

/* database.<where>: a postgresql:// URL, key=value words, or an object of libpq keywords (made into words in
 * owned); *out points at the conninfo. */
static iotca_rc conninfo(json_t *ci, const char *where, iotca_buf *owned, const char **out) {
    if (json_is_object(ci)) {
        IOTCA_GUARD(words(ci, where, owned));
        *out = (const char *)owned->data;
    } else {
        IOTCA_ENSURE(json_is_string(ci) && json_string_length(ci) > 0 && json_string_length(ci) < 1024, IOTCA_E_USAGE,
                     "config: database.%s must be a postgresql:// URL, key=value words, or an object of libpq "
                     "keywords",
                     where);
        *out = json_string_value(ci);
    }
    IOTCA_ENSURE(iotca_ca_database_is_pg(*out), IOTCA_E_USAGE,
                 "config: database.%s is not PostgreSQL conninfo (a postgresql:// URL, or words naming dbname "
                 "or host); a SQLite file is given as the database string itself",
                 where);
    return IOTCA_OK;
}

static iotca_rc get_limit(json_t *o, const char *key, long lo, long hi, unsigned *out) {
    json_t *v = json_object_get(o, key);
    if (v == NULL) return IOTCA_OK;
    IOTCA_ENSURE(json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi, IOTCA_E_USAGE,
                 "config: database.%s must be an integer from %ld to %ld", key, lo, hi);
    *out = (unsigned)json_integer_value(v);
    return IOTCA_OK;
}

iotca_rc config_load_database(config *c, json_t *j) {
    json_t *d = json_object_get(j, "database");
    c->db.connect_timeout_s = 10;
    c->db.statement_timeout_ms = 30000;
    if (json_is_string(d)) {
        IOTCA_ENSURE(json_string_length(d) > 0 && json_string_length(d) < 1024, IOTCA_E_USAGE,
                     "config: database must be a non-empty string (a SQLite file, or PostgreSQL conninfo)");
        c->database = json_string_value(d);
        return IOTCA_OK;
    }
    IOTCA_ENSURE(json_is_object(d), IOTCA_E_USAGE,
                 "config: database is required: a SQLite file path, PostgreSQL conninfo, or an object with conninfo");
    static const char *const keys[] = {"conninfo",   "read_conninfo", "connect_timeout_s", "statement_timeout_ms",
                                       "pool_size", NULL};
    IOTCA_GUARD(config_only_keys(d, "database", keys));
    json_t *ci = json_object_get(d, "conninfo");
    IOTCA_ENSURE(ci != NULL, IOTCA_E_USAGE,
                 "config: database.conninfo is required: a postgresql:// URL, key=value words, or an object of "
                 "libpq keywords");
    IOTCA_GUARD(conninfo(ci, "conninfo", &c->db.owned, &c->database));
    json_t *rd = json_object_get(d, "read_conninfo");
    if (rd) IOTCA_GUARD(conninfo(rd, "read_conninfo", &c->db.read_owned, &c->db.read));
    IOTCA_GUARD(get_limit(d, "connect_timeout_s", 1, 300, &c->db.connect_timeout_s));
    IOTCA_GUARD(get_limit(d, "statement_timeout_ms", 0, 3600000, &c->db.statement_timeout_ms));
    /* at least 2: the tick's thread keeps one (its lock among replicas), requests share the rest */
    IOTCA_GUARD(get_limit(d, "pool_size", 2, 10000, &c->db.pool_size));
    return IOTCA_OK;
}

/* Appends n bytes of p to out[*k] within cap (one byte kept for the NUL). */
static void put(char *out, size_t cap, size_t *k, const char *p, size_t n) {
    while (n-- && *k + 1 < cap) out[(*k)++] = *p++;
}

void config_database_display(const char *db, char *out, size_t cap) {
    if (cap == 0) return;
    size_t k = 0;
    const char *p = db, *scheme = strstr(db, "://");
    if (scheme) { /* a URL's user:password@ */
        const char *auth = scheme + 3, *end = auth + strcspn(auth, "/?#"), *at = memchr(auth, '@', (size_t)(end - auth));
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            put(out, cap, &k, db, (size_t)(colon + 1 - db));
            put(out, cap, &k, "***", 3);
            p = at;
        }
    }
    /* password=... among words, or a URL's password= parameter: the value, quoted or not, becomes *** */
    for (const char *m; (m = strstr(p, "password=")) != NULL;) {
        put(out, cap, &k, p, (size_t)(m + 9 - p));
        put(out, cap, &k, "***", 3);
        const char *v = m + 9;
        if (*v == '\'') {
            for (v++; *v && *v != '\''; v++)
                if (*v == '\\' && v[1]) v++;
            if (*v) v++;
        } else {
            v += strcspn(v, " &");
        }
        p = v;
    }
    put(out, cap, &k, p, strlen(p));
    out[k] = 0;
}
