/* The OCSP responder's bounded in-memory cache of pre-signed answers (ocsp_cache.c); thread-safe. */
#ifndef IOTCA_OCSP_CACHE_H
#define IOTCA_OCSP_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "iotca/buf.h"
#include "iotca/result.h"

typedef struct ocsp_cache ocsp_cache;

/* A cache of `slots` answers (1 to 2^24; IOTCA_E_USAGE otherwise). */
iotca_rc ocsp_cache_new(size_t slots, ocsp_cache **out);
void ocsp_cache_free(ocsp_cache *c); /* NULL is ignored */
/* The invalidation counter: read it before reading an answer from the store, pass it to ocsp_cache_put. */
uint64_t ocsp_cache_gen(ocsp_cache *c);
/* If the answer of issuer_id for serial (1 to 20 bytes) is cached with next_update after fresh_after:
 * appends its DER to out, sets *next_update and returns true. */
bool ocsp_cache_get(ocsp_cache *c, int64_t issuer_id, const uint8_t *serial, size_t len, time_t fresh_after,
                    iotca_buf *out, time_t *next_update);
/* Keeps a copy of der as the answer for (issuer_id, serial), unless an invalidation happened since gen was
 * read; replaces whatever shared its slot. Failing to allocate keeps nothing (it is only a cache). */
void ocsp_cache_put(ocsp_cache *c, uint64_t gen, int64_t issuer_id, const uint8_t *serial, size_t len, iotca_slice der,
                    time_t next_update);
/* Drops every cached answer for serial, and makes puts of answers read before this call do nothing. Call it
 * after the store recorded a change of the serial's status, before answering the caller that changed it. */
void ocsp_cache_invalidate(ocsp_cache *c, const uint8_t *serial, size_t len);
/* Drops every cached answer, and makes puts of answers read before this call do nothing: for when any serial
 * may have changed status (revocations this process could not learn of one by one). */
void ocsp_cache_clear(ocsp_cache *c);

#endif
