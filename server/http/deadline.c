/* The request-deadline watcher: tracks every open connection and shuts down those that trickle a request. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "deadline.h"
#include "iotca/clock.h"

struct deadline_conn {
    deadline_conn *prev, *next;
    int fd;
    int64_t deadline_ms; /* CLOCK_MONOTONIC; 0: none. Written by the connection's thread, read by the watcher */
};

static deadline_conn *conn_of(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Twice a second: shut down every connection past its deadline. The list lock is held while shutdown(2) runs,
 * and libmicrohttpd reports a connection closed (which unlinks it under the same lock) before it closes the
 * descriptor, so the watcher never touches a descriptor that may have been reused. */
static void *watch(void *arg) {
    deadlines *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stopping) {
        struct timespec until = iotca_mono_deadline_us(500 * 1000L);
        pthread_cond_timedwait(&d->cv, &d->mu, &until);
        int64_t now = iotca_mono_ms();
        unsigned cut = 0;
        for (deadline_conn *c = d->head; c; c = c->next) {
            int64_t dl = __atomic_load_n(&c->deadline_ms, __ATOMIC_RELAXED);
            if (dl == 0 || now < dl) continue;
            __atomic_store_n(&c->deadline_ms, 0, __ATOMIC_RELAXED);
            if (shutdown(c->fd, SHUT_RDWR) == 0 || errno == ENOTCONN) cut++;
        }
        if (cut) __atomic_add_fetch(&d->m->conn_timeouts, cut, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

iotca_rc deadlines_start(deadlines *d, unsigned timeout_s, metrics *m) {
    d->head = NULL;
    d->timeout_ms = (int64_t)timeout_s * 1000;
    d->m = m;
    d->stopping = false;
    pthread_mutex_init(&d->mu, NULL);
    iotca_cond_init_mono(&d->cv);
    IOTCA_ENSURE(pthread_create(&d->th, NULL, watch, d) == 0, IOTCA_E_INTERNAL, "cannot start the deadline watcher");
    d->running = true;
    return IOTCA_OK;
}

void deadlines_stop(deadlines *d) {
    if (!d->running) return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->th, NULL);
    d->running = false;
    while (d->head) { /* none left once libmicrohttpd has stopped; kept for safety */
        deadline_conn *c = d->head;
        d->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
}

void deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code) {
    deadlines *d = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        deadline_conn *c = calloc(1, sizeof *c);
        if (c == NULL || ci == NULL) { /* untracked: libmicrohttpd's own timeout still applies */
            free(c);
            *socket_context = NULL;
            return;
        }
        c->fd = ci->connect_fd;
        c->deadline_ms = iotca_mono_ms() + d->timeout_ms;
        pthread_mutex_lock(&d->mu);
        c->next = d->head;
        if (d->head) d->head->prev = c;
        d->head = c;
        pthread_mutex_unlock(&d->mu);
        *socket_context = c;
        __atomic_add_fetch(&d->m->connections, 1, __ATOMIC_RELAXED);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        deadline_conn *c = *socket_context;
        pthread_mutex_lock(&d->mu);
        if (c->prev) c->prev->next = c->next;
        else d->head = c->next;
        if (c->next) c->next->prev = c->prev;
        pthread_mutex_unlock(&d->mu);
        free(c);
        *socket_context = NULL;
        __atomic_sub_fetch(&d->m->connections, 1, __ATOMIC_RELAXED);
    }
}

void deadlines_received(struct MHD_Connection *conn) {
    deadline_conn *c = conn_of(conn);
    if (c) __atomic_store_n(&c->deadline_ms, 0, __ATOMIC_RELAXED);
}

void deadlines_rearm(deadlines *d, struct MHD_Connection *conn) {
    deadline_conn *c = conn_of(conn);
    if (c) __atomic_store_n(&c->deadline_ms, iotca_mono_ms() + d->timeout_ms, __ATOMIC_RELAXED);
}
