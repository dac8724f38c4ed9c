/* The request audit trail: every request to a route that changes state, refused or not, is recorded before it
 * is answered. */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "log.h"

/* Every request to an audited route (its table entry says so) but GET and HEAD, refused or not (a 405 of
 * its path too: an attempted change), goes into the hash-chained audit trail before it is answered.
 * Returns false if the record could not be written. */
static bool audit(request *r, unsigned status) {
    if (r->route == NULL || !r->route->audited || read_only(r->method)) return true;
    /* a request refused by the rate limit changed nothing and reached no handler; recording each one would
     * let a flooding token turn the limiter into a stream of audit writes (it is logged and counted) */
    if (status == 429) return true;
    if (r->audited) return true; /* written with the work (an issuance's, with its certificate) */
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

/* The audit record of an answered request (fail closed: an action that cannot be audited is not confirmed;
 * what was recorded stays recorded). */
void conclude(request *r, response *out) {
    r->error = out->error;
    if (!audit(r, out->status) && out->status < 300) {
        respond_error(out, 503, "unavailable", "the audit trail cannot be written; quote request id %s", r->id);
        r->error = out->error;
    }
}
