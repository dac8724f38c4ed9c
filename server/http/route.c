/* Routing: matching a request against the route table (server/routes.c), running its handler, and what a
 * thread keeps or gives back after it (wolfSSL's point tables, page caches). */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "iotca/clock.h"

/* Matches path against pattern, copying "*" segments into params. */
static bool match(const char *pattern, const char *path, char params[ROUTE_MAX_PARAMS][ROUTE_MAX_SEG], size_t *np) {
    *np = 0;
    while (*pattern && *path) {
        if (pattern[0] == '*' && pattern[1] == '*') {
            size_t n = strlen(path);
            if (n == 0 || n >= ROUTE_MAX_SEG * 4 || *np >= ROUTE_MAX_PARAMS) return false;
            snprintf(params[*np], ROUTE_MAX_SEG, "%s", ""); /* the rest is read by the handler from the path */
            (*np)++;
            return true;
        }
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= ROUTE_MAX_SEG || *np >= ROUTE_MAX_PARAMS) return false;
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

bool read_only(const char *method) { return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0; }

/* Whether a route serves this method: HEAD is answered wherever GET is, with the same status and headers
 * and no body (RFC 9110 §9.3.2; libmicrohttpd leaves the body out of a HEAD answer). Monitoring probes and
 * caches check a CRL or bundle that way. */
static bool serves(const char *route_method, const char *method) {
    return strcmp(route_method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

void route_find(request *r) {
    r->route = NULL;
    r->method_ok = false;
    r->allow[0] = 0;
    for (size_t i = 0; i < iotcad_n_routes; i++) {
        const route *rt = &iotcad_routes[i];
        size_t np;
        char params[ROUTE_MAX_PARAMS][ROUTE_MAX_SEG];
        if (!match(rt->pattern, r->path, params, &np)) continue;
        if (serves(rt->method, r->method)) {
            r->route = rt;
            r->method_ok = true;
            memcpy(r->params, params, sizeof params);
            r->n_params = np;
            return;
        }
        if (r->route == NULL) r->route = rt;
        /* what a 405 must list (RFC 9110 §15.5.6); GET routes also take HEAD */
        size_t used = strlen(r->allow);
        snprintf(r->allow + used, sizeof r->allow - used, "%s%s%s", used ? ", " : "", rt->method,
                 strcmp(rt->method, "GET") == 0 ? ", HEAD" : "");
    }
}

static _Thread_local bool tables_held_;    /* this thread ran a hot route since it last released memory */
static _Thread_local int64_t last_hot_ms_; /* when (CLOCK_MONOTONIC); see quiet_with_tables */

void hot_request_done(void) {
    tables_held_ = true;
    last_hot_ms_ = iotca_mono_ms();
}

/* Serving and pool threads give back wolfSSL's fixed-point ECC tables once quiet, and only the thread that
 * built them can. wolfSSL (FP_ECC in Debian's build) keeps, per thread, up to 15 public keys with 256
 * precomputed points each, about 800 KiB a key with Debian's 4096-bit integers; a fleet's distinct CSRs fill
 * all 15 (measured: 9.9 MB before and 45 MB after a burst of issuances with 1,000 distinct CSRs at the shipped
 * 4 threads, and 39 MB a minute later). Issuances do that work on the CA's crypto threads
 * (lib/ca/crypto_pool.c), which give their tables back the same way; OCSP answers are still signed on the
 * serving threads. After IDLE_RELEASE_MS without a hot request, the thread frees its tables, the SQLite page
 * caches it can (its own handle's, the group writer's) and glibc's free memory. */
#define IDLE_RELEASE_MS 1000

bool quiet_with_tables(void) {
    if (!tables_held_ || iotca_mono_ms() - last_hot_ms_ < IDLE_RELEASE_MS) return false;
    tables_held_ = false;
    return true;
}

void release_idle_memory(iotca_ca *ca) {
    iotca_ca_release_memory(ca);
    (void)malloc_trim(0); /* measured: 14.7 -> 10.5 MB resident for an idle P-384 daemon after one issuer */
}

void route_refuse(request *r, response *out, unsigned status, const char *code, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (r->route && r->route->refuse) r->route->refuse(r, out, status, code, detail);
    else respond_error(out, status, code, "%s", detail);
}

/* The route's handler, or the 404 / 405 when no route serves the request. */
static void dispatch(request *r, response *out) {
    if (r->route == NULL) {
        respond_error(out, 404, "not_found", "no such endpoint");
        return;
    }
    if (!r->method_ok) {
        route_refuse(r, out, 405, "method_not_allowed", "%s is not allowed here; %s is", r->method, r->allow);
        respond_header(out, "Allow", "%s", r->allow);
        return;
    }
    const char *pp[ROUTE_MAX_PARAMS];
    for (size_t k = 0; k < r->n_params; k++) pp[k] = r->params[k];
    r->route->fn(r, pp, out);
    /* wolfSSL builds a table of 256 points (800 KiB with Debian's 4096-bit integers) for each base point
     * a thread multiplies twice, and keeps it until the thread frees it: worth it where every request
     * signs or verifies with the same keys (a hot route: freed once the thread is quiet), dead weight after
     * an occasional admin call (measured with massif: 6.6 MB of an idle daemon's heap after making one
     * issuer). GETs other than OCSP do no ECC. */
    if (r->route->hot) hot_request_done();
    else if (!read_only(r->method)) release_idle_memory(r->srv->ca);
}

void handle(request *r, response *out) {
    if (r->too_large) {
        iotca_buf_free(&r->body);
        route_refuse(r, out, 413, "too_large", "request body over %zu bytes", r->cfg->max_body);
    } else if (request_acceptable(r, out)) {
        dispatch(r, out);
    }
    conclude(r, out);
}
