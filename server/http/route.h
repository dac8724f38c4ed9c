/* The shape of the route table (server/routes.c holds the table itself): for each method and path, the
 * handler and how the engine runs it. The engine decides everything about a request from its route; no
 * path string is compared anywhere else. */
#ifndef IOTCAD_ROUTE_H
#define IOTCAD_ROUTE_H

#include "http.h"

typedef enum route_run {
    RUN_HERE,    /* on the serving thread, at once: reads, OCSP, CRLs (nothing waits for the disk) */
    RUN_POOL,    /* on a pool thread, its connection parked meanwhile: changes of state wait for the disk */
    RUN_STARTED, /* started on the serving thread (begin), finished when its work reports back (end), with no
                  * thread waiting in between: issuance (the record's group commit) */
} route_run;

typedef struct route {
    const char *method;
    const char *pattern; /* segments; "*" matches one segment, a final "**" the rest of the path */
    handler_fn fn;       /* the whole request on the calling thread (RUN_STARTED too: a stopping server, fuzzing) */
    route_run run;
    /* a hot path: the thread keeps wolfSSL's fixed-point ECC tables after it (see route.c's handle) */
    bool hot;
    /* a change of state: every request to it (but GET and HEAD), refused or not, goes into the audit trail */
    bool audited;
    /* RUN_STARTED: begin checks the request and starts its work: true when pending (done(r) is then called
     * once, from any thread, when the work reported back), false when out holds the refusal. end, on the
     * serving thread after done, fills out: true for success, whose audit record the work wrote itself. */
    bool (*begin)(request *r, response *out, void (*done)(void *arg));
    bool (*end)(request *r, response *out);
    /* how the route's protocol words the engine's own refusals of a request to it (too large a body, a bad
     * header, a method it does not take): ACME's problem documents (RFC 8555 §6.7); NULL: iotca's JSON error */
    void (*refuse)(request *r, response *out, unsigned status, const char *code, const char *detail);
} route;

extern const route iotcad_routes[];
extern const size_t iotcad_n_routes;

/* Matches r->path and r->method against the table: r->route is the route serving both, or (method_ok false)
 * the first whose path matches, for a 405 with r->allow; NULL when no path matches (404). Fills r->params. */
void route_find(request *r);

/* The engine's own refusal of r (before or instead of its handler): respond_error's {"error", "detail"}, or
 * what r->route's refuse makes of the same status, code and detail. */
void route_refuse(request *r, response *out, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
