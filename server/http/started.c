/* Parked connections: a request whose answer another thread prepares (the pool, or a started route's work
 * reporting back) has its connection suspended meanwhile, and is resumed on its serving thread to be sent. */
#include <stdint.h>
#include <unistd.h>

#include "engine.h"

/* Resumes r's connection from any thread and wakes its serving thread, which runs it on (on_request) in its
 * next turn. The last touch: from here on r belongs to the serving thread. */
static void resume(request *r) {
    struct serving *w = r->serving;
    MHD_resume_connection(r->conn);
    uint64_t one = 1;
    (void)!write(w->wake_fd, &one, sizeof one);
}

void answer_ready(request *r) {
    r->answered = true;
    resume(r);
}

/* r->out holds a refusal whose audit record is still to be written: the pool writes it (it waits for the
 * disk) and the serving thread then sends the answer; with the pool closing, this thread writes it. The
 * connection is suspended and counted in pool.unsent. */
void conclude_later(request *r) {
    r->concluding = true;
    if (pool_enqueue(r->srv, r, false)) return;
    r->concluding = false;
    conclude(r, &r->out);
    answer_ready(r);
}

/* A started route's work reported back (an issuance's record is committed, or failed): called once, from the
 * group commit's thread (or from the serving thread itself, within begin, if it already was). */
static void work_done(void *arg) {
    request *r = arg;
    server *s = r->srv;
    resume(r); /* on_request ends it (route->end) */
    __atomic_sub_fetch(&s->pool.issuing, 1, __ATOMIC_SEQ_CST); /* the last touch of s: http_stop may go on */
}

/* A RUN_STARTED route (POST /v1/certificates), with no thread waiting for it. For an issuance the serving
 * thread checks the token, the body and the profile and reads the issuer, then hands the issuance to a crypto
 * thread (CSR check, policy, signing, the record queued) and serves its other connections meanwhile; once the
 * record is durable the group commit's notification resumes the connection and the serving thread sends the
 * answer. A pool thread that
 * ran the issuance and waited, as before, cost 10 context switches an issuance (2.3-3.5 now, measured from
 * /proc/PID/task/TID/status) and 555-604 us of CPU against 453-508 (8 clients, one CSR, P-256, six
 * alternating 4 s runs each on 2 cores); requests/s rose from 2,596-3,011 to 2,743-3,260. A refusal still
 * goes to the pool, for its audit record. False: the server is stopping; the caller runs it whole. */
bool start_here(request *r) {
    server *s = r->srv;
    /* counted before the look at the pool's state, which http_stop changes before it waits for the count:
     * either it waits for this issuance, or this thread sees it stopping */
    __atomic_add_fetch(&s->pool.issuing, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&s->pool.mu);
    bool stopping = s->pool.closing;
    pthread_mutex_unlock(&s->pool.mu);
    if (stopping) {
        __atomic_sub_fetch(&s->pool.issuing, 1, __ATOMIC_SEQ_CST);
        return false;
    }
    /* suspended before the record is queued: its notification may resume the connection at once */
    MHD_suspend_connection(r->conn);
    __atomic_add_fetch(&s->pool.unsent, 1, __ATOMIC_RELAXED);
    bool pending = request_acceptable(r, &r->out) && r->route->begin(r, &r->out, work_done);
    r->started = pending;
    if (r->route->hot) hot_request_done(); /* given back once the thread is quiet (serve), not after each one */
    if (!pending) {
        __atomic_sub_fetch(&s->pool.issuing, 1, __ATOMIC_SEQ_CST); /* refused at once: never reports back */
        conclude_later(r);
    }
    return true;
}

