/* Responses: the answer a handler fills (JSON, errors, text, headers), the mapping of error categories to HTTP
 * statuses (the one place it is made, SPEC §6), and sending an answer with its access-log line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "jsonw.h"
#include "log.h"

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
    for (unsigned char *p = (unsigned char *)str; *p;) {
        size_t k = jsonw_utf8_len(p);
        if (k == 0) *p++ = '?';
        else p += k;
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

/* The rule a profile refusal names ("profile P: rule R: why", lib/policy), for the request's log line. */
static void log_rule(request *r, const char *detail) {
    const char *p = strstr(detail, ": rule ");
    if (p == NULL) return;
    p += 7;
    size_t n = strcspn(p, ": ");
    if (n > 0 && n < sizeof r->log_rule) snprintf(r->log_rule, sizeof r->log_rule, "%.*s", (int)n, p);
}

void respond_rc(request *r, response *out, iotca_rc rc) {
    const char *d = iotca_error_detail();
    switch (rc) {
    case IOTCA_E_USAGE: respond_error(out, 400, "bad_request", "%s", d); break;
    case IOTCA_E_PARSE: respond_error(out, 400, "malformed", "%s", d); break;
    case IOTCA_E_CRYPTO: respond_error(out, 400, "bad_signature", "%s", d); break;
    case IOTCA_E_POLICY:
        log_rule(r, d);
        respond_error(out, 422, "policy", "%s", d);
        break;
    /* the CA is up but no issuer can sign: the client may retry later, the operator must act (the detail says
     * how); /readyz says the same */
    case IOTCA_E_UNAVAILABLE: respond_error(out, 503, "no_issuer", "%s", d); break;
    default:
        /* internals stay in the log (SPEC §6) */
        log_event("error", "internal failure",
                  json_pack("{s:s, s:s, s:s}", "request_id", r->id, "category", iotca_rc_name(rc), "detail", d));
        respond_error(out, rc == IOTCA_E_STORAGE ? 503 : 500, rc == IOTCA_E_STORAGE ? "unavailable" : "internal",
                      "the request could not be completed; quote request id %s to the operator", r->id);
    }
}

static void access_log(request *r, unsigned status, double secs) {
    static const char *const roles[] = {"none", "provisioner", "admin"};
    /* a failed authentication is a warning, so an operator who logs only warnings still sees who tried */
    const char *level = r->auth_failure[0] ? "warn" : "info";
    if (!log_enabled(level)) return;
    log_line l;
    log_line_begin(&l, level, "request");
    log_line_str(&l, "request_id", r->id);
    log_line_str(&l, "method", r->method);
    log_line_str(&l, "path", r->path);
    log_line_int(&l, "status", (long long)status);
    log_line_num(&l, "seconds", secs);
    log_line_int(&l, "bytes_in", (long long)r->body.len);
    log_line_str(&l, "role", roles[r->role]);
    log_line_str(&l, "error", r->error);
    char client[64];
    request_client(r, client);
    log_line_str(&l, "client", client);
    log_line_str(&l, "token", r->token_id[0] ? r->token_id : NULL); /* the public id, never the secret */
    log_line_str(&l, "profile", r->issue_profile[0] ? r->issue_profile : NULL);
    log_line_str(&l, "serial", r->log_serial[0] ? r->log_serial : NULL);
    log_line_str(&l, "rule", r->log_rule[0] ? r->log_rule : NULL);
    log_line_str(&l, "auth_failure", r->auth_failure[0] ? r->auth_failure : NULL);
    log_line_emit(&l);
}

/* a response never sent: its connection went away while the pool ran the request */
void response_free(response *out) {
    if (out->use_fd) close(out->fd);
    out->use_fd = false;
    iotca_buf_free(&out->body);
}

enum MHD_Result send_response(request *r, struct MHD_Connection *conn, response *out_) {
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
