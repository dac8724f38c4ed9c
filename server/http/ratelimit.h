/* Per-token request rate limiting: one token bucket per API token, in bounded memory, shared by all threads. */
#ifndef IOTCAD_RATELIMIT_H
#define IOTCAD_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "iotca/result.h"

/* Largest rate and burst a config may ask for; keeps the integer arithmetic below far from overflow. */
#define RATELIMIT_MAX 100000
/* Tokens tracked at once unless the caller asks for another cap. */
#define RATELIMIT_DEFAULT_CAP 4096
/* Longest key (the token's public id, "token:<16 hex>"), NUL included. */
#define RATELIMIT_KEY_MAX 32

/* One bucket. Tokens are counted in thousandths so that refilling `rate` tokens a second over a number of
 * milliseconds is exact integer arithmetic (rate thousandths per millisecond). */
typedef struct rl_bucket {
    int64_t milli;   /* tokens available, times 1000 */
    int64_t last_ms; /* clock value of the last refill */
} rl_bucket;

/* ---- the pure core: no clock, no lock, no memory ---- */

/* A full bucket at clock now_ms. */
void rl_bucket_init(rl_bucket *b, unsigned burst, int64_t now_ms);
/* Refills b for the time since its last refill (rate tokens a second, never above burst), then takes one
 * token. Returns true if it took one; otherwise sets *retry_after_s to the whole seconds (at least 1) until a
 * token will be there. A clock value earlier than the last one refills nothing. rate and burst: 1 to
 * RATELIMIT_MAX (callers validate; out-of-range values are clamped). */
bool rl_bucket_take(rl_bucket *b, unsigned rate, unsigned burst, int64_t now_ms, unsigned *retry_after_s);
/* True when b is full at now_ms: forgetting it changes nothing, a new bucket would start full too. */
bool rl_bucket_idle(const rl_bucket *b, unsigned rate, unsigned burst, int64_t now_ms);

/* ---- the table: buckets by key, thread-safe, at most cap of them ---- */

typedef struct rl_entry {
    char key[RATELIMIT_KEY_MAX]; /* "" while the slot is free */
    rl_bucket b;
    int32_t next; /* next entry in the same hash chain (or in the free list); -1 ends it */
} rl_entry;

typedef struct ratelimit {
    pthread_mutex_t mu;
    rl_entry *e;      /* cap entries, allocated once */
    int32_t *heads;   /* n_heads hash chains */
    size_t cap, n_heads, n;
    int32_t free_head;
    unsigned long evicted_busy; /* buckets dropped while not full, because the table was full of busy ones */
} ratelimit;

/* Allocates a table for cap keys (1 to 1,000,000). IOTCA_E_USAGE for a bad cap, IOTCA_E_INTERNAL when
 * memory runs out. */
iotca_rc ratelimit_init(ratelimit *rl, size_t cap);
void ratelimit_free(ratelimit *rl);
/* rl_bucket_take on key's bucket (created full if new). When the table is full, idle (full) buckets are
 * dropped first; if none is idle, the least recently refilled one goes (that key starts again with a full
 * bucket: memory stays bounded at the price of some leniency under that many busy keys). Keys longer than
 * RATELIMIT_KEY_MAX - 1 are cut. */
bool ratelimit_take(ratelimit *rl, const char *key, unsigned rate, unsigned burst, int64_t now_ms,
                    unsigned *retry_after_s);
/* How many keys have a bucket now. */
size_t ratelimit_tracked(ratelimit *rl);

#endif
