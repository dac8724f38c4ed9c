/* File helpers that keep secrets' files private and never clobber a file by accident. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iotca/file.h"

/* secret: refuse (or, with insist, flag in *loose) a mode that grants group or others anything */
static iotca_rc read_file(const char *path, size_t max, iotca_buf *out, bool secret, bool insist, bool *loose) {
    if (loose) *loose = false;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    IOTCA_ENSURE(fd >= 0, IOTCA_E_STORAGE, "cannot open %s: %s", path,
                 errno == ELOOP ? "it is a symbolic link" : strerror(errno));
    iotca_rc rc = IOTCA_OK;
    struct stat st;
    IOTCA_CHECK(fstat(fd, &st) == 0, IOTCA_E_STORAGE, "cannot stat %s: %s", path, strerror(errno));
    IOTCA_CHECK(S_ISREG(st.st_mode), IOTCA_E_STORAGE, "%s is not a regular file", path);
    if (secret && (st.st_mode & 077)) {
        IOTCA_CHECK(insist, IOTCA_E_USAGE,
                    "%s holds a secret but its mode %04o lets group or others %s it: chmod 600 it (or use "
                    IOTCA_ALLOW_READABLE_SECRETS " to read it anyway)",
                    path, (unsigned)(st.st_mode & 07777), (st.st_mode & 044) ? "read" : (st.st_mode & 022) ? "write" : "reach");
        if (loose) *loose = true;
    }
    IOTCA_CHECK((size_t)st.st_size <= max, IOTCA_E_USAGE, "%s is %lld bytes, over the %zu-byte limit", path,
                (long long)st.st_size, max);
    IOTCA_TRY(iotca_buf_reserve(out, (size_t)st.st_size));
    for (;;) {
        IOTCA_TRY(iotca_buf_reserve(out, 4096));
        ssize_t r = read(fd, out->data + out->len, 4096);
        if (r < 0 && errno == EINTR) continue;
        IOTCA_CHECK(r >= 0, IOTCA_E_STORAGE, "cannot read %s: %s", path, strerror(errno));
        if (r == 0) break;
        out->len += (size_t)r;
        IOTCA_CHECK(out->len <= max, IOTCA_E_USAGE, "%s grew over the %zu-byte limit", path, max);
    }
out:
    close(fd);
    return rc;
}

iotca_rc iotca_file_read(const char *path, size_t max, iotca_buf *out) {
    return read_file(path, max, out, false, false, NULL);
}

iotca_rc iotca_file_read_secret(const char *path, size_t max, bool insist, iotca_buf *out, bool *loose) {
    return read_file(path, max, out, true, insist, loose);
}

static iotca_rc write_all(int fd, const void *data, size_t n, const char *path) {
    const uint8_t *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        IOTCA_ENSURE(w > 0, IOTCA_E_STORAGE, "cannot write %s: %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    IOTCA_ENSURE(fsync(fd) == 0, IOTCA_E_STORAGE, "cannot sync %s: %s", path, strerror(errno));
    return IOTCA_OK;
}

iotca_rc iotca_file_create(const char *path, const void *data, size_t n, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    IOTCA_ENSURE(fd >= 0, IOTCA_E_STORAGE, "cannot create %s: %s", path,
                 errno == EEXIST ? "it already exists (never overwritten)" : strerror(errno));
    /* the umask may have narrowed mode; make it exact */
    iotca_rc rc = fchmod(fd, mode) == 0 ? write_all(fd, data, n, path)
                                         : iotca_error_set(IOTCA_E_STORAGE, "chmod %s: %s", path, strerror(errno));
    close(fd);
    if (rc != IOTCA_OK) unlink(path);
    return rc;
}

static void sync_dir_of(const char *path) {
    char *copy = strdup(path);
    if (copy == NULL) return;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(copy);
}

iotca_rc iotca_file_replace(const char *path, const void *data, size_t n, mode_t mode) {
    char tmp[4096];
    IOTCA_ENSURE(snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) < (int)sizeof tmp, IOTCA_E_USAGE,
                 "path too long");
    unlink(tmp);
    IOTCA_GUARD(iotca_file_create(tmp, data, n, mode));
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        IOTCA_BAIL(IOTCA_E_STORAGE, "cannot replace %s: %s", path, strerror(e));
    }
    sync_dir_of(path);
    return IOTCA_OK;
}

iotca_rc iotca_file_append(const char *path, const void *data, size_t n) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    IOTCA_ENSURE(fd >= 0, IOTCA_E_STORAGE, "cannot open %s for appending: %s", path, strerror(errno));
    iotca_rc rc = write_all(fd, data, n, path);
    close(fd);
    return rc;
}
