/* The serving threads: the listening socket, one libmicrohttpd daemon a thread (external polling, epoll), the
 * life of a request from its first byte to its answer, and starting and stopping it all. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "iotca/clock.h"
#include "iotca/file.h"
#include "log.h"

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t);
static void on_mhd_error(void *cls, const char *fmt, va_list ap);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    struct serving *w = cls;
    server *s = w->s;
    request *r = *con_cls;
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL) return MHD_NO;
        r->srv = s;
        r->serving = w;
        r->cfg = live_acquire(s->cfg);
        r->conn = conn;
        r->method = method;
        r->path = url;
        r->version = version;
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        static unsigned long counter;
        snprintf(r->id, sizeof r->id, "%lx-%lu", (unsigned long)r->start.tv_nsec & 0xffff,
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        /* keep reading but stop storing past the limit: the client gets a clean 413 */
        if (!r->too_large && r->body.len + *upload_size <= r->cfg->max_body)
            r->too_large = iotca_buf_append(&r->body, upload, *upload_size) != IOTCA_OK;
        else r->too_large = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->started) { /* resumed: the started work reported back (an issuance's record is committed, or failed) */
        r->started = false;
        if (!r->route->end(r, &r->out)) { /* a refusal, to be audited */
            MHD_suspend_connection(conn);
            conclude_later(r);
            return MHD_YES;
        }
        r->answered = true;
    }
    if (r->answered) { /* resumed: the pool has run it, or its started work is done */
        r->answered = false;
        enum MHD_Result ret = send_response(r, conn, &r->out);
        __atomic_sub_fetch(&s->pool.unsent, 1, __ATOMIC_RELEASE);
        return ret;
    }
    deadlines_received(conn); /* the request is in: its deadline no longer runs */
    /* the route table decides where the request runs (route.h); a body over the limit is refused here */
    route_find(r);
    const route *rt = r->too_large || !r->method_ok ? NULL : r->route;
    if (rt && rt->run == RUN_STARTED && start_here(r)) return MHD_YES;
    /* a 405 of an audited path waits for its audit record like the route's own requests */
    bool pool = r->route && r->route->run != RUN_HERE && !read_only(r->method) && !r->too_large;
    if (pool && pool_enqueue(s, r, true)) return MHD_YES;
    response out = {0};
    handle(r, &out);
    return send_response(r, conn, &out);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t) {
    server *s = cls;
    (void)t;
    deadlines_rearm(&s->dl, conn); /* a kept-alive connection has the timeout to send its next request */
    request *r = *con_cls;
    if (r) {
        if (r->started) { /* the client left while its started work ran: settled all the same */
            response out = {0};
            if (!r->route->end(r, &out)) conclude(r, &out); /* its refusal is audited */
            response_free(&out);
            __atomic_sub_fetch(&s->pool.unsent, 1, __ATOMIC_RELEASE);
        }
        if (r->answered) { /* the client left while the pool ran its request */
            response_free(&r->out);
            __atomic_sub_fetch(&s->pool.unsent, 1, __ATOMIC_RELEASE);
        }
        live_release(s->cfg, r->cfg);
        iotca_buf_free(&r->body);
        free(r);
        *con_cls = NULL;
    }
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    log_event("warn", "http", json_pack("{s:s}", "detail", msg));
}

/* Descriptors kept for everything but client connections: listening sockets, epoll and inter-thread
 * channels, per-thread SQLite handles (database, WAL, shared memory), CRL files being sent, the log. */
static unsigned fd_reserve(unsigned threads) { return 64 + 8 * threads; }

/* The connection limit the descriptor limit allows (RLIMIT_NOFILE's soft value, raised at start-up). */
static unsigned connection_limit(const config *c) {
    struct rlimit rl;
    unsigned want = c->max_connections, reserve = fd_reserve(c->threads);
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return want;
    rlim_t room = rl.rlim_cur > reserve + 16 ? rl.rlim_cur - reserve : 16;
    if (want <= room) return want;
    log_event("warn", "connection limit lowered to fit the file descriptor limit",
              json_pack("{s:i, s:I, s:I, s:s}", "max_connections", (int)want, "fd_limit", (json_int_t)rl.rlim_cur,
                        "effective", (json_int_t)room, "detail",
                        "raise the hard RLIMIT_NOFILE (e.g. LimitNOFILE= in the systemd unit) to allow more"));
    return (unsigned)room;
}

static void *serve(void *arg) {
    struct serving *w = arg;
    (void)log_hold(); /* the lines of a turn go out together, at its end */
    while (!__atomic_load_n(&w->s->stopping, __ATOMIC_ACQUIRE)) {
        MHD_UNSIGNED_LONG_LONG due = 0;
        int ms = WAKE_MS;
        if (MHD_get_timeout(w->d, &due) == MHD_YES && due < (MHD_UNSIGNED_LONG_LONG)ms) ms = (int)due;
        struct epoll_event ev[2];
        int n = epoll_wait(w->ep, ev, 2, ms);
        for (int i = 0; i < n; i++)
            if (ev[i].data.fd == w->wake_fd) {
                uint64_t v;
                (void)!read(w->wake_fd, &v, sizeof v);
            }
        (void)MHD_run(w->d); /* resumes the connections the pool has answered, then serves what is ready */
        iotca_ca_store_return(w->s->ca); /* the database connection this turn's requests used */
        log_flush();
        if (quiet_with_tables()) release_idle_memory(w->s->ca);
    }
    log_release();
    return NULL; /* the thread's crypto state goes with it (a thread-exit destructor) */
}

/* The listening socket, non-blocking (every thread's epoll watches it; the ones that lose the accept get
 * EAGAIN), SO_REUSEADDR as libmicrohttpd would set it, IPv6 sockets IPv6 only. */
static iotca_rc listen_on(const config *c, int *out) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (inet_pton(AF_INET, c->address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)c->port);
        len = sizeof *v4;
    } else {
        IOTCA_ENSURE(inet_pton(AF_INET6, c->address, &v6->sin6_addr) == 1, IOTCA_E_USAGE, "bad listen address");
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)c->port);
        len = sizeof *v6;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    IOTCA_ENSURE(fd >= 0, IOTCA_E_STORAGE, "cannot listen on %s port %d: %s", c->address, c->port, strerror(errno));
    int on = 1;
    bool ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
              (ss.ss_family != AF_INET6 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0) &&
              bind(fd, (struct sockaddr *)&ss, len) == 0 && listen(fd, SOMAXCONN) == 0;
    if (!ok) {
        int e = errno;
        close(fd);
        IOTCA_BAIL(IOTCA_E_STORAGE, "cannot listen on %s port %d: %s", c->address, c->port, strerror(e));
    }
    *out = fd;
    return IOTCA_OK;
}

/* One serving thread's daemon: its share of the connection limit, on its own descriptor of the listening
 * socket (each daemon closes the one it was given). */
static struct MHD_Daemon *start_daemon(struct serving *w, const config *c, unsigned limit) {
    server *s = w->s;
    int fd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return NULL;
    /* MHD_USE_AUTO: epoll on Linux (poll elsewhere), so thousands of connections cost no more than their
     * descriptors; select() would fail past descriptor 1023. The logger first, so every libmicrohttpd
     * message goes through it as JSON. */
    unsigned flags = MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | (c->tls_cert ? MHD_USE_TLS : 0);
    struct MHD_OptionItem opts[10];
    size_t n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_error, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)limit, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)c->timeout_s, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)deadlines_notify, &s->dl};
    if (c->tls_cert) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert.data};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key.data};
        /* libmicrohttpd then asks every client for a certificate (GnuTLS's GNUTLS_CERT_REQUEST: optional, and
         * not verified in the handshake, so an expired one still arrives for EST's grace) */
        if (s->tls_trust.len) opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, s->tls_trust.data};
    }
    opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!d) close(fd);
    return d;
}

iotca_rc http_start(server *s) {
    /* first: whatever fails next, http_stop destroys it last */
    pthread_mutex_init(&s->pool.mu, NULL);
    const config *c = live_current(s->cfg);
    s->listen_fd = -1;
    if (c->tls_cert) {
        IOTCA_GUARD(iotca_file_read(c->tls_cert, 1 << 20, &s->tls_cert));
        s->tls_key.secret = true;
        bool loose = false;
        IOTCA_GUARD(iotca_file_read_secret(c->tls_key, 1 << 20, c->allow_readable_secrets, &s->tls_key, &loose));
        if (loose) log_readable_secret(c->tls_key);
        IOTCA_GUARD(iotca_buf_cstr(&s->tls_cert));
        IOTCA_GUARD(iotca_buf_cstr(&s->tls_key));
        /* EST re-enrolls with the client certificate being renewed (RFC 7030 §3.3.2): ask for one */
        for (size_t i = 0; c->n_est && i < iotca_ca_root_count(s->ca); i++) {
            uint8_t pin[32];
            time_t not_after;
            iotca_buf subject = {0};
            iotca_rc rc = iotca_ca_root(s->ca, i, &s->tls_trust, pin, &not_after, &subject);
            iotca_buf_free(&subject);
            IOTCA_GUARD(rc);
        }
        if (s->tls_trust.len) IOTCA_GUARD(iotca_buf_cstr(&s->tls_trust));
    }
    IOTCA_GUARD(ratelimit_init(&s->rl, RATELIMIT_DEFAULT_CAP));
    IOTCA_GUARD(deadlines_start(&s->dl, c->timeout_s, &s->m));
    s->max_connections = connection_limit(c);
    /* the connection limit is split among the threads, so never more threads than connections */
    unsigned threads = c->threads < s->max_connections ? c->threads : s->max_connections;
    IOTCA_GUARD(listen_on(c, &s->listen_fd));
    IOTCA_GUARD(pool_start(s, c->workers));
    s->serving = calloc(threads, sizeof *s->serving);
    IOTCA_ENSURE(s->serving != NULL, IOTCA_E_INTERNAL, "out of memory");
    for (unsigned i = 0; i < threads; i++) {
        struct serving *w = &s->serving[i];
        w->s = s;
        w->ep = w->wake_fd = -1;
        w->d = start_daemon(w, c, s->max_connections / threads + (i < s->max_connections % threads));
        s->n_serving = i + 1;
        IOTCA_ENSURE(w->d != NULL, IOTCA_E_STORAGE, "cannot listen on %s port %d (bad TLS files?)", c->address,
                     c->port);
        const union MHD_DaemonInfo *ei = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct epoll_event mhd = {.events = EPOLLIN, .data.fd = ei ? ei->epoll_fd : -1};
        struct epoll_event wake = {.events = EPOLLIN, .data.fd = w->wake_fd};
        IOTCA_ENSURE(ei != NULL && w->ep >= 0 && w->wake_fd >= 0 &&
                         epoll_ctl(w->ep, EPOLL_CTL_ADD, ei->epoll_fd, &mhd) == 0 &&
                         epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake_fd, &wake) == 0,
                     IOTCA_E_INTERNAL, "cannot set up a serving thread's epoll: %s", strerror(errno));
        IOTCA_ENSURE(pthread_create(&w->th, NULL, serve, w) == 0, IOTCA_E_INTERNAL, "cannot start a serving thread");
        w->running = true;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->serving[0].d, MHD_DAEMON_INFO_FLAGS);
    s->poller = di == NULL                         ? "unknown"
                : (di->flags & MHD_USE_EPOLL)      ? "epoll"
                : (di->flags & MHD_USE_POLL)       ? "poll"
                                                   : "select";
    return IOTCA_OK;
}

void http_stop(server *s) {
    /* first the pool, while the serving threads still run: every queued request is run, and its answer sent
     * by its serving thread (waited for up to 2 s) before the daemons close their connections */
    pool_stop(s);
    /* then every issuance started: its notification resumes a connection of these daemons, so they may not
     * stop before it came (an issuance takes its signing and one commit; the wait is not bounded, as the
     * pool's is not) */
    while (__atomic_load_n(&s->pool.issuing, __ATOMIC_SEQ_CST) > 0) {
        struct timespec t = {0, 2 * 1000000L};
        nanosleep(&t, NULL);
    }
    for (int i = 0; i < 200 && __atomic_load_n(&s->pool.unsent, __ATOMIC_ACQUIRE) > 0; i++) {
        struct timespec t = {0, 10 * 1000000L};
        nanosleep(&t, NULL);
    }
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    /* a thread returns within WAKE_MS, after the request it may be serving; then its daemon closes the
     * connections it still holds */
    for (unsigned i = 0; i < s->n_serving; i++)
        if (s->serving[i].running) pthread_join(s->serving[i].th, NULL);
    for (unsigned i = 0; i < s->n_serving; i++) {
        if (s->serving[i].d) MHD_stop_daemon(s->serving[i].d);
        if (s->serving[i].ep >= 0) close(s->serving[i].ep);
        if (s->serving[i].wake_fd >= 0) close(s->serving[i].wake_fd);
    }
    free(s->serving);
    s->serving = NULL;
    s->n_serving = 0;
    if (s->listen_fd >= 0) close(s->listen_fd);
    s->listen_fd = -1;
    deadlines_stop(&s->dl);
    pthread_mutex_destroy(&s->pool.mu); /* no serving thread is left to look at pool.closing */
    ratelimit_free(&s->rl);
    iotca_buf_free(&s->tls_cert);
    iotca_buf_free(&s->tls_key);
    iotca_buf_free(&s->tls_trust);
}
