/* Request deadlines: a client gets request_timeout_s to deliver a complete request, however slowly it trickles. */
#ifndef IOTCAD_DEADLINE_H
#define IOTCAD_DEADLINE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

/* libmicrohttpd's connection timeout counts inactivity: every byte read restarts it, so a client sending one
 * header or body byte a second holds a connection (and its memory) for ever (slowloris). This adds a deadline
 * that activity does not move: from the moment a connection opens, or the previous response on it has been
 * sent, the next request must have arrived whole within the timeout. Past it a watcher thread shuts the socket
 * down (shutdown(2), never close: the descriptor stays libmicrohttpd's), and libmicrohttpd closes the
 * connection when it sees the end of the stream. While a handler works on a request and while the response is
 * sent there is no deadline (libmicrohttpd's inactivity timeout still applies). */

typedef struct deadline_conn deadline_conn;

typedef struct deadlines {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    deadline_conn *head; /* every open connection; guarded by mu */
    int64_t timeout_ms;
    metrics *m;          /* connections gauge and timed-out counter */
    bool stopping, running;
    pthread_t th;
} deadlines;

/* Starts the watcher thread (it checks twice a second). IOTCA_E_INTERNAL if it cannot. */
iotca_rc deadlines_start(deadlines *d, unsigned timeout_s, metrics *m);
/* Stops the watcher; call after MHD_stop_daemon, when every connection has been closed. */
void deadlines_stop(deadlines *d);
/* The MHD_OPTION_NOTIFY_CONNECTION callback (cls: the deadlines). */
void deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);
/* The request on conn has arrived whole: no deadline while it is handled and answered. */
void deadlines_received(struct MHD_Connection *conn);
/* The response on conn has been sent (or the request ended): the next request has until now + timeout. */
void deadlines_rearm(deadlines *d, struct MHD_Connection *conn);

#endif
