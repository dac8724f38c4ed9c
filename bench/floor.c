/* The round-trip floor for bench/run's one-client OCSP figures: a do-nothing HTTP/1.1 responder.
 *
 * At one client every request waits for the answer before the next is sent, so requests/s is bounded by
 * the loopback round trip (two thread wake-ups, often on different cores) plus the load generator's own
 * work, whatever the server does. This program answers every request at once with a fixed body of the
 * given size, from one thread on epoll (the way iotcad's threads wait), so the same wrk run against it
 * measures that bound on this machine, in the same run as iotcad and cfssl.
 *   iotca-floor BODY_BYTES
 * Listens on 127.0.0.1 on a free port, prints "port N" and serves until killed. A request's head is read up
 * to its blank line (at most 16 KiB) and its body by Content-Length (at most 64 KiB); anything else closes
 * the connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define BODY_MAX 65536
#define CONNS_MAX 1024

typedef struct conn {
    int fd;
    char in[HEAD_MAX + BODY_MAX];
    size_t have;
} conn;

static char *answer;
static size_t answer_len;

/* The Content-Length of a request head (0 when absent), or -1 when it is not a number in range. */
static long content_length(const char *head, size_t len) {
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL) break;
        static const char name[] = "content-length:";
        if ((size_t)(eol - p) > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
            char *stop;
            errno = 0;
            long v = strtol(p + sizeof name - 1, &stop, 10);
            if (errno || stop == p + sizeof name - 1 || v < 0 || v > BODY_MAX) return -1;
            return v;
        }
        p = eol + 1;
    }
    return 0;
}

/* Answers every complete request in c->in; false when the connection must close. */
static bool serve(conn *c) {
    for (;;) {
        char *blank = memmem(c->in, c->have, "\r\n\r\n", 4);
        if (blank == NULL) return c->have < HEAD_MAX;
        size_t head = (size_t)(blank - c->in) + 4;
        long body = content_length(c->in, head);
        if (body < 0) return false;
        size_t whole = head + (size_t)body;
        if (c->have < whole) return true;
        size_t sent = 0;
        while (sent < answer_len) {
            ssize_t n = send(c->fd, answer + sent, answer_len - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false; /* a client that stops reading a few hundred bytes is not measured */
            sent += (size_t)n;
        }
        memmove(c->in, c->in + whole, c->have - whole);
        c->have -= whole;
    }
}

int main(int argc, char **argv) {
    char *stop;
    long size = argc == 2 ? strtol(argv[1], &stop, 10) : -1;
    if (argc != 2 || *stop != '\0' || size < 0 || size > BODY_MAX) {
        fprintf(stderr, "usage: iotca-floor BODY_BYTES (0 to %d)\n", BODY_MAX);
        return 2;
    }
    answer = malloc(128 + (size_t)size);
    if (answer == NULL) return 1;
    int hl = snprintf(answer, 128, "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: %ld\r\n\r\n",
                      size);
    memset(answer + hl, 'x', (size_t)size);
    answer_len = (size_t)hl + (size_t)size;

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 128) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
        perror("iotca-floor: listen");
        return 1;
    }
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) != 0) {
        perror("iotca-floor: epoll");
        return 1;
    }
    size_t open_conns = 0;
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            perror("iotca-floor: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c == NULL) { /* the listening socket */
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    conn *nc = open_conns < CONNS_MAX ? malloc(sizeof *nc) : NULL;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    if (nc == NULL || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) != 0) {
                        free(nc);
                        close(fd);
                        continue;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    nc->fd = fd;
                    nc->have = 0;
                    open_conns++;
                }
                continue;
            }
            bool keep = true;
            for (;;) {
                ssize_t got = recv(c->fd, c->in + c->have, sizeof c->in - c->have, 0);
                if (got < 0 && errno == EINTR) continue;
                if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                if (got <= 0) {
                    keep = false;
                    break;
                }
                c->have += (size_t)got;
                if (!(keep = serve(c))) break;
            }
            if (!keep) {
                close(c->fd); /* also leaves the epoll set */
                free(c);
                open_conns--;
            }
        }
    }
}
