/* What the three TLS clients (tls_client_mbedtls.c, tls_client_wolfssl.c, tls_client_bearssl.c) share, whatever
 * their stack: the command line and the request it makes, the TCP connection with its timeouts, the reply read
 * within a deadline and the verdict line printed from it. The TLS calls stay in each client. */
#ifndef IOTCA_TEST_TLS_CLIENT_COMMON_H
#define IOTCA_TEST_TLS_CLIENT_COMMON_H

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_ACCEPTED = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2 };

#define IO_TIMEOUT_MS 10000   /* the most one socket operation waits until the request is sent */
#define REPLY_TIMEOUT_MS 5000 /* the whole reply */
#define REPLY_MAX (64 * 1024) /* the most of the reply read */

/* The command line, CAFILE HOST PORT SERVERNAME [PATH], and the request it asks for: req_n bytes in req. */
typedef struct tls_client_args {
    const char *cafile, *host, *port, *name, *path;
    char req[2048];
    int req_n;
} tls_client_args;

/* The monotonic clock in milliseconds. */
static inline long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 if s is a decimal port number from 1 to 65535, else 0. */
static inline int valid_port(const char *s) {
    char *end = NULL;
    long p = strtol(s, &end, 10);
    return end != s && *end == '\0' && p > 0 && p <= 65535;
}

/* Fills a from argv (PATH defaults to "/") and builds the request "GET PATH HTTP/1.0" with a Host header of
 * SERVERNAME. Returns 0, or EXIT_USAGE after saying on stderr, as program prog, what is wrong: the argument
 * count (the usage text), the port, or a request too long for a->req. */
static inline int parse_args(const char *prog, int argc, char **argv, tls_client_args *a) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s CAFILE HOST PORT SERVERNAME [PATH]\n"
                        "  exit 0 ok, 1 handshake or verification failed, 2 usage or connect error\n", prog);
        return EXIT_USAGE;
    }
    a->cafile = argv[1], a->host = argv[2], a->port = argv[3], a->name = argv[4];
    a->path = argc == 6 ? argv[5] : "/";
    if (!valid_port(a->port)) {
        fprintf(stderr, "%s: PORT must be a number from 1 to 65535, not '%s'\n", prog, a->port);
        return EXIT_USAGE;
    }
    a->req_n = snprintf(a->req, sizeof a->req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", a->path, a->name);
    if (a->req_n < 0 || (size_t)a->req_n >= sizeof a->req) {
        fprintf(stderr, "%s: PATH and SERVERNAME are too long\n", prog);
        return EXIT_USAGE;
    }
    return 0;
}

/* Sets both the receive and the send timeout of socket fd to ms milliseconds (errors ignored). Returns nothing. */
static inline void set_timeouts(int fd, long long ms) {
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connects over TCP to host and port, trying each address in turn, with IO_TIMEOUT_MS set on the socket first: on
 * Linux SO_SNDTIMEO bounds connect() too. Returns the socket, or -1 after saying why on stderr as program prog. */
static inline int tcp_connect(const char *prog, const char *host, const char *port) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res), fd = -1;
    if (gai != 0) fprintf(stderr, "%s: %s port %s: %s\n", prog, host, port, gai_strerror(gai));
    for (struct addrinfo *a = gai == 0 ? res : NULL; a != NULL && fd < 0; a = a->ai_next) {
        if ((fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol)) < 0) continue;
        set_timeouts(fd, IO_TIMEOUT_MS);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        fprintf(stderr, "%s: connect: %s\n", prog, strerror(errno));
        close(fd);
        fd = -1;
    }
    if (gai == 0) freeaddrinfo(res);
    return fd;
}

/* One read of a client's TLS stream, at most len bytes into buf, waiting at most left_ms milliseconds. Returns the
 * bytes read (> 0), 0 to be called again (the stack wants another try), or -1 to stop: the peer closed, the read
 * timed out or failed (the callback keeps in ctx whatever the client reports of it). */
typedef int (*reply_read_fn)(void *ctx, char *buf, size_t len, long long left_ms);

/* Reads the reply into reply (REPLY_MAX + 1 bytes) with read_fn, until it says stop, REPLY_MAX bytes have come or
 * REPLY_TIMEOUT_MS have passed since the call (each read waits only what is left of them). Returns the bytes read,
 * NUL-terminated in reply; *deadline_passed (unless NULL) is 1 if the time ran out before the reply ended, else 0. */
static inline size_t read_reply(char *reply, reply_read_fn read_fn, void *ctx, int *deadline_passed) {
    size_t got = 0;
    long long deadline = now_ms() + REPLY_TIMEOUT_MS;
    int late = 0;
    while (got < REPLY_MAX) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            late = 1;
            break;
        }
        int n = read_fn(ctx, reply + got, REPLY_MAX - got, left);
        if (n < 0) break;
        got += (size_t)n;
    }
    reply[got] = '\0';
    if (deadline_passed != NULL) *deadline_passed = late;
    return got;
}

/* Prints "ok: STATUS LINE; body: ITS FIRST LINE" from an HTTP reply (the body part only when there is one),
 * cutting the lines in reply itself. Returns nothing. */
static inline void print_ok(char *reply) {
    char *body = strstr(reply, "\r\n\r\n");
    if (body != NULL) {
        body += 4;
        body[strcspn(body, "\r\n")] = '\0';
    }
    reply[strcspn(reply, "\r\n")] = '\0';
    printf("ok: %s%s%s\n", reply, body && *body ? "; body: " : "", body && *body ? body : "");
}

/* Prints "fail: no reply to GET PATH[: ERR][ within 5 s]" for a reply that never came: err (NULL for none) is the
 * stack's error, timed_out whether the wait ran out. Returns nothing. */
static inline void print_no_reply(const char *path, const char *err, int timed_out) {
    printf("fail: no reply to GET %s%s%s%s\n", path, err ? ": " : "", err ? err : "", timed_out ? " within 5 s" : "");
}

#endif
