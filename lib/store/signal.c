/* The revocation signal: a counter in a small file next to the database (<database>-revocations), mapped
 * shared by every process that opens the database. A process bumps it after committing a revocation; the
 * others compare it with the value they last acted on before serving a cached OCSP answer, and read the
 * revocation feed (feed.c) only when it moved. Reading it costs a memory load where a feed query costs a
 * read transaction (about 6 us and six fcntl calls, measured here on a 2-core VM), on the responder's hottest path.
 * It only says "look": the feed in the database is the record, and the tick reads it whatever the signal says,
 * so a process that died between its commit and its bump delays the others by one tick at most.
 *
 * On PostgreSQL (issue 25) the processes share no file system: each keeps the counter in its own memory, and a
 * thread of the signal LISTENs on iotca_revocations with a connection of its own and bumps it for every
 * notification. A revocation's transaction notifies (certs.c), and PostgreSQL delivers that at its commit, so
 * no process can die between the two. While the listening connection is lost the thread bumps once a second
 * (every request reads the feed: nothing can be missed), and once more when it listens again. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"

#define SIGNAL_SIZE 4096 /* one page; the counter is its first 8 bytes */

struct iotca_store_signal {
    uint64_t *counter; /* in the shared mapping; on PostgreSQL, &own */
    /* PostgreSQL */
    uint64_t own;
    iotca_store *listener; /* the listening thread's connection */
    pthread_t thread;
    bool running, stop; /* stop: read and written atomically */
};

#define PG_CHANNEL "iotca_revocations"

static void *listen_loop(void *arg) {
    iotca_store_signal *sig = arg;
    db_pg *c = iotca_store_pg(sig->listener);
    bool listening = false;
    while (!__atomic_load_n(&sig->stop, __ATOMIC_ACQUIRE)) {
        if (!listening) {
            listening = db_pg_listen(c, PG_CHANNEL) == IOTCA_OK;
            iotca_store_signal_bump(sig); /* what was revoked while not listening is in the feed */
            if (!listening) sleep(1);
            continue;
        }
        int n = db_pg_wait_notify(c, 500);
        if (n > 0) iotca_store_signal_bump(sig);
        if (n < 0) listening = false;
    }
    return NULL;
}

static iotca_rc open_pg(const char *conninfo, iotca_store_signal **out) {
    iotca_store_signal *sig = calloc(1, sizeof *sig);
    IOTCA_ENSURE(sig != NULL, IOTCA_E_INTERNAL, "out of memory");
    sig->counter = &sig->own;
    iotca_rc rc = iotca_store_open(conninfo, false, 0, &sig->listener);
    if (rc == IOTCA_OK) rc = db_pg_listen(iotca_store_pg(sig->listener), PG_CHANNEL);
    if (rc == IOTCA_OK && pthread_create(&sig->thread, NULL, listen_loop, sig) != 0)
        rc = iotca_error_set(IOTCA_E_INTERNAL, "cannot start the revocation listener");
    if (rc != IOTCA_OK) {
        iotca_store_close(sig->listener);
        free(sig);
        return rc;
    }
    sig->running = true;
    *out = sig;
    return IOTCA_OK;
}

iotca_rc iotca_store_signal_open(const char *db_path, iotca_store_signal **out) {
    IOTCA_ENSURE(db_path != NULL && out != NULL, IOTCA_E_USAGE, "iotca_store_signal_open: NULL argument");
    *out = NULL;
    if (iotca_store_is_pg_conninfo(db_path)) return open_pg(db_path, out);
    char path[4096];
    IOTCA_ENSURE(snprintf(path, sizeof path, "%s-revocations", db_path) < (int)sizeof path, IOTCA_E_USAGE,
                 "database path too long");
    /* O_NOFOLLOW: a symlink planted in the database's directory does not redirect the mapping; 0600 as the
     * database itself */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    IOTCA_ENSURE(fd >= 0, IOTCA_E_STORAGE, "opening %s: %s", path, strerror(errno));
    struct stat st;
    iotca_rc rc = IOTCA_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = iotca_error_set(IOTCA_E_STORAGE, "%s is not a regular file", path);
    /* every opener extends it to the same size; a file of that size already is left as it is (its counter
     * lives on), and ftruncate to a larger size fills with zeros */
    else if (st.st_size < SIGNAL_SIZE && ftruncate(fd, SIGNAL_SIZE) != 0)
        rc = iotca_error_set(IOTCA_E_STORAGE, "sizing %s: %s", path, strerror(errno));
    void *map = MAP_FAILED;
    if (rc == IOTCA_OK) {
        map = mmap(NULL, SIGNAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) rc = iotca_error_set(IOTCA_E_STORAGE, "mapping %s: %s", path, strerror(errno));
    }
    close(fd); /* the mapping keeps the file */
    IOTCA_GUARD(rc);
    iotca_store_signal *sig = calloc(1, sizeof *sig);
    if (sig == NULL) {
        munmap(map, SIGNAL_SIZE);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "out of memory");
    }
    sig->counter = map;
    *out = sig;
    return IOTCA_OK;
}

void iotca_store_signal_close(iotca_store_signal *sig) {
    if (sig == NULL) return;
    if (sig->listener) {
        __atomic_store_n(&sig->stop, true, __ATOMIC_RELEASE);
        if (sig->running) pthread_join(sig->thread, NULL);
        iotca_store_close(sig->listener);
        free(sig);
        return;
    }
    munmap(sig->counter, SIGNAL_SIZE);
    free(sig);
}

uint64_t iotca_store_signal_read(const iotca_store_signal *sig) {
    return __atomic_load_n(sig->counter, __ATOMIC_ACQUIRE);
}

void iotca_store_signal_bump(iotca_store_signal *sig) { __atomic_add_fetch(sig->counter, 1, __ATOMIC_ACQ_REL); }
