/* Careful file I/O: bounded reads that refuse symlinks, exclusive 0600 creation, atomic replace. */
#ifndef IOTCA_FILE_H
#define IOTCA_FILE_H

#include <sys/types.h>

#include "iotca/buf.h"

/* Reads the whole regular file at path into out (appended), refusing a
 * symlink as the last path component (O_NOFOLLOW) and files over max bytes.
 * IOTCA_E_STORAGE with the OS reason, IOTCA_E_USAGE when too large. */
iotca_rc iotca_file_read(const char *path, size_t max, iotca_buf *out);

/* The flag every tool takes to use a secret file other users can read anyway (named in the refusal). */
#define IOTCA_ALLOW_READABLE_SECRETS "--allow-readable-secrets"
/* iotca_file_read for a file holding a secret (passphrase, PIN, token, key share): a file that grants group or
 * others any access (mode & 077) is refused with IOTCA_E_USAGE naming its mode and the fix, unless insist,
 * in which case it is read and *loose (may be NULL) is set so the caller can warn. *loose is false otherwise.
 * The mode is read from the opened descriptor, so it is the file actually read. */
iotca_rc iotca_file_read_secret(const char *path, size_t max, bool insist, iotca_buf *out, bool *loose);

/* Creates path with O_CREAT|O_EXCL|O_NOFOLLOW and the given mode, writes
 * data, fsyncs. Never overwrites: an existing path is IOTCA_E_STORAGE
 * ("exists"). A partial file is removed on failure. */
iotca_rc iotca_file_create(const char *path, const void *data, size_t n, mode_t mode);

/* Replaces path atomically (temp file, fsync, rename, fsync of the
 * directory), for state files that change. */
iotca_rc iotca_file_replace(const char *path, const void *data, size_t n, mode_t mode);

/* Appends data to path (created 0600 if missing) and fsyncs. */
iotca_rc iotca_file_append(const char *path, const void *data, size_t n);

#endif
