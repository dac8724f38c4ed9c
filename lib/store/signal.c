/* The revocation signal: a counter in a small file next to the database (<database>-revocations), mapped
 * shared by every process that opens the database. A process bumps it after committing a revocation; the
 * others compare it with the value they last acted on before serving a cached OCSP answer, and read the
 * revocation feed (feed.c) only when it moved. Reading it costs a memory load where a feed query costs a
 * read transaction (about 6 us and six fcntl calls, measured here on a 2-core VM), on the responder's hottest path.
 * It only says "look": the feed in the database is the record, and the tick reads it whatever the signal says,
 * so a process that died between its commit and its bump delays the others by one tick at most. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iotca/store.h"

#define SIGNAL_SIZE 4096 /* one page; the counter is its first 8 bytes */

struct iotca_store_signal {
    uint64_t *counter; /* in the shared mapping */
};

iotca_rc iotca_store_signal_open(const char *db_path, iotca_store_signal **out) {
    IOTCA_ENSURE(db_path != NULL && out != NULL, IOTCA_E_USAGE, "iotca_store_signal_open: NULL argument");
    *out = NULL;
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
    munmap(sig->counter, SIGNAL_SIZE);
    free(sig);
}

uint64_t iotca_store_signal_read(const iotca_store_signal *sig) {
    return __atomic_load_n(sig->counter, __ATOMIC_ACQUIRE);
}

void iotca_store_signal_bump(iotca_store_signal *sig) { __atomic_add_fetch(sig->counter, 1, __ATOMIC_ACQ_REL); }
