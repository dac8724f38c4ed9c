/* The HTTP engine's own parts, shared by its files and seen by no handler: the serving threads, the pool,
 * sending, auditing and the idle-memory bookkeeping. */
#ifndef IOTCAD_ENGINE_H
#define IOTCAD_ENGINE_H

#include "http.h"
#include "route.h"

/* A serving thread (serving.c). */
struct serving {
    server *s;
    struct MHD_Daemon *d;
    pthread_t th;
    bool running;
    /* what the thread waits on: its daemon's epoll descriptor, and wake_fd, an eventfd a pool thread writes
     * after resuming one of its connections (libmicrohttpd 0.9.75 has no wake-up channel in external polling
     * mode: a resumed connection would wait for the next network event or timeout) */
    int ep, wake_fd;
};

#define WAKE_MS 250 /* how often an idle serving or pool thread looks at the clock and the stop flag */

/* route.c: GET and HEAD change nothing (RFC 9110 §9.2.1): no audit record, no idle-memory release after. */
bool read_only(const char *method);
/* route.c: runs a whole request into out (the size verdict, the route's handler or the 404/405, the audit
 * record), on whichever thread the route runs on. */
void handle(request *r, response *out);
/* route.c: this thread ran a hot route; and, once, whether it has been quiet since for long enough to give
 * back its tables (the caller then calls release_idle_memory). */
void hot_request_done(void);
bool quiet_with_tables(void);

/* audit.c: the audit record of an answered request (fail closed: an action that cannot be audited is not
 * confirmed: out becomes a 503). */
void conclude(request *r, response *out);

/* respond.c: sends out (consumed) on conn, counts it and logs it; frees a response never sent. */
enum MHD_Result send_response(request *r, struct MHD_Connection *conn, response *out);
void response_free(response *out);

/* request.c: the checks every request passes before its route runs (RFC 9110, RFC 9112): false and out holds
 * the 400 when a header value has a control byte, an HTTP/1.1 request has no Host, or two Content-Length
 * headers differ (the connection is then closed: its framing is in doubt). */
bool request_acceptable(request *r, response *out);

/* pool.c: the threads that run RUN_POOL routes. pool_enqueue hands r over (suspend: its connection is
 * suspended and counted in pool.unsent here, else the caller did both); false when the pool is closing,
 * and the caller runs it itself. */
iotca_rc pool_start(server *s, unsigned n);
void pool_stop(server *s);
bool pool_enqueue(server *s, request *r, bool suspend);

/* started.c: r->out is ready to be sent (any thread): its serving thread sends it on its next turn. */
void answer_ready(request *r);
/* started.c: r->out holds a refusal whose audit record is still to be written: the pool writes it (it waits
 * for the disk) and the serving thread then sends the answer; with the pool closing, this thread writes it.
 * The connection is suspended and counted in pool.unsent. */
void conclude_later(request *r);
/* started.c: runs r's RUN_STARTED route (its begin) with its connection parked until the work reports back;
 * false when the server is stopping (nothing started: the caller runs the route whole). */
bool start_here(request *r);

#endif
