/* The crypto threads: a few threads that do every issuance's public-key work, so wolfSSL's per-thread point
 * tables exist once a core rather than once a waiting thread.
 *
 * Why: Debian's wolfSSL (FP_ECC) gives every thread that verifies or signs its own cache of 15 public keys,
 * and allocates all 256 points of an entry (257 x 3,216 bytes, about 826 KB with its 4096-bit integers)
 * when a key is first met, table built or not. A fleet's CSRs bring a new key each, so every thread that
 * verifies them soon holds all 15 entries: about 12 MB. An issuance spends most of its time waiting for the
 * group commit, so many are in flight at once; when iotcad ran each on a pool worker (limits.workers, 16 by
 * default) that did its own crypto, 8 clients with 40,000 distinct CSRs peaked at 69-77 MB with 4 workers,
 * 119-126 with 8 and 174-199 with 16.
 * Here the CSR check and the signing of every issuance run on these threads (iotca_ca_issue_start posts
 * them, lib/ca/issue.c), so the tables number one set a crypto thread whatever the number of issuances in
 * flight; the job then hands the issuance to the group commit, and nobody waits for it in between. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "ca_internal.h"
#include "iotca/clock.h"

#define CRYPTO_IDLE_RELEASE_MS 1000 /* quiet time before a crypto thread gives back its tables */
#define CRYPTO_WAKE_MS 250          /* how often an idle crypto thread looks at the clock */

struct ca_crypto_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a job was queued, or the pool is closing */
    ca_crypto_job *head, **tail;
    bool closing;
    unsigned n;
    pthread_t *th;
    iotca_ca *ca;
};

static void *crypto_main(void *arg) {
    ca_crypto_pool *p = arg;
    bool held = false; /* ran a job since it last gave back its tables */
    int64_t last = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        ca_crypto_job *j = p->head;
        if (j == NULL) {
            if (p->closing) break;
            if (held && iotca_mono_ms() - last >= CRYPTO_IDLE_RELEASE_MS) {
                held = false;
                pthread_mutex_unlock(&p->mu);
                iotca_crypto_thread_trim();
                (void)malloc_trim(0);
                pthread_mutex_lock(&p->mu);
                continue;
            }
            struct timespec until = iotca_mono_deadline_us(CRYPTO_WAKE_MS * 1000L);
            (void)pthread_cond_timedwait(&p->cv, &p->mu, &until);
            continue;
        }
        p->head = j->next;
        if (p->head == NULL) p->tail = &p->head;
        pthread_mutex_unlock(&p->mu);
        j->fn(j); /* the last touch: j belongs to whoever fn hands it to */
        iotca_ca_store_return(p->ca); /* a job that used the database gives its connection back */
        held = true;
        last = iotca_mono_ms();
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL; /* the thread's crypto state goes with it (iotca_crypto_thread_track's destructor) */
}

static void pool_free(ca_crypto_pool *p) {
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++) pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->th);
    free(p);
}

iotca_rc iotca_ca_set_crypto_threads(iotca_ca *ca, unsigned n) {
    IOTCA_ENSURE(ca != NULL && n <= IOTCA_CA_MAX_CRYPTO_THREADS, IOTCA_E_USAGE,
                 "crypto threads must be between 0 and %d", IOTCA_CA_MAX_CRYPTO_THREADS);
    IOTCA_ENSURE(ca->crypto == NULL, IOTCA_E_USAGE, "the crypto threads are already running");
    if (n == 0) return IOTCA_OK;
    ca_crypto_pool *p = calloc(1, sizeof *p);
    IOTCA_ENSURE(p != NULL, IOTCA_E_INTERNAL, "out of memory");
    p->th = calloc(n, sizeof *p->th);
    p->ca = ca;
    if (p->th == NULL) {
        free(p);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    iotca_cond_init_mono(&p->cv);
    p->tail = &p->head;
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&p->th[i], NULL, crypto_main, p) != 0) {
            pool_free(p);
            IOTCA_BAIL(IOTCA_E_INTERNAL, "cannot start crypto thread %u of %u", i + 1, n);
        }
        p->n = i + 1;
    }
    ca->crypto = p;
    return IOTCA_OK;
}

void ca_crypto_stop(iotca_ca *ca) {
    if (ca->crypto) pool_free(ca->crypto);
    ca->crypto = NULL;
}

void ca_crypto_post(iotca_ca *ca, ca_crypto_job *j) {
    ca_crypto_pool *p = ca->crypto;
    if (p == NULL) { /* no crypto threads (tools, tests): the caller does it */
        j->fn(j);
        return;
    }
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    *p->tail = j;
    p->tail = &j->next;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
