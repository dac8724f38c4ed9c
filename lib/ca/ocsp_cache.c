/* The OCSP responder's in-memory cache of pre-signed answers, so a fleet asking at once is answered without
 * a database read per request.
 *
 * Direct-mapped: a serial hashes to one slot, a newer answer (or another serial) replaces what is there, so
 * memory stays bounded by the slot count whatever the fleet size. A revocation must never be followed by
 * the old "good" answer: ocsp_cache_invalidate bumps a generation counter and drops the serial's slot, and
 * an answer read from the store is put only if no invalidation happened since the caller read the counter
 * before that read (ocsp_cache_gen), so a reader racing a revocation cannot put back what it read before. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ocsp_cache.h"

#define STRIPES 64 /* slot i is guarded by lock i % STRIPES */

typedef struct slot {
    int64_t issuer_id;
    uint8_t serial[20];
    uint8_t serial_len; /* 0: empty */
    time_t next_update;
    uint8_t *der;
    size_t der_len;
} slot;

struct ocsp_cache {
    slot *slots;
    size_t n;
    uint64_t gen; /* bumped by every invalidation (atomic) */
    pthread_mutex_t mu[STRIPES];
};

iotca_rc ocsp_cache_new(size_t slots, ocsp_cache **out) {
    IOTCA_ENSURE(slots >= 1 && slots <= (1u << 24), IOTCA_E_USAGE, "OCSP cache: %zu slots (1 to 16777216)", slots);
    ocsp_cache *c = calloc(1, sizeof *c);
    IOTCA_ENSURE(c != NULL, IOTCA_E_INTERNAL, "out of memory");
    /* calloc'd pages are only made resident when a slot is first used, so idle memory does not grow */
    c->slots = calloc(slots, sizeof *c->slots);
    if (c->slots == NULL) {
        free(c);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "out of memory");
    }
    c->n = slots;
    for (size_t i = 0; i < STRIPES; i++) pthread_mutex_init(&c->mu[i], NULL);
    *out = c;
    return IOTCA_OK;
}

void ocsp_cache_free(ocsp_cache *c) {
    if (c == NULL) return;
    for (size_t i = 0; i < c->n; i++) free(c->slots[i].der);
    for (size_t i = 0; i < STRIPES; i++) pthread_mutex_destroy(&c->mu[i]);
    free(c->slots);
    free(c);
}

/* FNV-1a of the whole serial: serials carry 64+ bits of CSPRNG output (SPEC §3; a leaf's last 10 octets, after
 * its time prefix), so the hash spreads well; the issuer is not
 * hashed, so every issuer's answer for a serial lands in the same slot and invalidation finds it there. */
static size_t slot_of(const ocsp_cache *c, const uint8_t *serial, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ serial[i]) * 1099511628211ull;
    return (size_t)(h % c->n);
}

static bool same(const slot *s, int64_t issuer_id, const uint8_t *serial, size_t len) {
    return s->serial_len == len && s->issuer_id == issuer_id && memcmp(s->serial, serial, len) == 0;
}

uint64_t ocsp_cache_gen(ocsp_cache *c) { return __atomic_load_n(&c->gen, __ATOMIC_SEQ_CST); }

bool ocsp_cache_get(ocsp_cache *c, int64_t issuer_id, const uint8_t *serial, size_t len, time_t fresh_after,
                    iotca_buf *out, time_t *next_update) {
    if (len < 1 || len > 20) return false;
    size_t i = slot_of(c, serial, len);
    pthread_mutex_t *mu = &c->mu[i % STRIPES];
    bool hit = false;
    pthread_mutex_lock(mu);
    slot *s = &c->slots[i];
    if (same(s, issuer_id, serial, len) && s->next_update > fresh_after &&
        iotca_buf_append(out, s->der, s->der_len) == IOTCA_OK) {
        *next_update = s->next_update;
        hit = true;
    }
    pthread_mutex_unlock(mu);
    return hit;
}

void ocsp_cache_put(ocsp_cache *c, uint64_t gen, int64_t issuer_id, const uint8_t *serial, size_t len, iotca_slice der,
                    time_t next_update) {
    if (len < 1 || len > 20 || der.len == 0) return;
    uint8_t *copy = malloc(der.len);
    if (copy == NULL) return; /* a cache: failing to keep an answer only costs the next request a read */
    memcpy(copy, der.p, der.len);
    size_t i = slot_of(c, serial, len);
    pthread_mutex_t *mu = &c->mu[i % STRIPES];
    pthread_mutex_lock(mu);
    /* checked under the slot's lock: an invalidation bumps gen before taking it, so either it is seen here or
     * the invalidation removes this entry after we release the lock */
    if (__atomic_load_n(&c->gen, __ATOMIC_SEQ_CST) != gen) {
        pthread_mutex_unlock(mu);
        free(copy);
        return;
    }
    slot *s = &c->slots[i];
    uint8_t *old = s->der;
    s->issuer_id = issuer_id;
    memcpy(s->serial, serial, len);
    s->serial_len = (uint8_t)len;
    s->next_update = next_update;
    s->der = copy;
    s->der_len = der.len;
    pthread_mutex_unlock(mu);
    free(old);
}

void ocsp_cache_invalidate(ocsp_cache *c, const uint8_t *serial, size_t len) {
    __atomic_add_fetch(&c->gen, 1, __ATOMIC_SEQ_CST);
    if (len < 1 || len > 20) return;
    size_t i = slot_of(c, serial, len);
    pthread_mutex_t *mu = &c->mu[i % STRIPES];
    uint8_t *old = NULL;
    pthread_mutex_lock(mu);
    slot *s = &c->slots[i];
    if (s->serial_len == len && memcmp(s->serial, serial, len) == 0) { /* any issuer's answer for this serial */
        old = s->der;
        memset(s, 0, sizeof *s);
    }
    pthread_mutex_unlock(mu);
    free(old);
}

void ocsp_cache_clear(ocsp_cache *c) {
    __atomic_add_fetch(&c->gen, 1, __ATOMIC_SEQ_CST);
    for (size_t i = 0; i < c->n; i++) {
        pthread_mutex_t *mu = &c->mu[i % STRIPES];
        pthread_mutex_lock(mu);
        uint8_t *old = c->slots[i].der;
        memset(&c->slots[i], 0, sizeof c->slots[i]);
        pthread_mutex_unlock(mu);
        free(old);
    }
}
