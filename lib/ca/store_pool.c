/* The CA's database connections (issue 25): handles lent to a thread for one unit of work and given back. */
#include <stdlib.h>
#include <string.h>

#include "iotca/clock.h"
#include "store_pool.h"

struct ca_pool_slot {
    ca_store_pool *pool;
    iotca_store *s;
    ca_pool_slot *next;
};

/* Gives a lent slot back: to the idle list, or closed if a transaction is open on it. */
static void put_back(ca_store_pool *p, ca_pool_slot *slot) {
    pthread_mutex_lock(&p->mu);
    p->lent--;
    if (iotca_store_in_transaction(slot->s)) { /* never hand a transaction to another thread: close it */
        p->open--;
        pthread_mutex_unlock(&p->mu);
        iotca_store_close(slot->s);
        free(slot);
        pthread_mutex_lock(&p->mu);
    } else {
        slot->next = p->idle;
        p->idle = slot;
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* A thread that ends holding a handle gives it back. */
static void thread_gone(void *arg) {
    ca_pool_slot *slot = arg;
    put_back(slot->pool, slot);
}

iotca_rc ca_pool_init(ca_store_pool *p, const char *path, bool reader, unsigned max, unsigned wait_ms) {
    memset(p, 0, sizeof *p);
    p->path = strdup(path);
    IOTCA_ENSURE(p->path != NULL, IOTCA_E_INTERNAL, "out of memory");
    if (pthread_key_create(&p->key, thread_gone) != 0) {
        free(p->path);
        p->path = NULL;
        IOTCA_BAIL(IOTCA_E_INTERNAL, "pthread_key_create");
    }
    pthread_mutex_init(&p->mu, NULL);
    iotca_cond_init_mono(&p->cv);
    p->reader = reader;
    p->max = max;
    p->wait_ms = wait_ms;
    p->ready = true;
    return IOTCA_OK;
}

void ca_pool_free(ca_store_pool *p) {
    if (!p->ready) return;
    ca_pool_return(p);
    pthread_key_delete(p->key);
    for (ca_pool_slot *slot = p->idle, *next; slot; slot = next) {
        next = slot->next;
        iotca_store_close(slot->s);
        free(slot);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->path);
    memset(p, 0, sizeof *p);
}

iotca_store *ca_pool_held(ca_store_pool *p) {
    ca_pool_slot *slot = p->ready ? pthread_getspecific(p->key) : NULL;
    return slot ? slot->s : NULL;
}

/* Opens a new handle for a slot already counted in p->open; on failure uncounts it. */
static iotca_rc open_slot(ca_store_pool *p, ca_pool_slot **out) {
    ca_pool_slot *slot = calloc(1, sizeof *slot);
    iotca_rc rc = slot ? IOTCA_OK : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    /* a replica was checked against the primary at open: it serves while the primary is down */
    if (rc == IOTCA_OK)
        rc = p->reader ? iotca_store_open_reader(p->path, NULL, &slot->s)
                       : iotca_store_open(p->path, false, 5000, &slot->s);
    if (rc != IOTCA_OK) {
        free(slot);
        pthread_mutex_lock(&p->mu);
        p->open--;
        pthread_cond_signal(&p->cv); /* another lender may open one in its place */
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    slot->pool = p;
    *out = slot;
    return IOTCA_OK;
}

/* Under p->mu: an idle slot, or room to open one (counted), or a wait until either or the deadline. */
static iotca_rc take(ca_store_pool *p, ca_pool_slot **idle, bool *opening) {
    struct timespec until = iotca_mono_deadline_us((int64_t)p->wait_ms * 1000);
    bool counted = false;
    for (;;) {
        if (p->idle) {
            *idle = p->idle;
            p->idle = p->idle->next;
            p->lent++;
            return IOTCA_OK;
        }
        if (p->max == 0 || p->open < p->max) {
            p->open++;
            p->lent++;
            *opening = true;
            return IOTCA_OK;
        }
        if (!counted) p->waited++;
        counted = true;
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != 0 && p->idle == NULL && p->open >= p->max) {
            p->timed_out++;
            return iotca_error_set(IOTCA_E_STORAGE,
                                   "all %u database connections of this process were busy for %u ms (database "
                                   "pool_size)",
                                   p->max, p->wait_ms);
        }
    }
}

iotca_rc ca_pool_lend(ca_store_pool *p, iotca_store **out) {
    ca_pool_slot *slot = pthread_getspecific(p->key);
    if (slot) {
        *out = slot->s;
        return IOTCA_OK;
    }
    bool opening = false;
    pthread_mutex_lock(&p->mu);
    iotca_rc rc = take(p, &slot, &opening);
    pthread_mutex_unlock(&p->mu);
    IOTCA_GUARD(rc);
    if (opening && (rc = open_slot(p, &slot)) != IOTCA_OK) {
        pthread_mutex_lock(&p->mu);
        p->lent--;
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    if (pthread_setspecific(p->key, slot) != 0) {
        put_back(p, slot);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "cannot keep a per-thread store handle");
    }
    *out = slot->s;
    return IOTCA_OK;
}

void ca_pool_return(ca_store_pool *p) {
    ca_pool_slot *slot = p->ready ? pthread_getspecific(p->key) : NULL;
    if (slot == NULL) return;
    pthread_setspecific(p->key, NULL);
    put_back(p, slot);
}

void ca_pool_release_memory(ca_store_pool *p) {
    if (!p->ready) return;
    pthread_mutex_lock(&p->mu);
    for (ca_pool_slot *slot = p->idle; slot; slot = slot->next) iotca_store_release_memory(slot->s);
    pthread_mutex_unlock(&p->mu);
}

void ca_pool_stats(ca_store_pool *p, iotca_ca_pool_stats *out) {
    memset(out, 0, sizeof *out);
    if (!p->ready) return;
    pthread_mutex_lock(&p->mu);
    out->max = p->max;
    out->open = p->open;
    out->lent = p->lent;
    out->waited = p->waited;
    out->timed_out = p->timed_out;
    pthread_mutex_unlock(&p->mu);
}
