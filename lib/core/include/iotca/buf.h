/* The one byte-buffer type of libiotca, and the slice (borrowed view) type. */
#ifndef IOTCA_BUF_H
#define IOTCA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotca/result.h"

/* A read-only view into bytes someone else owns. */
typedef struct iotca_slice {
    const uint8_t *p;
    size_t len;
} iotca_slice;

/* A growable buffer. Zero-initialise it (`iotca_buf b = {0};`) to get an
 * empty owned buffer. `secret` buffers are wiped whenever their memory is
 * released or moved, so key material never lingers in freed heap. A
 * borrowed buffer (iotca_buf_borrow) never frees nor grows its data. */
typedef struct iotca_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool borrowed;
    bool secret;
} iotca_buf;

/* Hard upper bound of any single buffer (64 MiB): a guard against length
 * fields from outside turning into huge allocations. */
#define IOTCA_BUF_MAX ((size_t)64 << 20)

/* Ensures room for `extra` more bytes. IOTCA_E_USAGE on a borrowed buffer or
 * past IOTCA_BUF_MAX, IOTCA_E_INTERNAL when out of memory. */
iotca_rc iotca_buf_reserve(iotca_buf *b, size_t extra);
/* Appends n bytes (data may be NULL only when n == 0). */
iotca_rc iotca_buf_append(iotca_buf *b, const void *data, size_t n);
iotca_rc iotca_buf_append_byte(iotca_buf *b, uint8_t c);
/* Appends a NUL-terminated string, without the NUL. */
iotca_rc iotca_buf_append_str(iotca_buf *b, const char *s);
/* Appends printf output, without a trailing NUL. */
iotca_rc iotca_buf_printf(iotca_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Makes b's content a C string (NUL after len, not counted in len). */
iotca_rc iotca_buf_cstr(iotca_buf *b);
/* A buffer viewing data it does not own. */
iotca_buf iotca_buf_borrow(const uint8_t *data, size_t len);
/* Releases owned memory (wiping it first if secret) and resets b to empty;
 * keeps the secret flag. Safe on a zeroed or already-freed buffer. */
void iotca_buf_free(iotca_buf *b);
/* Empties b without releasing memory (wipes if secret). */
void iotca_buf_clear(iotca_buf *b);
static inline iotca_slice iotca_buf_slice(const iotca_buf *b) {
    iotca_slice s = {b->data, b->len};
    return s;
}
static inline iotca_slice iotca_slice_of(const void *p, size_t len) {
    iotca_slice s = {(const uint8_t *)p, len};
    return s;
}
bool iotca_slice_eq(iotca_slice a, iotca_slice b);

/* Overwrites memory in a way the compiler may not elide. */
void iotca_wipe(void *p, size_t n);
/* Constant-time comparison of equal-length byte strings: true if equal. */
bool iotca_ct_equal(const void *a, const void *b, size_t n);

/* Lower-case hex of data into out (a C string). */
iotca_rc iotca_hex_encode(const uint8_t *data, size_t n, iotca_buf *out);
/* Decodes hex (either case, an optional ':' between bytes is accepted).
 * IOTCA_E_PARSE on odd length or a non-hex character. */
iotca_rc iotca_hex_decode(const char *hex, iotca_buf *out);

#endif
