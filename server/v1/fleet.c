/* Fleet-safety endpoints: trust-store lint against the chains this CA serves now and will serve next. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "v1.h"
#include "iotca/ca_est.h"
#include "iotca/fleet.h"
#include "iotca/pem.h"
#include "iotca/json_views.h"

#define MAX_STORE 64
#define MAX_SERVED 16

/* Appends every CERTIFICATE block of text to der[], counting in *n. */
static bool pem_certs(const char *text, iotca_buf *der, size_t max, size_t *n) {
    iotca_slice in = iotca_slice_of(text, strlen(text));
    while (*n < max && iotca_pem_next(&in, "CERTIFICATE", &der[*n], NULL) == IOTCA_OK) (*n)++;
    iotca_buf extra = {0};
    bool more = *n == max && iotca_pem_next(&in, "CERTIFICATE", &extra, NULL) == IOTCA_OK;
    iotca_buf_free(&extra);
    return !more;
}

/* The parts every fleet endpoint takes: a stack name, an optional or required end date, a PEM trust store.
 * On a bad value fills out (400) and returns false. */
static bool fleet_inputs(response *out, const char *stack_s, const char *until_s, bool until_required, const char *pem,
                         iotca_stack *stack, time_t *until, iotca_buf *store, size_t *ns) {
    if (iotca_stack_parse(stack_s, stack) != IOTCA_OK) {
        respond_error(out, 400, "bad_request", "%s", iotca_error_detail());
        return false;
    }
    *until = 0;
    if ((until_s || until_required) && !v1_parse_day(until_s, until)) {
        respond_error(out, 400, "bad_request", "until must be a date like 2040-01-01");
        return false;
    }
    if (!pem_certs(pem, store, MAX_STORE, ns)) {
        respond_error(out, 400, "bad_request", "trust_store holds more than %d certificates", MAX_STORE);
        return false;
    }
    return true;
}

json_t *v1_findings_json(const iotca_lint_report *rep, bool only_one, iotca_severity severity) {
    json_t *arr = json_array();
    for (size_t i = 0; i < rep->n; i++) {
        const iotca_finding *f = &rep->findings[i];
        if (only_one && f->severity != severity) continue;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "severity",
                                             f->severity == IOTCA_LINT_ERROR ? "error" : "warning", "code", f->code,
                                             "subject", f->subject, "message", f->message));
    }
    return arr;
}

void api_lint(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    const char *pem = NULL, *stack_s = "openssl", *until_s = NULL;
    json_error_t e;
    iotca_buf store[MAX_STORE] = {{0}}, served[MAX_SERVED] = {{0}};
    size_t ns = 0, nv = 0;
    iotca_lint_report *rep = NULL;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s?s, s?s}", "trust_store", &pem, "stack", &stack_s, "until",
                       &until_s) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: trust_store, stack, until)", e.text);
        goto done;
    }
    iotca_stack stack;
    time_t until;
    if (!fleet_inputs(out, stack_s, until_s, false, pem, &stack, &until, store, &ns)) goto done;
    /* the chains served now and next: every active and staged issuer */
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_ca_issuers(r->srv->ca, &list, &n);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if ((list[i].state == IOTCA_ISSUER_ACTIVE || list[i].state == IOTCA_ISSUER_STAGED) && list[i].cert.len &&
            nv < MAX_SERVED)
            iotca_buf_append(&served[nv++], list[i].cert.data, list[i].cert.len);
        iotca_issuer_rec_free(&list[i]);
    }
    free(list);
    iotca_slice ss[MAX_STORE], vs[MAX_SERVED];
    for (size_t i = 0; i < ns; i++) ss[i] = iotca_buf_slice(&store[i]);
    for (size_t i = 0; i < nv; i++) vs[i] = iotca_buf_slice(&served[i]);
    rep = calloc(1, sizeof *rep);
    rc = rep ? iotca_lint_trust_store(ss, ns, vs, nv, stack, time(NULL), until, rep)
             : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    if (rc != IOTCA_OK) { /* a store or chain that does not parse: 400 malformed, as everywhere */
        respond_rc(r, out, rc);
        goto done;
    }
    json_t *arr = v1_findings_json(rep, false, IOTCA_LINT_ERROR);
    respond_json(out, 200, json_pack("{s:s, s:I, s:I, s:I, s:o}", "stack", iotca_stack_name(stack), "served_cas",
                                     (json_int_t)nv, "errors", (json_int_t)rep->errors, "warnings",
                                     (json_int_t)rep->warnings, "findings", arr));
done:
    for (size_t i = 0; i < ns; i++) iotca_buf_free(&store[i]);
    for (size_t i = 0; i < nv; i++) iotca_buf_free(&served[i]);
    free(rep);
    json_decref(j);
}

/* POST /v1/fleet/check {trust_store, until, stack, reenroll_every}: the daemon's own schedule (the active issuer
 * of each group, then every staged one from its activation time) verified against the store at each change; with
 * reenroll_every (a duration, 1d to 3650d), for devices that also refresh their store from EST's cacerts (the
 * roots and cross-certificates) each time they re-enroll, at that interval (SPEC §10). */
void api_fleet_check(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    const char *pem = NULL, *stack_s = "openssl", *until_s = NULL, *every_s = NULL;
    json_error_t e;
    iotca_buf store[MAX_STORE] = {{0}}, served[MAX_SERVED] = {{0}};
    iotca_slice ss[MAX_STORE], vs[MAX_SERVED], anchors[MAX_STORE];
    iotca_served sched[MAX_SERVED] = {{0}};
    size_t ns = 0, nv = 0;
    iotca_check_report *rep = NULL;
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s:s, s?s, s?s}", "trust_store", &pem, "until", &until_s, "stack",
                       &stack_s, "reenroll_every", &every_s) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: trust_store, until, stack, reenroll_every)", e.text);
        goto done;
    }
    iotca_refresh refresh = {0};
    if (every_s && (iotca_duration_parse(every_s, &refresh.every) != IOTCA_OK || refresh.every < 86400 ||
                    refresh.every > 3650L * 86400)) {
        respond_error(out, 400, "bad_request", "reenroll_every must be a duration from 1d to 3650d, like \"300d\"");
        goto done;
    }
    iotca_stack stack;
    time_t until, now = time(NULL);
    if (!fleet_inputs(out, stack_s, until_s, true, pem, &stack, &until, store, &ns)) goto done;
    if (until <= now) {
        respond_error(out, 400, "bad_request", "until must be in the future");
        goto done;
    }
    iotca_rc rc = iotca_ca_issuers(r->srv->ca, &list, &n);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        goto done;
    }
    /* active issuers serve from now, staged ones from their activation, in time order */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n && nv < MAX_SERVED; i++) {
            bool take = pass == 0 ? list[i].state == IOTCA_ISSUER_ACTIVE : list[i].state == IOTCA_ISSUER_STAGED;
            if (!take || list[i].cert.len == 0) continue;
            iotca_buf_append(&served[nv], list[i].cert.data, list[i].cert.len);
            vs[nv] = iotca_buf_slice(&served[nv]);
            sched[nv].from = pass == 0 ? now : (list[i].activate_at > now ? list[i].activate_at : now);
            sched[nv].certs = &vs[nv];
            sched[nv].n = 1;
            nv++;
        }
    for (size_t i = 1; i < nv; i++) /* insertion sort by start */
        for (size_t k = i; k > 0 && sched[k].from < sched[k - 1].from; k--) {
            iotca_served t = sched[k];
            sched[k] = sched[k - 1];
            sched[k - 1] = t;
        }
    if (nv == 0) {
        respond_error(out, 422, "policy", "no active or staged issuer: nothing is served");
        goto done;
    }
    for (size_t i = 0; i < ns; i++) ss[i] = iotca_buf_slice(&store[i]);
    rep = calloc(1, sizeof *rep);
    refresh.n = every_s ? iotca_ca_est_anchors(r->srv->ca, anchors, MAX_STORE - ns) : 0;
    refresh.cacerts = anchors;
    rc = rep ? iotca_fleet_check_refreshing(ss, ns, &refresh, sched, nv, stack, now, until, rep)
             : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    if (rc != IOTCA_OK) { /* a store or chain that does not parse: 400 malformed, as everywhere */
        respond_rc(r, out, rc);
        goto done;
    }
    json_t *pts = json_array();
    for (size_t i = 0; i < rep->n; i++)
        json_array_append_new(pts, json_pack("{s:o, s:b, s:s}", "at", iotca_json_time(rep->points[i].at), "ok",
                                             rep->points[i].ok, "reason", rep->points[i].reason));
    respond_json(out, 200, json_pack("{s:s, s:o, s:o}", "stack", iotca_stack_name(stack), "points", pts,
                                     "first_failure", iotca_json_time(rep->first_failure)));
done:
    for (size_t i = 0; i < n; i++) iotca_issuer_rec_free(&list[i]);
    free(list);
    for (size_t i = 0; i < ns; i++) iotca_buf_free(&store[i]);
    for (size_t i = 0; i < nv; i++) iotca_buf_free(&served[i]);
    free(rep);
    json_decref(j);
}
