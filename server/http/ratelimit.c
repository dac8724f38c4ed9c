/* Token buckets per API token: a pure refill-and-take core, and a fixed-size hash table of buckets under a mutex. */
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

static unsigned clamp(unsigned v) { return v < 1 ? 1 : v > RATELIMIT_MAX ? RATELIMIT_MAX : v; }

void rl_bucket_init(rl_bucket *b, unsigned burst, int64_t now_ms) {
    b->milli = (int64_t)clamp(burst) * 1000;
    b->last_ms = now_ms;
}

/* Adds what accrued since b->last_ms. elapsed is bounded before the multiplication: once it reaches
 * burst * 1000 ms the bucket is full at any rate >= 1, so the product stays below 1e8 * 1e5. */
static void refill(rl_bucket *b, unsigned rate, unsigned burst, int64_t now_ms) {
    int64_t full = (int64_t)burst * 1000;
    if (now_ms > b->last_ms) {
        int64_t elapsed = now_ms - b->last_ms;
        b->milli = elapsed >= full ? full : b->milli + elapsed * (int64_t)rate;
        b->last_ms = now_ms;
    }
    if (b->milli > full) b->milli = full; /* the burst may have been lowered by a reload */
}

bool rl_bucket_take(rl_bucket *b, unsigned rate, unsigned burst, int64_t now_ms, unsigned *retry_after_s) {
    rate = clamp(rate);
    burst = clamp(burst);
    refill(b, rate, burst, now_ms);
    if (b->milli >= 1000) {
        b->milli -= 1000;
        return true;
    }
    int64_t wait_ms = (1000 - b->milli + rate - 1) / rate; /* rate thousandths of a token accrue each ms */
    int64_t s = (wait_ms + 999) / 1000;
    *retry_after_s = s < 1 ? 1 : (unsigned)s;
    return false;
}

bool rl_bucket_idle(const rl_bucket *b, unsigned rate, unsigned burst, int64_t now_ms) {
    rl_bucket copy = *b;
    refill(&copy, clamp(rate), clamp(burst), now_ms);
    return copy.milli >= (int64_t)clamp(burst) * 1000;
}

/* FNV-1a: keys are token ids the server has already authenticated, so nobody chooses them to collide. */
static size_t hash(const char *k) {
    uint32_t h = 2166136261u;
    for (; *k; k++) h = (h ^ (uint8_t)*k) * 16777619u;
    return h;
}

iotca_rc ratelimit_init(ratelimit *rl, size_t cap) {
    memset(rl, 0, sizeof *rl);
    IOTCA_ENSURE(cap >= 1 && cap <= 1000000, IOTCA_E_USAGE, "rate limit table size must be 1 to 1000000");
    size_t heads = 1;
    while (heads < cap) heads <<= 1;
    rl->e = calloc(cap, sizeof *rl->e);
    rl->heads = malloc(heads * sizeof *rl->heads);
    if (rl->e == NULL || rl->heads == NULL) {
        ratelimit_free(rl);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < heads; i++) rl->heads[i] = -1;
    for (size_t i = 0; i < cap; i++) rl->e[i].next = i + 1 < cap ? (int32_t)(i + 1) : -1;
    rl->cap = cap;
    rl->n_heads = heads;
    rl->free_head = 0;
    pthread_mutex_init(&rl->mu, NULL);
    return IOTCA_OK;
}

void ratelimit_free(ratelimit *rl) {
    if (rl->cap) pthread_mutex_destroy(&rl->mu);
    free(rl->e);
    free(rl->heads);
    memset(rl, 0, sizeof *rl);
}

/* Unlinks entry i from its chain and returns it to the free list. Caller holds mu. */
static void drop(ratelimit *rl, int32_t i) {
    int32_t *p = &rl->heads[hash(rl->e[i].key) & (rl->n_heads - 1)];
    while (*p != i) p = &rl->e[*p].next;
    *p = rl->e[i].next;
    rl->e[i].key[0] = 0;
    rl->e[i].next = rl->free_head;
    rl->free_head = i;
    rl->n--;
}

/* Makes room for one more key: every idle bucket goes; if none was idle, the least recently used one.
 * O(cap), but only when the table is full, and an eviction round frees every idle slot at once. */
static void make_room(ratelimit *rl, unsigned rate, unsigned burst, int64_t now_ms) {
    int32_t oldest = -1;
    size_t freed = 0;
    for (size_t i = 0; i < rl->cap; i++) {
        if (rl->e[i].key[0] == 0) continue;
        if (rl_bucket_idle(&rl->e[i].b, rate, burst, now_ms)) {
            drop(rl, (int32_t)i);
            freed++;
        } else if (oldest < 0 || rl->e[i].b.last_ms < rl->e[oldest].b.last_ms) {
            oldest = (int32_t)i;
        }
    }
    if (freed == 0 && oldest >= 0) {
        drop(rl, oldest);
        rl->evicted_busy++;
    }
}

bool ratelimit_take(ratelimit *rl, const char *key, unsigned rate, unsigned burst, int64_t now_ms,
                    unsigned *retry_after_s) {
    char k[RATELIMIT_KEY_MAX];
    size_t len = strnlen(key, sizeof k - 1);
    memcpy(k, key, len);
    k[len] = 0;
    if (len == 0) k[len++] = '-', k[len] = 0; /* "" marks a free slot */
    pthread_mutex_lock(&rl->mu);
    size_t h = hash(k) & (rl->n_heads - 1);
    int32_t i = rl->heads[h];
    while (i >= 0 && strcmp(rl->e[i].key, k) != 0) i = rl->e[i].next;
    if (i < 0) {
        if (rl->free_head < 0) make_room(rl, rate, burst, now_ms);
        i = rl->free_head;
        rl->free_head = rl->e[i].next;
        memcpy(rl->e[i].key, k, len + 1);
        rl_bucket_init(&rl->e[i].b, burst, now_ms);
        rl->e[i].next = rl->heads[h];
        rl->heads[h] = i;
        rl->n++;
    }
    bool ok = rl_bucket_take(&rl->e[i].b, rate, burst, now_ms, retry_after_s);
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

size_t ratelimit_tracked(ratelimit *rl) {
    pthread_mutex_lock(&rl->mu);
    size_t n = rl->n;
    pthread_mutex_unlock(&rl->mu);
    return n;
}
