/* The fixture lib/store's unit tests share: a migrated database in a temporary directory (s, at path), opened
 * by store_fixture_open and removed with its WAL, shared memory and revocation feed by store_fixture_close;
 * and the two assertions they use: OK, and REFUSED with the error's category and a part of its detail. */
#ifndef IOTCA_TEST_STORE_FIXTURE_H
#define IOTCA_TEST_STORE_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iotca/store.h"

#define T0 ((time_t)1700000000)
#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define REFUSED(x, code, text)                                                                                         \
    do {                                                                                                               \
        iotca_rc rc_ = (x);                                                                                            \
        ck_assert_msg(rc_ == (code), "%s: %d (%s)", #x, (int)rc_, iotca_error_detail());                               \
        ck_assert_msg(strstr(iotca_error_detail(), text), "%s: '%s' lacks '%s'", #x, iotca_error_detail(), text);      \
    } while (0)

static char dir[64], path[128];
static iotca_store *s;

/* The PostgreSQL database the tests run against instead of SQLite (issue 25), or NULL: set by
 * tests/unit/with_pg.sh, which starts a private PostgreSQL for the run. */
static inline const char *store_fixture_pg(void) {
    const char *url = getenv("IOTCA_TEST_PG_URL");
    return url && *url ? url : NULL;
}

/* What another connection to the test's database opens: the PostgreSQL URL, or the SQLite file. */
static inline const char *store_fixture_db(void) { return store_fixture_pg() ? store_fixture_pg() : path; }

/* A fresh directory /tmp/iotca-NAME-XXXXXX with a migrated database ca.db, open as s; on PostgreSQL, its schema
 * emptied (psql) and migrated again, so each test starts from nothing as with a new file. */
static inline void store_fixture_open(const char *name) {
    snprintf(dir, sizeof dir, "/tmp/iotca-%.20s-XXXXXX", name);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ca.db", dir);
    const char *pg = store_fixture_pg();
    if (pg) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "psql -X -q -v ON_ERROR_STOP=1 '%s' -c 'DROP SCHEMA public CASCADE' "
                 "-c 'CREATE SCHEMA public' >/dev/null 2>&1", pg);
        ck_assert_msg(system(cmd) == 0, "cannot empty the PostgreSQL test database %s", pg);
    }
    OK(iotca_store_open(pg ? pg : path, true, 2000, &s));
    OK(iotca_store_migrate(s));
}

/* Adds a pending issuer NAME of group "default" (a placeholder CSR: the store does not read it), for the rows
 * that need an issuer; returns its id. */
static inline int64_t store_fixture_issuer(const char *name) {
    static const uint8_t csr[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    iotca_issuer_rec r = {0};
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.group, sizeof r.group, "default");
    snprintf(r.key_ref, sizeof r.key_ref, "file:/var/lib/iotca/keys/%s.key", name);
    OK(iotca_buf_append(&r.csr, csr, sizeof csr));
    OK(iotca_store_issuer_add(s, &r, T0));
    int64_t id = r.id;
    iotca_issuer_rec_free(&r);
    return id;
}

static inline void store_fixture_close(void) {
    iotca_store_close(s);
    char p[256];
    for (const char *suffix = ""; suffix; suffix = !*suffix ? "-wal" : strcmp(suffix, "-wal") == 0 ? "-shm" : NULL) {
        snprintf(p, sizeof p, "%s%s", path, suffix);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s-revocations", path);
    unlink(p);
    rmdir(dir);
}

#endif
