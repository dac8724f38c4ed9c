/* Group commit: writes from many threads share one transaction, so one fsync makes a whole batch durable.
 *
 * With synchronous=FULL every COMMIT waits for the disk, and SQLite lets one writer in at a time; under
 * concurrent issuance the threads would queue for the lock and each pay its own fsync. Here a caller
 * queues its write and the first thread to find no batch in flight becomes the leader: it takes every
 * queued write, runs each inside its own SAVEPOINT (a failing write rolls back alone) in one BEGIN
 * IMMEDIATE ... COMMIT, then wakes the others with their results. A write is never reported done before
 * the COMMIT that holds it returned, so "durable before returned" still holds.
 *
 * Given the database path, the group owns one writer connection that every leader uses in turn (one
 * leader at a time, so SQLite's multi-thread mode allows it). A connection keeps its page cache only while
 * nobody else wrote since its last transaction: with each thread's own connection leading, every batch
 * re-read the index pages it touched (about 25 preads an issuance, measured with strace -c); the single
 * writer keeps them cached.
 *
 * An issuance queues its serial reservation before it signs and its record after, then waits; a leader that
 * committed at once would mostly commit one issuance per fsync. So it first waits up to
 * IOTCA_SQ_COMMIT_DELAY_US while some queued write's owner has not come to wait yet. Measured at 8 clients
 * (wrk, bench/run's set-up, six alternating runs against no delay): 1.95-2.65 issuances per commit instead
 * of 1.0-1.8, 37-39 KiB written to disk per issuance instead of 44-48 (/proc/PID/io), 2,123-2,762
 * requests/s against 1,424-2,441 (more in five of six pairs), p99 7.5-9.5 ms against 6.7-11.9. A 300 us
 * delay batched as well but was slower in five of six pairs. One client is never delayed (no other owner).
 *
 * A write may also be queued with nobody waiting for it (iotca_store_group_notify): its owner is told, by a
 * callback, once it is done. Then the group's committer thread (a group with a path has one) leads the
 * batches that hold such writes; threads that wait still lead their own. iotcad's issuances work this way
 * (lib/ca/issue.c): no thread sleeps through an issuance's fsync, and the answer goes out when it is told. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/clock.h"
#include "db.h"

typedef iotca_store_write op;

struct iotca_store_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    op *head, **tail;
    bool busy; /* a leader is running a batch */
    unsigned long batches, writes;
    /* the checkpointer (when a database path was given): a thread with its own handle that checkpoints the
     * WAL when a batch grew it past the threshold, so no request waits for a checkpoint */
    char *path;
    iotca_store *writer; /* the connection batches run on (NULL without a path: the leader's own) */
    pthread_t ckpt;
    bool ckpt_running, ckpt_wanted, stopping;
    pthread_cond_t ckpt_cv;
    /* the commit delay: a leader waits up to delay_us while some queued write's owner has not come to wait
     * yet (it is still signing what it will record next); join_cv tells it one has */
    unsigned unwaited; /* queued writes whose owner is still working towards its wait */
    long delay_us;
    int ckpt_pages; /* WAL frames past which a batch's leader has the WAL checkpointed */
    pthread_cond_t join_cv;
    /* the committer (when a database path was given): leads the batches that hold writes nobody waits for
     * (iotca_store_group_notify); notified counts those still queued, commit_cv tells it of them */
    pthread_t committer;
    bool committer_running;
    unsigned notified;
    pthread_cond_t commit_cv;
};

static void lead(iotca_store_group *g, iotca_store *s, bool *grew);
static bool hand_checkpoint(iotca_store_group *g);

static void *committer(void *arg) {
    iotca_store_group *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        if (g->notified > 0 && !g->busy && g->head) {
            bool grew = false;
            lead(g, g->writer, &grew);
            if (grew) (void)hand_checkpoint(g);
            continue;
        }
        if (g->stopping && g->notified == 0) break; /* what was queued to be notified is committed first */
        pthread_cond_wait(&g->commit_cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

static void *checkpointer(void *arg) {
    iotca_store_group *g = arg;
    iotca_store *s = NULL;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->ckpt_wanted && !g->stopping) pthread_cond_wait(&g->ckpt_cv, &g->mu);
        if (g->stopping) break;
        g->ckpt_wanted = false;
        pthread_mutex_unlock(&g->mu);
        if (s == NULL) (void)iotca_store_open(g->path, false, 5000, &s);
        /* PASSIVE: copies what no reader still needs and never blocks writers; a failure is harmless (the
         * WAL just stays longer until the next try) */
        if (s && s->db) (void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    iotca_store_close(s);
    return NULL;
}

iotca_rc iotca_store_group_new(const char *db_path, iotca_store_group **out) {
    iotca_store_group *g = calloc(1, sizeof *g);
    IOTCA_ENSURE(g != NULL, IOTCA_E_INTERNAL, "out of memory");
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    pthread_cond_init(&g->ckpt_cv, NULL);
    pthread_cond_init(&g->commit_cv, NULL);
    /* the delay's deadline is on the monotonic clock: a wall-clock step cannot stretch it */
    iotca_cond_init_mono(&g->join_cv);
    g->delay_us = IOTCA_SQ_COMMIT_DELAY_US;
    g->ckpt_pages = IOTCA_SQ_CHECKPOINT_PAGES;
    g->tail = &g->head;
    if (db_path) {
        g->path = strdup(db_path);
        if (g->path == NULL || iotca_store_open(g->path, false, 0, &g->writer) != IOTCA_OK) {
            iotca_rc rc = g->path ? IOTCA_E_STORAGE : IOTCA_E_INTERNAL;
            char keep[512];
            snprintf(keep, sizeof keep, "%s", g->path ? iotca_error_detail() : "out of memory");
            iotca_store_group_free(g);
            IOTCA_BAIL(rc, "group commit writer: %s", keep);
        }
        /* the writer's cache holds the index pages every insert walks; it grows only as pages are used */
        if (g->writer->db) (void)sqlite3_exec(g->writer->db, "PRAGMA cache_size = -16384", NULL, NULL, NULL);
        g->ckpt_running = pthread_create(&g->ckpt, NULL, checkpointer, g) == 0;
        g->committer_running = g->ckpt_running && pthread_create(&g->committer, NULL, committer, g) == 0;
        if (!g->committer_running) {
            iotca_store_group_free(g);
            IOTCA_BAIL(IOTCA_E_INTERNAL, "cannot start the group commit's threads");
        }
    }
    *out = g;
    return IOTCA_OK;
}

void iotca_store_group_free(iotca_store_group *g) {
    if (g == NULL) return;
    pthread_mutex_lock(&g->mu);
    g->stopping = true;
    pthread_cond_signal(&g->ckpt_cv);
    pthread_cond_signal(&g->commit_cv);
    pthread_mutex_unlock(&g->mu);
    if (g->committer_running) pthread_join(g->committer, NULL); /* first: its last batch may want a checkpoint */
    if (g->ckpt_running) pthread_join(g->ckpt, NULL);
    iotca_store_close(g->writer);
    free(g->path);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    pthread_cond_destroy(&g->ckpt_cv);
    pthread_cond_destroy(&g->join_cv);
    pthread_cond_destroy(&g->commit_cv);
    free(g);
}

void iotca_store_group_set_checkpoint_pages(iotca_store_group *g, int pages) {
    pthread_mutex_lock(&g->mu);
    g->ckpt_pages = pages > 0 ? pages : 1;
    pthread_mutex_unlock(&g->mu);
}

void iotca_store_group_set_commit_delay(iotca_store_group *g, long microseconds) {
    pthread_mutex_lock(&g->mu);
    g->delay_us = microseconds > 0 ? microseconds : 0;
    pthread_mutex_unlock(&g->mu);
}

void iotca_store_group_release_memory(iotca_store_group *g) {
    pthread_mutex_lock(&g->mu);
    /* the writer is used outside the lock only by the leader of a running batch */
    if (!g->busy) iotca_store_release_memory(g->writer);
    pthread_mutex_unlock(&g->mu);
}

void iotca_store_group_stats(iotca_store_group *g, unsigned long *batches, unsigned long *writes) {
    pthread_mutex_lock(&g->mu);
    *batches = g->batches;
    *writes = g->writes;
    pthread_mutex_unlock(&g->mu);
}

static void fail_op(op *o, iotca_rc rc) {
    o->rc = rc;
    snprintf(o->detail, sizeof o->detail, "%s", iotca_error_detail());
}

static iotca_rc exec_sql(iotca_store *s, enum iotca_sq_id id, const char *sql) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, id, sql, "group commit", &st));
    iotca_rc rc = db_step(st) == DB_DONE ? IOTCA_OK : db_fail(s, "group commit: %s", sql);
    db_done(st);
    return rc;
}

/* Runs one batch on the leader's connection. Every op gets its own result. */
static void run_batch(iotca_store *s, op *batch) {
    iotca_rc rc = iotca_sq_begin(s, "starting a group commit");
    if (rc != IOTCA_OK) {
        for (op *o = batch; o; o = o->next) fail_op(o, rc);
        return;
    }
    for (op *o = batch; o; o = o->next) {
        rc = exec_sql(s, SQ_SAVEPOINT, "SAVEPOINT w");
        if (rc == IOTCA_OK) {
            rc = o->fn(s, o->arg);
            if (rc != IOTCA_OK) {
                char keep[512];
                snprintf(keep, sizeof keep, "%s", iotca_error_detail());
                /* undo this write alone; if even that fails the whole batch must go */
                if (exec_sql(s, SQ_ROLLBACK_TO, "ROLLBACK TO w") != IOTCA_OK || exec_sql(s, SQ_RELEASE, "RELEASE w") != IOTCA_OK) {
                    iotca_rc why = iotca_error_set(IOTCA_E_STORAGE, "group commit: cannot undo a failed write");
                    iotca_sq_rollback(s);
                    for (op *p = batch; p; p = p->next) fail_op(p, why);
                    return;
                }
                iotca_error_set(rc, "%s", keep);
            } else {
                rc = exec_sql(s, SQ_RELEASE, "RELEASE w");
            }
        }
        fail_op(o, rc); /* records IOTCA_OK too; detail is ignored then */
        if (rc == IOTCA_E_STORAGE && !db_in_transaction(s)) {
            /* SQLite rolled the transaction back itself (SQLITE_FULL, I/O error): nothing of it survives */
            for (op *p = batch; p; p = p->next) fail_op(p, rc);
            return;
        }
    }
    rc = iotca_sq_commit(s, "committing a group of writes");
    if (rc != IOTCA_OK) {
        for (op *o = batch; o; o = o->next) fail_op(o, rc);
    }
}

void iotca_store_group_submit(iotca_store_group *g, iotca_store_write *w, iotca_store_write_fn fn, void *arg) {
    memset(w, 0, sizeof *w);
    w->fn = fn;
    w->arg = arg;
    w->queued = true;
    w->owner = pthread_self();
    pthread_mutex_lock(&g->mu);
    *g->tail = w;
    g->tail = &w->next;
    g->unwaited++;
    pthread_mutex_unlock(&g->mu);
}

iotca_rc iotca_store_group_write(iotca_store_group *g, iotca_store *s, iotca_store_write_fn fn, void *arg) {
    IOTCA_ENSURE(g && s && fn, IOTCA_E_USAGE, "iotca_store_group_write: NULL argument");
    iotca_store_write w;
    iotca_store_group_submit(g, &w, fn, arg);
    return iotca_store_group_wait(g, s, &w);
}

/* Marks this thread's queued writes (and w) as waited for: no leader keeps a batch open for them any more. */
static void owner_done(iotca_store_group *g, iotca_store_write *w) {
    pthread_t self = pthread_self();
    bool joined = false;
    for (op *o = g->head; o; o = o->next)
        if (!o->waited && (o == w || pthread_equal(o->owner, self))) {
            o->waited = joined = true;
            g->unwaited--;
        }
    if (joined) pthread_cond_signal(&g->join_cv);
}

/* Leads one batch: with g->mu held, no batch running and a write queued; returns with g->mu held. Sets
 * *grew when the batch grew the WAL past the checkpoint threshold. */
static void lead(iotca_store_group *g, iotca_store *s, bool *grew) {
    op *batch = g->head;
    g->busy = true;
    /* PostgreSQL's commit_delay with commit_siblings = 1: while another thread has a write queued and is
     * still working towards waiting for it (an issuance between its serial reservation and its record),
     * wait a moment for its record so both share this fsync. Bounded: a thread that never comes to wait
     * keeps no batch beyond delay_us. */
    if (g->delay_us > 0 && g->unwaited > 0) {
        struct timespec until = iotca_mono_deadline_us(g->delay_us);
        int timed_out = 0;
        while (g->unwaited > 0 && !timed_out) timed_out = pthread_cond_timedwait(&g->join_cv, &g->mu, &until);
        batch = g->head; /* with what was queued meanwhile */
    }
    for (op *o = batch; o; o = o->next) {
        if (!o->waited) {
            o->waited = true;
            g->unwaited--;
        }
        if (o->notify) g->notified--;
        o->taken = true;
    }
    g->head = NULL;
    g->tail = &g->head;
    int ckpt_pages = g->ckpt_pages;
    pthread_mutex_unlock(&g->mu);
    iotca_store *ws = g->writer ? g->writer : s;
    ws->defer_checkpoint = true;
    run_batch(ws, batch);
    ws->defer_checkpoint = false;
    /* read while still leading: ws is ours alone */
    bool starved = ws->wal_pages >= IOTCA_SQ_CHECKPOINT_STARVED * ckpt_pages;
    if (ws->db && ws->wal_pages >= ckpt_pages) {
        *grew = true;
        ws->wal_pages = 0;
    }
    pthread_mutex_lock(&g->mu);
    unsigned long n = 0;
    op *notify = NULL, **nt = &notify;
    for (op *o = batch, *next; o; o = next) {
        next = o->next; /* o may be freed by its owner as soon as done is set and the lock dropped */
        if (o->notify) { /* read under the lock: iotca_store_group_notify may have set it during the batch */
            *nt = o;
            nt = &o->next_notify;
        }
        o->done = true;
        n++;
    }
    *nt = NULL;
    g->batches++;
    g->writes += n;
    pthread_cond_broadcast(&g->cv); /* the waiters whose writes are done return */
    pthread_mutex_unlock(&g->mu);
    /* busy stays set: no batch begins before the notified learn their results */
    for (op *o = notify, *next; o; o = next) {
        next = o->next_notify; /* o may be freed once notified */
        o->notify(o->notify_arg);
    }
    if (starved) {
        /* The WAL starts over only when a batch begins after every frame was copied back. Batches that
         * follow each other with no pause (a saturated group commit, a bulk load) begin while each passive
         * checkpoint is still copying, so it never starts over and grows without end. Past the limit, this
         * leader checkpoints before the next batch may begin (busy stays set; the writes just committed
         * were answered already), and that batch starts the WAL over. */
        (void)sqlite3_wal_checkpoint_v2(ws->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        *grew = false;
    }
    pthread_mutex_lock(&g->mu);
    g->busy = false;
    pthread_cond_broadcast(&g->cv);
    if (g->notified > 0 && g->head) pthread_cond_signal(&g->commit_cv); /* writes nobody waits for */
}

/* Hands the WAL checkpoint a batch asked for to the checkpointer thread (g->mu held); false without one. */
static bool hand_checkpoint(iotca_store_group *g) {
    if (!g->ckpt_running) return false;
    g->ckpt_wanted = true;
    pthread_cond_signal(&g->ckpt_cv);
    return true;
}

iotca_rc iotca_store_group_wait(iotca_store_group *g, iotca_store *s, iotca_store_write *w) {
    op *mine = w;
    bool grew = false; /* this thread led a batch that grew the WAL past the checkpoint threshold */
    if (!mine->queued) return iotca_error_set(IOTCA_E_INTERNAL, "group commit: waiting for a write never submitted");
    pthread_mutex_lock(&g->mu);
    /* this thread is done working towards its writes: none of them keeps a leader waiting any more */
    owner_done(g, mine);
    while (!mine->done) {
        if (g->busy || g->head == NULL) { /* a batch in flight (holding mine, or mine is next) */
            pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        lead(g, s, &grew); /* takes the whole queue: it holds this thread's write */
    }
    bool checkpoint = grew && !hand_checkpoint(g);
    pthread_mutex_unlock(&g->mu);
    mine->queued = false;
    if (checkpoint) {
        /* no checkpointer thread: checkpoint here, with the group released, so the next batch commits
         * meanwhile (PASSIVE never blocks writers) */
        if (s->db) (void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    if (mine->rc != IOTCA_OK) return iotca_error_set(mine->rc, "%s", mine->detail);
    return IOTCA_OK;
}

iotca_rc iotca_store_group_notify(iotca_store_group *g, iotca_store_write *w, void (*fn)(void *arg), void *arg) {
    IOTCA_ENSURE(g && w && fn, IOTCA_E_USAGE, "iotca_store_group_notify: NULL argument");
    IOTCA_ENSURE(w->queued && w->notify == NULL, IOTCA_E_USAGE, "group commit: notify for a write never submitted");
    IOTCA_ENSURE(g->committer_running, IOTCA_E_USAGE, "group commit: notification needs a database path");
    pthread_mutex_lock(&g->mu);
    owner_done(g, w);
    bool now = w->done;
    if (!now) {
        w->notify = fn;
        w->notify_arg = arg;
        if (!w->taken) {
            g->notified++;
            if (!g->busy) pthread_cond_signal(&g->commit_cv);
        }
    }
    pthread_mutex_unlock(&g->mu);
    if (now) fn(arg);
    return IOTCA_OK;
}

iotca_rc iotca_store_group_result(iotca_store_group *g, const iotca_store_write *w) {
    pthread_mutex_lock(&g->mu);
    bool done = w->done;
    iotca_rc rc = w->rc;
    pthread_mutex_unlock(&g->mu);
    if (!done) return iotca_error_set(IOTCA_E_INTERNAL, "group commit: the result of a write not done");
    if (rc != IOTCA_OK) return iotca_error_set(rc, "%s", w->detail);
    return IOTCA_OK;
}
