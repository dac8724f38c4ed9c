/* The HTTP engine as its handlers see it (server/v1/, later acme/, est/, ui/): the server, a request, its
 * response, and the calls a handler makes (answer, authenticate, read the query, headers and body). How a
 * request reaches its handler is the route table's (routes.c) and the serving threads' (serving.c). */
#ifndef IOTCAD_HTTP_H
#define IOTCAD_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <time.h>

#include "config.h"
#include "deadline.h"
#include "metrics.h"
#include "ratelimit.h"
#include "reload.h"

typedef struct server {
    live *cfg; /* the live config; each request holds the one it started under (request.cfg) */
    iotca_ca *ca;
    metrics m;
    ratelimit rl;
    deadlines dl;
    unsigned max_connections; /* what libmicrohttpd was given, after the descriptor limit */
    const char *poller;       /* "epoll", "poll" or "select": what libmicrohttpd chose */
    struct serving *serving;  /* the serving threads, each with its own libmicrohttpd daemon (http_start) */
    unsigned n_serving;
    int listen_fd;            /* the listening socket they share; -1 when closed */
    int stopping;             /* set (atomically) by http_stop: the serving threads return */
    /* the pool that runs the requests that wait for the disk, their connections suspended meanwhile */
    struct {
        pthread_mutex_t mu;
        struct request *head, **tail; /* queued while no pool thread was idle, oldest first */
        struct pool_thread *threads;
        unsigned n;
        struct pool_thread *idle; /* idle threads, the most recently busy first */
        bool closing;             /* http_stop: finish what is queued, take nothing new */
        unsigned unsent;          /* submitted and not yet answered or abandoned (atomic) */
        unsigned issuing;         /* issuances started and not yet told done (atomic; http_stop waits) */
    } pool;
    iotca_buf tls_cert, tls_key;
    iotca_buf tls_trust; /* with EST: the roots (PEM) named in the request for client certificates */
} server;

typedef struct response {
    unsigned status;
    const char *content_type;
    iotca_buf body;
    const char *error;
    long max_age; /* > 0: cacheable for that many seconds (OCSP, RFC 5019 §6.2); else no-store */
    char etag[48];         /* sent as ETag when set */
    time_t last_modified;  /* sent as Last-Modified when set */
    time_t expires;        /* sent as Expires when set */
    /* A 200 body sent from a file (a CRL of any size, without loading it): fd is owned by the server
     * from here on (closed after sending, or when the status is not 200) */
    bool use_fd;
    int fd;
    uint64_t fd_len;
    /* extra headers (e.g. X-Iotca-Bundle-Sha256, Link; ACME's Replay-Nonce, Location, Link index and up); a slot is
     * unused while its name is NULL */
    const char *header_name[8];
    char header_value[8][600];
} response;

/* One request, from its first byte to its response. */
#define ROUTE_MAX_PARAMS 4
#define ROUTE_MAX_SEG 128
struct route;

typedef struct request {
    server *srv;
    const config *cfg; /* the config this request runs under, from start to end (a reload swaps only newer ones) */
    struct MHD_Connection *conn;
    const char *method, *path, *version;
    /* what the route table matched (routes.c: route_find): the route whose path this is, NULL for none, and
     * whether it takes this method (else the answer is 405); the path's "*" segments */
    const struct route *route;
    bool method_ok;
    char params[ROUTE_MAX_PARAMS][ROUTE_MAX_SEG];
    size_t n_params;
    char allow[64]; /* the methods the path takes, for a 405's Allow */
    iotca_buf body;
    bool too_large;
    struct timespec start;
    char id[24];
    iotca_role role;
    char scope[1024];
    const char *error; /* the error code sent, for the log */
    char actor[40];          /* "token:<public id>" once authenticated, for the audit trail */
    /* for the request's log line (respond.c): the public id of the token presented (also when refused),
     * the serial an issuance gave, and the rule that refused one (a profile rule, or the token's scope) */
    char token_id[17];
    char log_serial[41];
    char log_rule[48];
    char auth_failure[160]; /* why the token was refused (auth.c): the log line is then a warning */
    char audit_subject[96];  /* what a handler acted on (e.g. the serial it issued), if not the path */
    bool audited;            /* the handler's own transaction already holds this request's audit record */
    /* a started route (POST /v1/certificates, api_cert_issue_begin): the issuance whose record is being
     * committed, and the profile named, for the answer */
    iotca_issuance *issuance;
    bool started; /* a started route's work is pending or reported back: route->end still to be called */
    char issue_profile[64];
    bool concluding; /* out holds the answer; the pool writes its audit record, then it is sent */
    struct serving *serving; /* the serving thread whose daemon holds the connection */
    /* run by the pool: queued there, then answered from out once its connection is resumed */
    struct request *next_job;
    bool answered; /* out holds the response, not yet sent */
    response out;
} request;


/* Answers with a JSON document (consumed). */
void respond_json(response *out, unsigned status, json_t *doc);
/* Answers {"error": code, "detail": detail}. */
void respond_error(response *out, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a library failure to a status: usage 400, parse 400, crypto 400,
 * policy 422, unavailable 503 (no_issuer, with its detail), storage 503,
 * internal 500. Storage and internal details go to the log only; the client
 * gets the request id to quote. */
void respond_rc(request *r, response *out, iotca_rc rc);
void respond_text(response *out, unsigned status, const char *content_type, const char *text, size_t n);

/* Requires a token with at least `need`, and (with a rate_limit configured) a token left in that token's
 * bucket; on failure fills out (401, 429 with Retry-After, 403) and returns false. */
bool require_role(request *r, response *out, iotca_role need);
/* The client's address as text ("192.0.2.1", "2001:db8::1"; "-" when unknown): the peer of the
 * connection, so a reverse proxy's own address when there is one. */
void request_client(request *r, char out[64]);
/* The certificate the TLS client presented (DER, pointing into the connection's session; valid during the
 * request), or false when the connection is plain HTTP or the client sent none. Not verified: the caller
 * decides what the certificate proves. */
bool request_client_cert(request *r, iotca_slice *der);
#define REQUEST_CB_MAX 64
/* The TLS connection's channel binding (RFC 7030 §3.5): tls-unique (RFC 5929) over TLS 1.2, tls-exporter
 * (RFC 9266) over TLS 1.3, into out (*len bytes), *kind naming it; false over plain HTTP. */
bool request_channel_binding(request *r, uint8_t out[REQUEST_CB_MAX], size_t *len, const char **kind);
/* A query parameter, or NULL. */
const char *query(request *r, const char *name);
/* Parses the body as a JSON object; on failure fills out and returns NULL. */
json_t *body_json(request *r, response *out);

/* Adds a response header (one of response.header_name's slots); false when all are taken. */
bool respond_header(response *out, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A header's value, or NULL when the request has none. The engine refused every request with a control byte
 * (NUL included) in a header value before any handler runs (request.c), so the value is the whole header. */
const char *header(request *r, const char *name);

/* Starts libmicrohttpd (epoll where there is one, a thread pool) with the limits of the live config; the
 * connection limit is lowered to what RLIMIT_NOFILE leaves room for. */
iotca_rc http_start(server *s);
void http_stop(server *s);

/* A route's handler. params[] holds the path's {placeholders}. */
typedef void (*handler_fn)(request *r, const char *const *p, response *out);

/* Gives back what this thread's work left allocated: its wolfSSL fixed-point ECC tables, its SQLite page
 * cache and the group writer's (iotca_ca_release_memory), and the free memory glibc still holds in every
 * arena (malloc_trim). For after an admin request, a tick, start-up, or a serving thread gone quiet; never
 * on a hot path. */
void release_idle_memory(iotca_ca *ca);

#endif
