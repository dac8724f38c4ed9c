/* The pool: the threads that run the routes that wait for the disk (RUN_POOL), and the audit records of
 * refused issuances, while the serving threads serve other connections. */
#include <pthread.h>
#include <stdlib.h>

#include "engine.h"
#include "iotca/clock.h"

/* The pool. A serving thread that meets a request that waits for the disk suspends its connection (so it
 * serves its other connections meanwhile) and queues the request; a pool thread runs it into request.out and
 * resumes the connection, whose serving thread then sends the answer (libmicrohttpd wants every call on a
 * connection from the thread of its daemon, but for the resume). The serving threads can then be one a core:
 * with 2 cores, 2 serving threads took 11.2-13.8 us of CPU per OCSP answer against 14.1-16.4 with 4, at
 * 73,000-89,000 answers/s against 61,000-80,000 (six alternating 3 s runs each), while the other changes need
 * threads that may block. Pool threads give back their crypto tables when quiet, as serving threads do. */
struct pool_thread {
    server *s;
    pthread_t th;
    pthread_cond_t cv;
    request *job;                  /* handed over by pool_enqueue */
    bool idle;                     /* on the idle stack */
    struct pool_thread *next_idle;
};

/* The most recently busy idle thread gets the request: a few threads serve a light load and keep their
 * tables and stack warm, and the rest stay untouched (80 issuances from 4 clients, each handed to the next
 * thread in turn, touched all 16 threads' stacks and tables: 14 MB resident once quiet instead of 10). */
bool pool_enqueue(server *s, request *r, bool suspend) {
    bool queued = false;
    pthread_mutex_lock(&s->pool.mu);
    if (!s->pool.closing && s->pool.n > 0) {
        /* suspended before any pool thread can see it: one may resume it at once */
        if (suspend) {
            MHD_suspend_connection(r->conn);
            __atomic_add_fetch(&s->pool.unsent, 1, __ATOMIC_RELAXED);
        }
        struct pool_thread *t = s->pool.idle;
        if (t) {
            s->pool.idle = t->next_idle;
            t->idle = false;
            t->job = r;
            pthread_cond_signal(&t->cv);
        } else {
            r->next_job = NULL;
            *s->pool.tail = r;
            s->pool.tail = &r->next_job;
        }
        queued = true;
    }
    pthread_mutex_unlock(&s->pool.mu);
    return queued; /* not queued (the server is stopping): the serving thread runs it itself */
}

static void *pool_main(void *arg) {
    struct pool_thread *t = arg;
    server *s = t->s;
    pthread_mutex_lock(&s->pool.mu);
    for (;;) {
        request *r = t->job;
        t->job = NULL;
        if (r == NULL && s->pool.head) {
            r = s->pool.head;
            s->pool.head = r->next_job;
            if (s->pool.head == NULL) s->pool.tail = &s->pool.head;
        }
        if (r == NULL) {
            if (s->pool.closing) break; /* nothing handed over or queued is left */
            if (!t->idle) {
                t->idle = true;
                t->next_idle = s->pool.idle;
                s->pool.idle = t;
            }
            struct timespec until = iotca_mono_deadline_us(WAKE_MS * 1000L);
            (void)pthread_cond_timedwait(&t->cv, &s->pool.mu, &until);
            if (t->job == NULL && quiet_with_tables()) {
                pthread_mutex_unlock(&s->pool.mu);
                release_idle_memory(s->ca);
                pthread_mutex_lock(&s->pool.mu);
            }
            continue;
        }
        pthread_mutex_unlock(&s->pool.mu);
        if (r->concluding) conclude(r, &r->out); /* answered already (a refused issuance): its audit record */
        else handle(r, &r->out);
        r->concluding = false;
        iotca_ca_store_return(s->ca); /* before the answer goes: the connection serves the next request */
        answer_ready(r);
        pthread_mutex_lock(&s->pool.mu);
    }
    pthread_mutex_unlock(&s->pool.mu);
    return NULL; /* the thread's crypto state goes with it (a thread-exit destructor) */
}

iotca_rc pool_start(server *s, unsigned n) {
    s->pool.head = NULL;
    s->pool.tail = &s->pool.head;
    s->pool.idle = NULL;
    s->pool.closing = false;
    s->pool.threads = calloc(n, sizeof *s->pool.threads);
    IOTCA_ENSURE(s->pool.threads != NULL, IOTCA_E_INTERNAL, "out of memory");
    for (unsigned i = 0; i < n; i++) {
        struct pool_thread *t = &s->pool.threads[i];
        t->s = s;
        iotca_cond_init_mono(&t->cv);
        if (pthread_create(&t->th, NULL, pool_main, t) != 0) {
            pthread_cond_destroy(&t->cv);
            IOTCA_BAIL(IOTCA_E_INTERNAL, "cannot start a worker thread");
        }
        s->pool.n = i + 1;
    }
    return IOTCA_OK;
}

/* Runs what is queued to the end (each connection resumed), then joins the pool: no connection is left
 * suspended when the daemons stop (libmicrohttpd requires it). */
void pool_stop(server *s) {
    if (s->pool.threads == NULL) return;
    pthread_mutex_lock(&s->pool.mu);
    s->pool.closing = true;
    for (unsigned i = 0; i < s->pool.n; i++) pthread_cond_signal(&s->pool.threads[i].cv);
    pthread_mutex_unlock(&s->pool.mu);
    for (unsigned i = 0; i < s->pool.n; i++) {
        pthread_join(s->pool.threads[i].th, NULL);
        pthread_cond_destroy(&s->pool.threads[i].cv);
    }
    free(s->pool.threads);
    s->pool.threads = NULL;
    s->pool.n = 0;
    /* pool.mu stays: the serving threads still look at pool.closing (http_stop destroys it after them) */
}
