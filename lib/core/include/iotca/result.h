/* The one result type of libiotca: an error category plus a per-thread detail message. */
#ifndef IOTCA_RESULT_H
#define IOTCA_RESULT_H

#include <stddef.h>

/* Every fallible libiotca function returns one of these. Only server/ maps
 * categories to HTTP statuses; tools map them to exit codes. */
typedef enum iotca_rc {
    IOTCA_OK = 0,
    IOTCA_E_USAGE,    /* caller passed something invalid (bad flag, NULL, out of range) */
    IOTCA_E_PARSE,    /* outside bytes are malformed (DER, PEM, JSON, ledger line) */
    IOTCA_E_POLICY,   /* well-formed but not allowed (profile, constraints, expired) */
    IOTCA_E_STORAGE,  /* the database or a file on disk failed */
    IOTCA_E_CRYPTO,   /* a key, signature or cipher operation failed or did not verify */
    IOTCA_E_INTERNAL, /* a bug or resource exhaustion */
    IOTCA_E_UNAVAILABLE, /* the CA cannot do it now, however it is asked: no issuer can sign (none active, or the
                          * active one expired); iotcad answers 503 */
} iotca_rc;

/* Records the detail for the current thread and returns rc, so a failure can
 * be written `return iotca_error_set(IOTCA_E_PARSE, "...")`. printf-style. */
iotca_rc iotca_error_set(iotca_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The detail message of the last failure on this thread ("" if none). The
 * pointer stays valid until the next iotca_error_set on this thread. */
const char *iotca_error_detail(void);

/* A short stable name for a category: "usage", "parse", ... */
const char *iotca_rc_name(iotca_rc rc);

/* Guard macros (after s2n-tls GUARD/ENSURE/BAIL): the success path reads
 * straight down.
 *   IOTCA_GUARD(x)            return x's failure as is.
 *   IOTCA_ENSURE(c, rc, ...)  fail with rc and a message unless c holds.
 *   IOTCA_BAIL(rc, ...)       fail unconditionally.
 * With cleanup: declare `iotca_rc rc = IOTCA_OK;` and a label `out:`, then
 *   IOTCA_TRY(x)              on failure, keep it in rc and goto out.
 *   IOTCA_CHECK(c, rc_, ...)  unless c, set rc and goto out. */
#define IOTCA_GUARD(x)                                                         \
    do {                                                                       \
        iotca_rc guard_rc_ = (x);                                              \
        if (guard_rc_ != IOTCA_OK) return guard_rc_;                           \
    } while (0)
#define IOTCA_ENSURE(cond, rc_, ...)                                           \
    do {                                                                       \
        if (!(cond)) return iotca_error_set((rc_), __VA_ARGS__);               \
    } while (0)
#define IOTCA_BAIL(rc_, ...) return iotca_error_set((rc_), __VA_ARGS__)
#define IOTCA_TRY(x)                                                           \
    do {                                                                       \
        if ((rc = (x)) != IOTCA_OK) goto out;                                  \
    } while (0)
#define IOTCA_CHECK(cond, rc_, ...)                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            rc = iotca_error_set((rc_), __VA_ARGS__);                          \
            goto out;                                                          \
        }                                                                      \
    } while (0)

#endif
