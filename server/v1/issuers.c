/* Issuers (admin): the list with the next issuer and warnings, a new issuer's key and CSR, and the import of
 * its signed certificate under rotation preflight. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "v1.h"
#include "iotca/json_views.h"

/* The recorded preflight override of an issuer, or null: its justification, who and when, and every trust
 * profile it broke (the override row's lines: profile, date, reason). */
static json_t *override_json(iotca_ca *ca, int64_t id) {
    iotca_override_rec ov;
    bool found = false;
    if (iotca_ca_issuer_override(ca, id, &ov, &found) != IOTCA_OK || !found) return json_null();
    json_t *broken = json_array();
    for (char *line = ov.findings, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *date = strchr(line, '\t'), *reason = date ? strchr(date + 1, '\t') : NULL;
        if (reason == NULL) continue;
        *date++ = 0;
        *reason++ = 0;
        json_array_append_new(broken, json_pack("{s:s, s:s, s:s}", "profile", line, "breaks_on", date, "reason", reason));
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "justification", ov.justification, "by", ov.actor, "at",
                     iotca_json_time(ov.at), "broken_profiles", broken);
}

static json_t *issuer_json(const iotca_issuer_rec *i) {
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)i->id, "name", i->name, "group",
                     i->group, "state", iotca_issuer_state_name(i->state), "not_before", iotca_json_time(i->not_before),
                     "not_after", iotca_json_time(i->not_after), "activate_at", iotca_json_time(i->activate_at), "created_at",
                     iotca_json_time(i->created_at));
}

void api_issuers_list(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_ca_issuers(r->srv->ca, &list, &n);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    long ni = iotca_issuer_next(list, n);
    json_t *arr = json_array(), *next = ni < 0 ? json_null() : issuer_json(&list[ni]);
    for (size_t i = 0; i < n; i++) {
        json_t *one = issuer_json(&list[i]);
        json_object_set_new(one, "preflight_override", override_json(r->srv->ca, list[i].id));
        json_array_append_new(arr, one);
    }
    iotca_issuer_recs_free(list, n);
    json_t *warnings = json_array();
    iotca_warning w[IOTCA_MAX_WARNINGS];
    size_t nw = 0;
    if (iotca_ca_warnings(r->srv->ca, time(NULL), w, &nw) == IOTCA_OK)
        for (size_t i = 0; i < nw; i++)
            json_array_append_new(warnings, json_pack("{s:s, s:i, s:I, s:s, s:s}", "kind",
                                                      iotca_warning_kind_name(w[i].kind), "threshold_days",
                                                      w[i].threshold_days, "days_left", (json_int_t)w[i].days_left,
                                                      "subject", w[i].subject, "message", w[i].message));
    respond_json(out, 200, json_pack("{s:o, s:o, s:o}", "issuers", arr, "next", next, "warnings", warnings));
}

void api_issuers_new(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    const char *group = NULL, *cn = NULL;
    json_t *j = NULL;
    if (r->body.len) {
        if ((j = body_json(r, out)) == NULL) return;
        json_error_t e;
        if (json_unpack_ex(j, &e, JSON_STRICT, "{s?s, s?s}", "group", &group, "common_name", &cn) != 0) {
            respond_error(out, 400, "bad_request", "body: %s (fields: group, common_name)", e.text);
            json_decref(j);
            return;
        }
    }
    int64_t id;
    iotca_buf csr = {0};
    iotca_rc rc = iotca_ca_issuer_new(r->srv->ca, group, cn, &id, &csr);
    if (rc == IOTCA_OK)
        respond_json(out, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "state", "pending", "csr",
                                         (const char *)csr.data));
    else respond_rc(r, out, rc);
    iotca_buf_free(&csr);
    json_decref(j);
}

void api_issuer_import(request *r, const char *const *p, response *out) {
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    char *end;
    long long id = strtoll(p[0], &end, 10);
    if (*end || id <= 0) {
        respond_error(out, 404, "not_found", "no issuer '%s'", p[0]);
        return;
    }
    /* the body is the PEM iotca-root wrote, or {"certificate": PEM, "activate_at": time} */
    iotca_slice cert = iotca_buf_slice(&r->body);
    time_t at = 0;
    const char *justification = NULL;
    json_t *j = NULL;
    if (r->body.len && r->body.data[0] == '{') {
        if ((j = body_json(r, out)) == NULL) return;
        const char *pem = NULL, *when = NULL;
        json_error_t e;
        if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s?s, s?s}", "certificate", &pem, "activate_at", &when,
                           "force_justification", &justification) != 0) {
            respond_error(out, 400, "bad_request", "body: %s (fields: certificate, activate_at, force_justification)",
                          e.text);
            json_decref(j);
            return;
        }
        iotca_rc rc = when ? v1_parse_time(when, &at) : IOTCA_OK;
        if (rc != IOTCA_OK) {
            respond_rc(r, out, rc);
            json_decref(j);
            return;
        }
        cert = iotca_slice_of(pem, strlen(pem));
    }
    if (cert.len == 0) {
        respond_error(out, 400, "bad_request", "send the signed certificate (PEM) as the body");
        json_decref(j);
        return;
    }
    iotca_preflight pf;
    iotca_rc rc = iotca_ca_issuer_import_checked(r->srv->ca, id, cert, at, justification,
                                                 r->actor[0] ? r->actor : "anonymous", r->id, &pf);
    if (rc == IOTCA_E_POLICY && pf.refused) {
        respond_error(out, 409, "preflight_failed", "%s", iotca_error_detail());
        json_decref(j);
        return;
    }
    int changes;
    if (rc == IOTCA_OK && at <= time(NULL)) rc = iotca_ca_tick(r->srv->ca, time(NULL), &changes); /* due now */
    if (rc == IOTCA_OK) {
        iotca_issuer_rec *list = NULL;
        size_t n = 0;
        json_t *doc = NULL;
        if (iotca_ca_issuers(r->srv->ca, &list, &n) == IOTCA_OK)
            for (size_t i = 0; i < n; i++) {
                if (list[i].id == id) doc = issuer_json(&list[i]);
                iotca_issuer_rec_free(&list[i]);
            }
        free(list);
        respond_json(out, 200, doc ? doc : json_pack("{s:I}", "id", (json_int_t)id));
    } else if (rc == IOTCA_E_USAGE && strncmp(iotca_error_detail(), "no issuer", 9) == 0) {
        respond_error(out, 404, "not_found", "%s", iotca_error_detail());
    } else {
        respond_rc(r, out, rc);
    }
    json_decref(j);
}

/* The {id} of /v1/issuers/{id}/...: a positive number; else 404 (no issuer has that id) and false. */
static bool issuer_id(const char *param, response *out, int64_t *id) {
    char *end;
    errno = 0;
    long long v = strtoll(param, &end, 10);
    if (*param == 0 || *end || v <= 0 || errno) {
        respond_error(out, 404, "not_found", "no issuer '%.40s'", param);
        return false;
    }
    *id = v;
    return true;
}

/* GET /v1/issuers/{id}/csr (admin): a pending issuer's CSR once more, for the ceremony (as POST /v1/issuers
 * answered it); 409 not_pending once it was signed and imported, or abandoned. */
void api_issuer_csr(request *r, const char *const *p, response *out) {
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    int64_t id;
    if (!issuer_id(p[0], out, &id)) return;
    iotca_issuer_rec rec;
    iotca_buf csr = {0};
    bool found = false;
    iotca_rc rc = iotca_ca_issuer_csr(r->srv->ca, id, &rec, &csr, &found);
    if (rc == IOTCA_OK && !found) respond_error(out, 404, "not_found", "no issuer %lld", (long long)id);
    else if (rc == IOTCA_E_POLICY) respond_error(out, 409, "not_pending", "%s", iotca_error_detail());
    else if (rc != IOTCA_OK) respond_rc(r, out, rc);
    else
        respond_json(out, 200, json_pack("{s:I, s:s, s:s, s:s, s:s%}", "id", (json_int_t)id, "name", rec.name, "group",
                                         rec.group, "state", iotca_issuer_state_name(rec.state), "csr",
                                         (const char *)csr.data, csr.len));
    iotca_issuer_rec_free(&rec);
    iotca_buf_free(&csr);
}

/* DELETE /v1/issuers/{id} (admin): abandons a pending issuer (its key wiped; its row kept as `abandoned`, audited
 * by lib/ca with the change); 409 not_pending for any other state. */
void api_issuer_abandon(request *r, const char *const *p, response *out) {
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    int64_t id;
    if (!issuer_id(p[0], out, &id)) return;
    bool found = false;
    iotca_rc rc = iotca_ca_issuer_abandon(r->srv->ca, id, r->actor[0] ? r->actor : "anonymous", r->id, &found);
    if (rc == IOTCA_OK && !found) {
        respond_error(out, 404, "not_found", "no issuer %lld", (long long)id);
    } else if (rc == IOTCA_E_POLICY) {
        respond_error(out, 409, "not_pending", "%s", iotca_error_detail());
    } else if (rc != IOTCA_OK) {
        /* abandoned, but the key file could not be wiped (the detail names it): the record is written already */
        if (strstr(iotca_error_detail(), "is abandoned, but")) r->audited = true;
        respond_rc(r, out, rc);
    } else {
        r->audited = true; /* lib/ca wrote the record, with the change, in one transaction */
        respond_json(out, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "abandoned"));
    }
}
