/* Fleet-safety endpoints: trust-store lint against the chains this CA serves now and will serve next. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "v1.h"
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

/* A date "2040-01-01" (optionally "T00:00:00Z") as a time; false if malformed. */
static bool parse_day(const char *s, time_t *out) {
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
    if (end == NULL || (*end && strcmp(end, "T00:00:00Z") != 0)) return false;
    *out = timegm(&tm);
    return true;
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
    if ((until_s || until_required) && !parse_day(until_s, until)) {
        respond_error(out, 400, "bad_request", "until must be a date like 2040-01-01");
        return false;
    }
    if (!pem_certs(pem, store, MAX_STORE, ns)) {
        respond_error(out, 400, "bad_request", "trust_store holds more than %d certificates", MAX_STORE);
        return false;
    }
    return true;
}

/* The lint report's findings as JSON objects {severity, code, subject, message}: all of them, or only one
 * severity (IOTCA_LINT_ERROR or IOTCA_LINT_WARNING) when only_one is true. */
static json_t *findings_json(const iotca_lint_report *rep, bool only_one, iotca_severity severity) {
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
    json_t *arr = findings_json(rep, false, IOTCA_LINT_ERROR);
    respond_json(out, 200, json_pack("{s:s, s:I, s:I, s:I, s:o}", "stack", iotca_stack_name(stack), "served_cas",
                                     (json_int_t)nv, "errors", (json_int_t)rep->errors, "warnings",
                                     (json_int_t)rep->warnings, "findings", arr));
done:
    for (size_t i = 0; i < ns; i++) iotca_buf_free(&store[i]);
    for (size_t i = 0; i < nv; i++) iotca_buf_free(&served[i]);
    free(rep);
    json_decref(j);
}

/* POST /v1/fleet/check {trust_store, until, stack}: the daemon's own schedule (the active issuer of each
 * group, then every staged one from its activation time) verified against the store at each change. */
void api_fleet_check(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    const char *pem = NULL, *stack_s = "openssl", *until_s = NULL;
    json_error_t e;
    iotca_buf store[MAX_STORE] = {{0}}, served[MAX_SERVED] = {{0}};
    iotca_slice ss[MAX_STORE], vs[MAX_SERVED];
    iotca_served sched[MAX_SERVED];
    size_t ns = 0, nv = 0;
    iotca_check_report *rep = NULL;
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s:s, s?s}", "trust_store", &pem, "until", &until_s, "stack",
                       &stack_s) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: trust_store, until, stack)", e.text);
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
    rc = rep ? iotca_fleet_check(ss, ns, sched, nv, stack, now, until, rep) : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    if (rc != IOTCA_OK) { /* a store or chain that does not parse: 400 malformed, as everywhere */
        respond_rc(r, out, rc);
        goto done;
    }
    json_t *pts = json_array();
    for (size_t i = 0; i < rep->n; i++)
        json_array_append_new(pts, json_pack("{s:o, s:b, s:s}", "at", iotca_json_time(rep->points[i].at), "ok", rep->points[i].ok,
                                             "reason", rep->points[i].reason));
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

/* POST /v1/trust-profiles {name, pem, until, stack}: a device trust store in the field (admin). */
#define MAX_ACK 8

/* A lint report's findings as JSON, with severity, code, subject and message. */
/* POST /v1/trust-profiles (admin): {name, pem, until, stack, acknowledge?}. The store is linted first (lib/ca):
 * an error finding refuses it (422 trust_store_lint, naming each finding, with them in "findings") unless its
 * code is in "acknowledge" (an array of lint codes, e.g. ["store.not_root"]); what was acknowledged is in the
 * request's audit record. Warnings come back in the 201 answer. */
void api_trust_profile_add(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    iotca_lint_report *rep = NULL;
    const char *until_s = NULL, *ack[MAX_ACK];
    json_t *ack_j = NULL;
    iotca_trust_profile_req req = {.acknowledge = ack};
    json_error_t e;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s:s, s:s, s:s, s?o}", "name", &req.name, "pem", &req.pem, "until",
                       &until_s, "stack", &req.stack, "acknowledge", &ack_j) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: name, pem, until, stack, acknowledge)", e.text);
        goto done;
    }
    if (ack_j && (!json_is_array(ack_j) || json_array_size(ack_j) > MAX_ACK)) {
        respond_error(out, 400, "bad_request", "acknowledge must be an array of at most %d lint codes", MAX_ACK);
        goto done;
    }
    for (size_t i = 0; ack_j && i < json_array_size(ack_j); i++) {
        if (!json_is_string(json_array_get(ack_j, i))) {
            respond_error(out, 400, "bad_request", "acknowledge[%zu] is not a lint code (a string)", i);
            goto done;
        }
        ack[req.n_acknowledge++] = json_string_value(json_array_get(ack_j, i));
    }
    rep = calloc(1, sizeof *rep);
    bool refused = false;
    int64_t id = 0;
    iotca_rc rc = rep == NULL             ? iotca_error_set(IOTCA_E_INTERNAL, "out of memory")
                  : !parse_day(until_s, &req.until) ? iotca_error_set(IOTCA_E_USAGE, "until must be a date like 2040-01-01")
                                                    : iotca_ca_trust_profile_add(r->srv->ca, &req, rep, &refused, &id);
    if (rc == IOTCA_OK) {
        if (req.n_acknowledge) { /* the acknowledgement goes into this request's audit record */
            char codes[64] = "";
            for (size_t i = 0; i < req.n_acknowledge; i++) /* known codes only (lib/ca checked): short */
                snprintf(codes + strlen(codes), sizeof codes - strlen(codes), "%s%.20s", i ? "," : "", ack[i]);
            snprintf(r->audit_subject, sizeof r->audit_subject, "trust profile %.20s ack %.56s", req.name, codes);
        }
        respond_json(out, 201, json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)id, "name", req.name, "stack",
                                         req.stack, "until", until_s, "acknowledged", ack_j ? json_incref(ack_j) : json_array(),
                                         "warnings", findings_json(rep, true, IOTCA_LINT_WARNING)));
    } else if (rc == IOTCA_E_POLICY && refused) {
        /* SPEC §6's error, with the findings for a script to read */
        out->error = "trust_store_lint";
        respond_json(out, 422, json_pack("{s:s, s:s, s:o}", "error", "trust_store_lint", "detail", iotca_error_detail(),
                                         "findings", findings_json(rep, true, IOTCA_LINT_ERROR)));
    } else if (rc == IOTCA_E_POLICY) {
        respond_error(out, 409, "exists", "%s", iotca_error_detail());
    } else {
        respond_rc(r, out, rc);
    }
done:
    free(rep);
    json_decref(j);
}

/* GET /v1/trust-profiles (admin). */
void api_trust_profile_list(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    iotca_trust_profile_rec *list = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_ca_trust_profiles(r->srv->ca, &list, &n);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)list[i].id, "name",
                                             list[i].name, "stack", list[i].stack, "until", iotca_json_time(list[i].until)));
        iotca_trust_profile_rec_free(&list[i]);
    }
    free(list);
    respond_json(out, 200, json_pack("{s:o}", "trust_profiles", arr));
}
