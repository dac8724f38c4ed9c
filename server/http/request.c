/* What a handler reads of a request (query arguments, headers, the JSON body), and the checks every request
 * passes before its route runs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>

#include "engine.h"

void request_client(request *r, char out[64]) {
    snprintf(out, 64, "-");
    const union MHD_ConnectionInfo *ci = r->conn ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, 64);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, 64);
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

const char *header(request *r, const char *name) {
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(r->conn, MHD_HEADER_KIND, name, strlen(name), &v, &n) != MHD_YES || v == NULL)
        return NULL;
    /* length-aware: a value with a NUL inside is not the string it would read as (request_acceptable refused
     * such a request already; this holds for any caller all the same) */
    return strlen(v) == n ? v : NULL;
}

/* What request_acceptable finds among the headers. */
typedef struct head_scan {
    char bad[64];              /* what is wrong with the first bad header, for the answer */
    unsigned hosts, lengths;   /* Host and Content-Length headers */
    bool lengths_differ;
    const char *length;
    size_t length_n;
    const char *line_end;      /* where the previous line of the head ended (its CR, made a NUL), or NULL */
} head_scan;

/* A control byte (RFC 9110 §5.5: a field value is visible characters, spaces and tabs; NUL, CR and LF never):
 * the bytes C strings and log lines would read otherwise than they are. */
static bool has_ctl(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
    }
    return false;
}

/* Whether a head line starts right after the line that ended at end, as CRLF-separated lines do in
 * libmicrohttpd 0.9.75's read buffer. A NUL byte inside a header value is invisible through its API: it keeps
 * the head in one buffer, turns each line's CR and LF into NULs and records names and values as C strings
 * (connection.c: get_next_header_line, then strlen), so "Bearer <token>\0junk" reads as "Bearer <token>".
 * The bytes themselves tell: after a value's terminating NUL (its CR) comes one more NUL (its LF) and then
 * the next line, whose name is the next header's. A NUL inside the line leaves its rest between the two; a
 * bare LF (which RFC 9112 §2.2 lets a recipient refuse) leaves one NUL. Either way the request is refused. */
static bool follows(const char *end, const char *next) {
    return end != NULL && end[0] == 0 && end[1] == 0 && end + 2 == next;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_n, const char *value,
                                   size_t value_n) {
    (void)kind;
    head_scan *h = cls;
    int kn = (int)(key_n < 40 ? key_n : 40);
    if (!h->bad[0] && has_ctl(key, key_n)) snprintf(h->bad, sizeof h->bad, "a header name holds a control byte");
    else if (!h->bad[0] && value && has_ctl(value, value_n))
        snprintf(h->bad, sizeof h->bad, "header %.*s holds a control byte", kn, key);
    else if (!h->bad[0] && !follows(h->line_end, key))
        snprintf(h->bad, sizeof h->bad, "header %.*s holds a NUL byte or a line not ended by CRLF", kn, key);
    h->line_end = value ? value + value_n : NULL;
    if (key_n == 4 && strncasecmp(key, "Host", 4) == 0) h->hosts++;
    if (key_n == 14 && strncasecmp(key, "Content-Length", 14) == 0) {
        if (h->lengths++ && (value_n != h->length_n || memcmp(value, h->length, value_n) != 0)) h->lengths_differ = true;
        h->length = value;
        h->length_n = value_n;
    }
    return MHD_YES;
}

bool request_acceptable(request *r, response *out) {
    head_scan h = {0};
    /* the request line ends where its version does; the first header follows it */
    h.line_end = r->version ? r->version + strlen(r->version) : NULL;
    (void)MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, scan_header, &h);
    /* the head ends with an empty line: two more NULs after the last line's */
    if (!h.bad[0] && h.line_end && !(h.line_end[0] == 0 && h.line_end[1] == 0 && h.line_end[2] == 0 && h.line_end[3] == 0))
        snprintf(h.bad, sizeof h.bad, "the last header holds a NUL byte or a line not ended by CRLF");
    if (h.bad[0]) {
        route_refuse(r, out, 400, "bad_header", "%s", h.bad);
    } else if (h.lengths_differ) {
        /* RFC 9112 §6.3: differing Content-Length values leave the message's end unknown (request smuggling);
         * the connection is closed after the answer */
        route_refuse(r, out, 400, "bad_request", "two Content-Length headers with different values");
        respond_header(out, "Connection", "close");
    } else if (h.hosts > 1 || (h.hosts == 0 && r->version && strcmp(r->version, MHD_HTTP_VERSION_1_1) == 0)) {
        /* RFC 9112 §3.2: an HTTP/1.1 request without Host, or with more than one, gets 400 */
        route_refuse(r, out, 400, "bad_request", "an HTTP/1.1 request needs exactly one Host header");
    } else {
        return true;
    }
    return false;
}

static gnutls_session_t tls_session(request *r) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    return ci ? (gnutls_session_t)ci->tls_session : NULL;
}

bool request_client_cert(request *r, iotca_slice *der) {
    gnutls_session_t session = tls_session(r);
    unsigned n = 0;
    const gnutls_datum_t *peers = session ? gnutls_certificate_get_peers(session, &n) : NULL;
    if (peers == NULL || n == 0 || peers[0].size == 0) return false;
    *der = iotca_slice_of(peers[0].data, peers[0].size); /* the client's own, first (RFC 8446 §4.4.2) */
    return true;
}

bool request_channel_binding(request *r, uint8_t out[REQUEST_CB_MAX], size_t *len, const char **kind) {
    gnutls_session_t session = tls_session(r);
    if (session == NULL) return false;
    /* tls-unique is not defined for TLS 1.3; RFC 9266 makes tls-exporter its channel binding */
    bool v13 = gnutls_protocol_get_version(session) == GNUTLS_TLS1_3;
    gnutls_datum_t cb = {0};
    if (gnutls_session_channel_binding(session, v13 ? GNUTLS_CB_TLS_EXPORTER : GNUTLS_CB_TLS_UNIQUE, &cb) < 0)
        return false;
    bool ok = cb.size > 0 && cb.size <= REQUEST_CB_MAX;
    if (ok) {
        memcpy(out, cb.data, cb.size);
        *len = cb.size;
        *kind = v13 ? "tls-exporter" : "tls-unique";
    }
    gnutls_free(cb.data);
    return ok;
}
