/* libmicrohttpd glue: the serving threads, body accumulation under a size limit, routing, auth, responses,
 * the access log. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
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

#include "http.h"
#include "iotca/clock.h"
#include "iotca/file.h"
#include "log.h"

/* A serving thread (serve() below). */
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

typedef struct route {
    const char *method;
    const char *pattern; /* segments; "*" matches one segment */
    handler_fn fn;
    /* a hot path: the thread keeps wolfSSL's fixed-point ECC tables after it (see dispatch) */
    bool hot;
} route;

static const route routes[] = {
    {"GET", "/healthz", api_healthz, false},
    {"GET", "/readyz", api_readyz, false},
    {"GET", "/metrics", api_metrics, false},
    {"GET", "/v1/ca/roots", api_roots, false},
    {"GET", "/v1/ca/chain", api_chain, false},
    {"GET", "/v1/ca/bundle", api_bundle, false},
    {"GET", "/v1/issuers", api_issuers_list, false},
    {"POST", "/v1/issuers", api_issuers_new, false},
    {"PUT", "/v1/issuers/*/certificate", api_issuer_import, false},
    {"POST", "/v1/certificates", api_cert_issue, true},
    {"GET", "/v1/certificates", api_cert_list, false},
    {"GET", "/v1/certificates/*", api_cert_get, false},
    {"POST", "/v1/certificates/*/revoke", api_cert_revoke, false},
    {"GET", "/crl/*", api_crl_get, false},
    {"PUT", "/v1/ca/root-crl", api_root_crl_import, false},
    {"POST", "/v1/lint", api_lint, false},
    {"POST", "/v1/fleet/check", api_fleet_check, false},
    {"POST", "/v1/trust-profiles", api_trust_profile_add, false},
    {"GET", "/v1/trust-profiles", api_trust_profile_list, false},
    {"POST", "/ocsp", api_ocsp_post, true},
    {"GET", "/ocsp/**", api_ocsp_get, true},
};

#define MAX_PARAMS 4
#define MAX_SEG 128

/* Matches path against pattern, copying "*" segments into params. */
static bool match(const char *pattern, const char *path, char params[MAX_PARAMS][MAX_SEG], size_t *np) {
    *np = 0;
    while (*pattern && *path) {
        if (pattern[0] == '*' && pattern[1] == '*') {
            size_t n = strlen(path);
            if (n == 0 || n >= MAX_SEG * 4 || *np >= MAX_PARAMS) return false;
            snprintf(params[*np], MAX_SEG, "%s", ""); /* the rest is read by the handler from the path */
            (*np)++;
            return true;
        }
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= MAX_SEG || *np >= MAX_PARAMS) return false;
            memcpy(params[*np], path, n);
            params[(*np)++][n] = 0;
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == 0 && *path == 0;
}

void respond_text(response *out, unsigned status, const char *ct, const char *text, size_t n) {
    out->status = status;
    out->content_type = ct;
    iotca_buf_clear(&out->body);
    iotca_buf_append(&out->body, text, n);
}

void respond_json(response *out, unsigned status, json_t *doc) {
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (s == NULL) {
        respond_text(out, 500, "application/json", "{\"error\":\"internal\"}", 20);
        return;
    }
    respond_text(out, status, "application/json", s, strlen(s));
    free(s);
}

/* Replaces every byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF) with '?', in place: an error detail may echo client bytes or be cut mid-character by the buffer,
 * and JSON strings must be UTF-8 (found by fuzz_api: the detail was refused and the client got a bare 500). */
static void utf8_sanitize(char *str) {
    uint8_t *p = (uint8_t *)str;
    size_t n = strlen(str), i = 0;
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    while (i < n) {
        uint8_t b = p[i];
        size_t k = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : (b & 0xf8) == 0xf0 ? 3 : 9;
        bool ok = k != 9 && i + k < n + (k == 0);
        uint32_t cp = ok ? (k == 0 ? b : b & (0x3fu >> k)) : 0;
        for (size_t j = 1; ok && j <= k; j++) {
            ok = (p[i + j] & 0xc0) == 0x80;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        ok = ok && cp >= min[k] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        if (!ok) {
            p[i++] = '?';
            continue;
        }
        i += k + 1;
    }
}

void respond_error(response *out, unsigned status, const char *code, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    utf8_sanitize(detail);
    out->error = code;
    respond_json(out, status, json_pack("{s:s, s:s}", "error", code, "detail", detail));
}

bool respond_header(response *out, const char *name, const char *fmt, ...) {
    for (size_t i = 0; i < sizeof out->header_name / sizeof out->header_name[0]; i++) {
        if (out->header_name[i]) continue;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out->header_value[i], sizeof out->header_value[i], fmt, ap);
        va_end(ap);
        out->header_name[i] = name;
        return true;
    }
    return false;
}

void respond_rc(request *r, response *out, iotca_rc rc) {
    const char *d = iotca_error_detail();
    switch (rc) {
    case IOTCA_E_USAGE: respond_error(out, 400, "bad_request", "%s", d); break;
    case IOTCA_E_PARSE: respond_error(out, 400, "malformed", "%s", d); break;
    case IOTCA_E_CRYPTO: respond_error(out, 400, "bad_signature", "%s", d); break;
    case IOTCA_E_POLICY: respond_error(out, 422, "policy", "%s", d); break;
    default:
        /* internals stay in the log (SPEC §6) */
        log_event("error", "internal failure",
                  json_pack("{s:s, s:s, s:s}", "request_id", r->id, "category", iotca_rc_name(rc), "detail", d));
        respond_error(out, rc == IOTCA_E_STORAGE ? 503 : 500, rc == IOTCA_E_STORAGE ? "unavailable" : "internal",
                      "the request could not be completed; quote request id %s to the operator", r->id);
    }
}

const char *query(request *r, const char *name) {
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *body_json(request *r, response *out) {
    json_error_t e;
    json_t *j = json_loadb((const char *)r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(j)) {
        json_decref(j);
        respond_error(out, 400, "malformed_json", "request body must be a JSON object%s%s", j ? "" : ": ",
                      j ? "" : e.text);
        return NULL;
    }
    return j;
}

bool require_role(request *r, response *out, iotca_role need) {
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0) {
        respond_error(out, 401, "unauthorized", "an Authorization: Bearer token is required");
        return false;
    }
    iotca_rc rc = iotca_ca_token_check(r->srv->ca, h + 7, &r->role, r->scope);
    if (rc == IOTCA_E_STORAGE) {
        respond_rc(r, out, rc);
        return false;
    }
    if (rc != IOTCA_OK) {
        respond_error(out, 401, "unauthorized", "unknown or wrong token");
        return false;
    }
    snprintf(r->actor, sizeof r->actor, "token:%.16s", h + 7 + 6); /* the public id, never the secret */
    /* after authentication, so only real tokens get buckets; before the role check, so a token cannot
     * hammer endpoints it may not use either */
    unsigned retry;
    if (r->cfg->rate_per_s && !ratelimit_take(&r->srv->rl, r->actor, r->cfg->rate_per_s, r->cfg->rate_burst,
                                              iotca_mono_ms(), &retry)) {
        __atomic_add_fetch(&r->srv->m.rate_limited, 1, __ATOMIC_RELAXED);
        respond_error(out, 429, "rate_limited",
                      "this token is over its limit of %u requests a second (burst %u); retry in %u s",
                      r->cfg->rate_per_s, r->cfg->rate_burst, retry);
        respond_header(out, "Retry-After", "%u", retry);
        return false;
    }
    if (r->role < need) {
        respond_error(out, 403, "forbidden", "this token's role may not do that");
        return false;
    }
    return true;
}

void release_idle_memory(iotca_ca *ca) {
    iotca_ca_release_memory(ca);
    (void)malloc_trim(0); /* measured: 14.7 -> 10.5 MB resident for an idle P-384 daemon after one issuer */
}

/* GET and HEAD change nothing (RFC 9110 §9.2.1): no audit record, no idle-memory release after them. */
static bool read_only(const char *method) { return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0; }

/* Whether a route serves this method: HEAD is answered wherever GET is, with the same status and headers
 * and no body (RFC 9110 §9.3.2; libmicrohttpd leaves the body out of a HEAD answer). Monitoring probes and
 * caches check a CRL or bundle that way. */
static bool serves(const char *route_method, const char *method) {
    return strcmp(route_method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static _Thread_local bool tables_held_;    /* this thread ran a hot route since it last released memory */
static _Thread_local int64_t last_hot_ms_; /* when (CLOCK_MONOTONIC); see serve() */

static void hot_request_done(void) {
    tables_held_ = true;
    last_hot_ms_ = iotca_mono_ms();
}

static void dispatch(request *r, response *out) {
    char params[MAX_PARAMS][MAX_SEG];
    const char *pp[MAX_PARAMS];
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t np;
        if (!match(routes[i].pattern, r->path, params, &np)) continue;
        if (!serves(routes[i].method, r->method)) {
            /* what a 405 must list (RFC 9110 §15.5.6); GET routes also take HEAD */
            size_t used = strlen(allow);
            snprintf(allow + used, sizeof allow - used, "%s%s%s", used ? ", " : "", routes[i].method,
                     strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
            continue;
        }
        for (size_t k = 0; k < np; k++) pp[k] = params[k];
        routes[i].fn(r, pp, out);
        /* wolfSSL builds a table of 256 points (800 KiB with Debian's 4096-bit integers) for each base point
         * a thread multiplies twice, and keeps it until the thread frees it: worth it where every request
         * signs or verifies with the same keys (a hot route: freed once the thread is quiet, see serve()),
         * dead weight after an occasional admin call (measured with massif: 6.6 MB of an idle daemon's heap
         * after making one issuer). GETs other than OCSP do no ECC. */
        if (routes[i].hot) hot_request_done(); /* released once the thread is quiet (serve) */
        else if (!read_only(r->method)) release_idle_memory(r->srv->ca);
        return;
    }
    if (allow[0]) {
        respond_error(out, 405, "method_not_allowed", "%s is not allowed here; %s is", r->method, allow);
        respond_header(out, "Allow", "%s", allow);
    } else {
        respond_error(out, 404, "not_found", "no such endpoint");
    }
}

/* Every state-changing request, refused or not, goes into the hash-chained audit trail before it is
 * answered. Returns false if the record could not be written. */
static bool audit(request *r, unsigned status) {
    if (read_only(r->method) || strncmp(r->path, "/v1/", 4) != 0 || strcmp(r->path, "/v1/lint") == 0 ||
        strcmp(r->path, "/v1/fleet/check") == 0)
        return true;
    /* a request refused by the rate limit changed nothing and reached no handler; recording each one would
     * let a flooding token turn the limiter into a stream of audit writes (it is logged and counted) */
    if (status == 429) return true;
    if (r->audited) return true; /* written with the certificate (api_cert_issue) */
    char action[80], outcome[16];
    snprintf(action, sizeof action, "%s %.64s", r->method, r->path);
    snprintf(outcome, sizeof outcome, "%u", status);
    iotca_rc rc = iotca_ca_audit(r->srv->ca, r->actor[0] ? r->actor : "anonymous", action,
                                 r->audit_subject[0] ? r->audit_subject : r->path, r->id, outcome,
                                 r->error ? r->error : "");
    if (rc != IOTCA_OK)
        log_event("error", "audit append failed",
                  json_pack("{s:s, s:s}", "request_id", r->id, "detail", iotca_error_detail()));
    return rc == IOTCA_OK;
}

static void access_log(request *r, unsigned status, double secs) {
    static const char *const roles[] = {"none", "provisioner", "admin"};
    if (!log_enabled("info")) return;
    log_line l;
    log_line_begin(&l, "info", "request");
    log_line_str(&l, "request_id", r->id);
    log_line_str(&l, "method", r->method);
    log_line_str(&l, "path", r->path);
    log_line_int(&l, "status", (long long)status);
    log_line_num(&l, "seconds", secs);
    log_line_int(&l, "bytes_in", (long long)r->body.len);
    log_line_str(&l, "role", roles[r->role]);
    log_line_str(&l, "error", r->error);
    log_line_emit(&l);
}

/* The audit record of an answered request (fail closed: an action that cannot be audited is not confirmed;
 * what was recorded stays recorded). */
static void conclude(request *r, response *out) {
    r->error = out->error;
    if (!audit(r, out->status) && out->status < 300) {
        respond_error(out, 503, "unavailable", "the audit trail cannot be written; quote request id %s", r->id);
        r->error = out->error;
    }
}

/* Runs a whole request into out: the size verdict, the route, and the audit record. */
static void handle(request *r, response *out) {
    if (r->too_large) {
        iotca_buf_free(&r->body);
        respond_error(out, 413, "too_large", "request body over %zu bytes", r->cfg->max_body);
    } else {
        dispatch(r, out);
    }
    conclude(r, out);
}

/* A response never sent (its connection went away while the pool ran the request). */
static void response_free(response *out) {
    if (out->use_fd) close(out->fd);
    out->use_fd = false;
    iotca_buf_free(&out->body);
}

/* Sends out (consumed) on conn, counts it and logs it. */
static enum MHD_Result respond(request *r, struct MHD_Connection *conn, response *out_) {
    server *s = r->srv;
    response out = *out_;
    memset(out_, 0, sizeof *out_);
    struct MHD_Response *resp = NULL;
    if (out.use_fd && out.status == 200) {
        resp = MHD_create_response_from_fd64(out.fd_len, out.fd); /* closes fd when done */
        if (resp == NULL) {
            close(out.fd);
            respond_error(&out, 500, "internal", "cannot send a file; quote request id %s", r->id);
            r->error = out.error;
        }
    } else if (out.use_fd) {
        close(out.fd);
    }
    if (resp == NULL)
        resp = MHD_create_response_from_buffer(out.body.len, out.body.data ? out.body.data : (void *)"",
                                               MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out.content_type ? out.content_type : "text/plain");
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    if (out.max_age > 0) {
        char cc[128];
        snprintf(cc, sizeof cc, "max-age=%ld, public, no-transform, must-revalidate", out.max_age);
        MHD_add_response_header(resp, "Cache-Control", cc);
    } else {
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    }
    if (out.etag[0]) MHD_add_response_header(resp, "ETag", out.etag);
    if (out.last_modified) {
        char lm[64];
        struct tm tm;
        gmtime_r(&out.last_modified, &tm);
        strftime(lm, sizeof lm, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        MHD_add_response_header(resp, "Last-Modified", lm);
    }
    if (out.expires) {
        char ex[64];
        struct tm tm;
        gmtime_r(&out.expires, &tm);
        strftime(ex, sizeof ex, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        MHD_add_response_header(resp, "Expires", ex);
    }
    for (size_t i = 0; i < sizeof out.header_name / sizeof out.header_name[0]; i++)
        if (out.header_name[i]) MHD_add_response_header(resp, out.header_name[i], out.header_value[i]);
    enum MHD_Result ret = MHD_queue_response(conn, out.status ? out.status : 500, resp);
    MHD_destroy_response(resp);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double secs = (double)(end.tv_sec - r->start.tv_sec) + (double)(end.tv_nsec - r->start.tv_nsec) / 1e9;
    metrics_observe(&s->m, out.status, secs);
    access_log(r, out.status, secs);
    iotca_buf_free(&out.body);
    return ret;
}

/* What runs on the pool (pool_main) rather than on a serving thread: a request that changes state waits for
 * the disk (every change writes an audit record), so the serving threads would sit idle behind it. Reads,
 * OCSP and CRLs are answered on the spot; issuances wait for the disk without a thread (issue_here). */
static bool waits_for_disk(const char *method, const char *path) {
    return (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) && strncmp(path, "/v1/", 4) == 0;
}

static bool pool_submit(server *s, request *r);
static bool pool_enqueue(server *s, request *r, bool suspend);

/* Resumes r's connection from any thread and wakes its serving thread, which runs it on (on_request) in its
 * next turn. The last touch: from here on r belongs to the serving thread. */
static void resume(request *r) {
    struct serving *w = r->serving;
    MHD_resume_connection(r->conn);
    uint64_t one = 1;
    (void)!write(w->wake_fd, &one, sizeof one);
}

/* r->out is ready to be sent (any thread): its serving thread sends it on its next turn. */
static void answer_ready(request *r) {
    r->answered = true;
    resume(r);
}

/* r->out holds a refusal whose audit record is still to be written: the pool writes it (it waits for the
 * disk) and the serving thread then sends the answer; with the pool closing, this thread writes it. The
 * connection is suspended and counted in pool.unsent. */
static void conclude_later(request *r) {
    r->concluding = true;
    if (pool_enqueue(r->srv, r, false)) return;
    r->concluding = false;
    conclude(r, &r->out);
    answer_ready(r);
}

/* The issuance's record is committed (or failed): called once, from the group commit's thread (or from the
 * serving thread itself, within api_cert_issue_begin, if it already was). */
static void issuance_done(void *arg) {
    request *r = arg;
    server *s = r->srv;
    resume(r); /* on_request ends the issuance (r->issuance) */
    __atomic_sub_fetch(&s->pool.issuing, 1, __ATOMIC_SEQ_CST); /* the last touch of s: http_stop may go on */
}

/* POST /v1/certificates, with no thread waiting for it. The serving thread checks the token, the body and
 * the profile and reads the issuer, then hands the issuance to a crypto thread (CSR check, policy, signing,
 * the record queued) and serves its other connections meanwhile; once the record is durable the group
 * commit's notification resumes the connection and the serving thread sends the answer. A pool thread that
 * ran the issuance and waited, as before, cost 10 context switches an issuance (2.3-3.5 now, measured from
 * /proc/PID/task/TID/status) and 555-604 us of CPU against 453-508 (8 clients, one CSR, P-256, six
 * alternating 4 s runs each on 2 cores); requests/s rose from 2,596-3,011 to 2,743-3,260. A refusal still
 * goes to the pool, for its audit record. False: the server is stopping; the caller runs it whole. */
static bool issue_here(request *r) {
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
    bool pending = api_cert_issue_begin(r, &r->out, issuance_done);
    hot_request_done(); /* its page cache is given back once the thread is quiet (serve), not after each one */
    if (!pending) {
        __atomic_sub_fetch(&s->pool.issuing, 1, __ATOMIC_SEQ_CST); /* refused at once: never told */
        conclude_later(r);
    }
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
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
    if (r->issuance) { /* resumed: the issuance's record is committed, or failed */
        if (!api_cert_issue_end(r, &r->out)) { /* a refusal, to be audited */
            MHD_suspend_connection(conn);
            conclude_later(r);
            return MHD_YES;
        }
        r->answered = true;
    }
    if (r->answered) { /* resumed: the pool has run it, or its issuance is recorded */
        r->answered = false;
        enum MHD_Result ret = respond(r, conn, &r->out);
        __atomic_sub_fetch(&s->pool.unsent, 1, __ATOMIC_RELEASE);
        return ret;
    }
    deadlines_received(conn); /* the request is in: its deadline no longer runs */
    if (!r->too_large && strcmp(r->method, "POST") == 0 && strcmp(r->path, "/v1/certificates") == 0 && issue_here(r))
        return MHD_YES;
    if (!r->too_large && waits_for_disk(r->method, r->path) && pool_submit(s, r)) return MHD_YES;
    response out = {0};
    handle(r, &out);
    return respond(r, conn, &out);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t) {
    server *s = cls;
    (void)t;
    deadlines_rearm(&s->dl, conn); /* a kept-alive connection has the timeout to send its next request */
    request *r = *con_cls;
    if (r) {
        if (r->issuance) { /* the client left while its issuance was recorded: settled all the same */
            response out = {0};
            if (!api_cert_issue_end(r, &out)) conclude(r, &out); /* its refusal is audited */
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

/* Serving threads. Each runs its own libmicrohttpd daemon (external polling, epoll) on the one listening
 * socket, rather than libmicrohttpd's internal thread pool, for one reason: a thread that has gone quiet must
 * give back wolfSSL's fixed-point ECC tables, and only the thread that built them can. wolfSSL (FP_ECC in
 * Debian's build) keeps, per thread, up to 15 public keys with 256 precomputed points each, about 800 KiB a
 * key with Debian's 4096-bit integers; a fleet's distinct CSRs fill all 15 (measured: 9.9 MB before and 45 MB
 * after a burst of issuances with 1,000 distinct CSRs at the shipped 4 threads, and 39 MB a minute later).
 * Issuances do that work on the CA's crypto threads (lib/ca/crypto_pool.c), which give their tables back the
 * same way; OCSP answers are still signed here. After IDLE_RELEASE_MS without a hot request, the thread frees
 * its tables, the SQLite page caches it can (its own handle's, the group writer's) and glibc's free memory. */
#define WAKE_MS 250          /* how often an idle thread looks at the clock and the stop flag */
#define IDLE_RELEASE_MS 1000 /* quiet time before a thread gives back its tables */

/* True once, when this thread has held tables from a hot request and been quiet for IDLE_RELEASE_MS since:
 * the caller then gives them back (release_idle_memory). Serving and pool threads both ask it. */
static bool quiet_with_tables(void) {
    if (!tables_held_ || iotca_mono_ms() - last_hot_ms_ < IDLE_RELEASE_MS) return false;
    tables_held_ = false;
    return true;
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
        log_flush();
        if (quiet_with_tables()) release_idle_memory(w->s->ca);
    }
    log_release();
    return NULL; /* the thread's crypto state and store handle go with it (thread-exit destructors) */
}

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
    request *job;                  /* handed over by pool_submit */
    bool idle;                     /* on the idle stack */
    struct pool_thread *next_idle;
};

/* The most recently busy idle thread gets the request: a few threads serve a light load and keep their
 * tables and stack warm, and the rest stay untouched (80 issuances from 4 clients, each handed to the next
 * thread in turn, touched all 16 threads' stacks and tables: 14 MB resident once quiet instead of 10). */
static bool pool_submit(server *s, request *r) { return pool_enqueue(s, r, true); }

/* suspend: the connection is suspended and counted here (else the caller did both) */
static bool pool_enqueue(server *s, request *r, bool suspend) {
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
        answer_ready(r);
        pthread_mutex_lock(&s->pool.mu);
    }
    pthread_mutex_unlock(&s->pool.mu);
    return NULL; /* the thread's crypto state and store handle go with it (thread-exit destructors) */
}

static iotca_rc pool_start(server *s, unsigned n) {
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
static void pool_stop(server *s) {
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
        IOTCA_GUARD(iotca_file_read(c->tls_key, 1 << 20, &s->tls_key));
        IOTCA_GUARD(iotca_buf_cstr(&s->tls_cert));
        IOTCA_GUARD(iotca_buf_cstr(&s->tls_key));
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
}
