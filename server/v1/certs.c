/* Certificates (provisioner): issuance and renewal (run whole, or started and finished by the engine:
 * RUN_STARTED), lookup, the inventory and revocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "jsonw.h"
#include "log.h"
#include "v1.h"
#include "iotca/ca_acme.h"
#include "iotca/json_views.h"
#include "iotca/pem.h"

#define CSR_MAX 16384

/* A request's ttl member (seconds or a duration like "30d"; absent: 0, the profile's default). False: out
 * holds the refusal. */
static bool ttl_field(request *r, response *out, const json_t *ttl_j, long *ttl) {
    *ttl = 0;
    if (ttl_j && json_is_integer(ttl_j) && json_integer_value(ttl_j) > 0 && json_integer_value(ttl_j) < (1LL << 32)) {
        *ttl = (long)json_integer_value(ttl_j);
    } else if (ttl_j && json_is_string(ttl_j)) {
        iotca_rc rc = iotca_duration_parse(json_string_value(ttl_j), ttl);
        if (rc != IOTCA_OK) {
            respond_rc(r, out, rc);
            return false;
        }
    } else if (ttl_j) {
        respond_error(out, 400, "bad_request", "ttl must be seconds or a duration like \"30d\"");
        return false;
    }
    return true;
}

/* The refusal of a profile that does not exist, naming those the token may use. */
static void unknown_profile(request *r, response *out, const char *profile) {
    char known[400];
    iotca_ca_profile_names(r->srv->ca, r->role == IOTCA_ROLE_PROVISIONER ? r->scope : NULL, known, sizeof known);
    respond_error(out, 400, "unknown_profile", "no profile named '%.64s' (known profiles: %s)", profile, known);
}

/* The fields of an issuance request, checked: the token may use the profile, which exists. False: out holds
 * the refusal. The strings point into *j (the caller frees it). */
static bool issue_fields(request *r, response *out, json_t **j, const char **csr, const char **profile, long *ttl) {
    *j = NULL;
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return false;
    *j = body_json(r, out);
    if (*j == NULL) return false;
    json_t *ttl_j = NULL;
    json_error_t e;
    if (json_unpack_ex(*j, &e, JSON_STRICT, "{s:s, s:s, s?o}", "csr", csr, "profile", profile, "ttl", &ttl_j) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: csr, profile, ttl)", e.text);
        return false;
    }
    /* the profile asked for, for the answer and the request's log line (cut at 63 characters) */
    snprintf(r->issue_profile, sizeof r->issue_profile, "%s", *profile);
    if (!ttl_field(r, out, ttl_j, ttl)) return false;
    if (strlen(*csr) > CSR_MAX) {
        respond_error(out, 413, "too_large", "csr over %d bytes", CSR_MAX);
        return false;
    }
    if (r->role == IOTCA_ROLE_PROVISIONER && !iotca_scope_allows(r->scope, *profile)) {
        snprintf(r->log_rule, sizeof r->log_rule, "token.profiles");
        respond_error(out, 403, "forbidden", "this token may not use profile '%s'", *profile);
        return false;
    }
    if (iotca_ca_profile(r->srv->ca, *profile) == NULL) {
        snprintf(r->log_rule, sizeof r->log_rule, "profile.exists");
        unknown_profile(r, out, *profile);
        return false;
    }
    return true;
}

/* The issuance's audit record goes into the certificate's own transaction (one durable write, not two); a
 * refusal is audited by the HTTP layer as usual. */
static iotca_issue_audit issue_audit(request *r) {
    return (iotca_issue_audit){r->actor[0] ? r->actor : "anonymous", "POST /v1/certificates", r->id, "201"};
}

/* The answer to an issuance, written by jsonw (the hot path: no tree of copies): serial, certificate, chain,
 * dates, profile, issuer, and ttl: what was asked and granted (seconds) and what capped it (null, or
 * "issuer_not_after" with the issuer's end), then renews and warnings when they apply. */
static void respond_issued(request *r, response *out, iotca_rc rc, iotca_issued *is, const char *justification) {
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    r->audited = true;
    snprintf(r->log_serial, sizeof r->log_serial, "%s", is->serial);
    snprintf(r->audit_subject, sizeof r->audit_subject, "certificate %s (%.20s)", is->serial, r->issue_profile);
    jsonw w;
    jsonw_open(&w, &out->body);
    jsonw_str(&w, "serial", is->serial);
    jsonw_str(&w, "certificate", (const char *)is->cert_pem.data);
    jsonw_str(&w, "chain", (const char *)is->chain_pem.data);
    jsonw_time(&w, "not_before", is->not_before);
    jsonw_time(&w, "not_after", is->not_after);
    jsonw_str(&w, "profile", r->issue_profile);
    jsonw_int(&w, "issuer", (long long)is->issuer_id);
    jsonw_object(&w, "ttl");
    jsonw_int(&w, "asked", (long long)is->ttl_asked);
    jsonw_int(&w, "granted", (long long)is->ttl_granted);
    jsonw_str(&w, "capped_by", is->capped_by_issuer ? "issuer_not_after" : NULL);
    if (is->capped_by_issuer) jsonw_time(&w, "issuer_not_after", is->issuer_not_after);
    jsonw_end(&w);
    if (is->renews[0]) jsonw_str(&w, "renews", is->renews);
    if (justification) { /* a bridge certificate (api_bridge_issue) */
        jsonw_bool(&w, "bridge", true);
        jsonw_str(&w, "justification", justification);
    }
    if (is->capped_by_issuer) { /* said in words too, for whoever reads the answer rather than parses it */
        char asked[IOTCA_DURATION_TEXT], granted[IOTCA_DURATION_TEXT], end[32], text[400];
        struct tm tm;
        gmtime_r(&is->issuer_not_after, &tm);
        strftime(end, sizeof end, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(text, sizeof text, "cut short: asked %s, granted %s: its issuer %s ends %s, and a certificate "
                 "never outlives its issuer", iotca_duration_format(is->ttl_asked, asked),
                 iotca_duration_format(is->ttl_granted, granted), is->issuer_name, end);
        jsonw_array(&w, "warnings");
        jsonw_item(&w, text);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    iotca_issued_free(is);
    if (!jsonw_done(&w)) {
        respond_error(out, 500, "internal", "the answer could not be written");
        return;
    }
    out->status = 201;
    out->content_type = "application/json";
}

void api_cert_issue(request *r, const char *const *p, response *out) {
    (void)p;
    json_t *j;
    const char *csr, *profile;
    long ttl;
    if (issue_fields(r, out, &j, &csr, &profile, &ttl)) {
        iotca_issued is;
        iotca_issue_audit au = issue_audit(r);
        iotca_rc rc = iotca_ca_issue_audited(r->srv->ca, iotca_slice_of(csr, strlen(csr)), profile, ttl, &au, &is);
        respond_issued(r, out, rc, &is, NULL);
    }
    json_decref(j);
}

bool api_cert_issue_begin(request *r, response *out, void (*done)(void *arg)) {
    json_t *j;
    const char *csr, *profile;
    long ttl;
    bool pending = false;
    if (issue_fields(r, out, &j, &csr, &profile, &ttl)) {
        iotca_issue_audit au = issue_audit(r);
        iotca_rc rc = iotca_ca_issue_start(r->srv->ca, iotca_slice_of(csr, strlen(csr)), profile, ttl, &au, done, r,
                                           &r->issuance);
        pending = rc == IOTCA_OK;
        if (!pending) respond_rc(r, out, rc);
    }
    json_decref(j);
    return pending;
}

bool api_cert_issue_end(request *r, response *out) {
    iotca_issued is;
    iotca_rc rc = iotca_ca_issue_end(r->issuance, &is);
    r->issuance = NULL;
    respond_issued(r, out, rc, &is, NULL);
    return rc == IOTCA_OK;
}

/* The fields of a renewal, checked: the certificate exists (404), the token may use its profile (403, as for
 * issuance), it is not revoked (409); the body, if any, is {csr?, ttl?}. False: out holds the refusal. *csr
 * points into *j (the caller frees it); NULL: the same key. */
static bool renew_fields(request *r, response *out, const char *param, json_t **j, char serial[41],
                         const char **csr, long *ttl) {
    *j = NULL;
    *csr = NULL;
    *ttl = 0;
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return false;
    iotca_cert_rec c = {0};
    iotca_rc rc = v1_serial_param(param, serial) ? iotca_ca_cert_get(r->srv->ca, serial, &c) : IOTCA_E_USAGE;
    if (rc == IOTCA_E_USAGE) {
        respond_error(out, 404, "not_found", "no certificate with serial '%.40s'", param);
        return false;
    }
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return false;
    }
    snprintf(r->issue_profile, sizeof r->issue_profile, "%s", c.profile);
    bool revoked = c.revoked;
    iotca_cert_rec_free(&c);
    if (r->role == IOTCA_ROLE_PROVISIONER && !iotca_scope_allows(r->scope, r->issue_profile)) {
        respond_error(out, 403, "forbidden", "this token may not use profile '%s'", r->issue_profile);
        return false;
    }
    if (revoked) {
        respond_error(out, 409, "revoked", "certificate %s is revoked; a revoked certificate is not renewed", serial);
        return false;
    }
    if (r->body.len == 0) return true;
    if ((*j = body_json(r, out)) == NULL) return false;
    json_t *ttl_j = NULL;
    json_error_t e;
    if (json_unpack_ex(*j, &e, JSON_STRICT, "{s?s, s?o}", "csr", csr, "ttl", &ttl_j) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: csr, ttl; the profile is the certificate's)",
                      e.text);
        return false;
    }
    if (!ttl_field(r, out, ttl_j, ttl)) return false;
    if (*csr && strlen(*csr) > CSR_MAX) {
        respond_error(out, 413, "too_large", "csr over %d bytes", CSR_MAX);
        return false;
    }
    return true;
}

/* The renewal's audit record goes with its certificate, as the issuance's does; its subject names both. */
static iotca_issue_audit renew_audit(request *r) {
    return (iotca_issue_audit){r->actor[0] ? r->actor : "anonymous", "POST /v1/certificates/*/renew", r->id, "201"};
}

static iotca_slice csr_slice(const char *csr) { return csr ? iotca_slice_of(csr, strlen(csr)) : iotca_slice_of("", 0); }

void api_cert_renew(request *r, const char *const *p, response *out) {
    json_t *j;
    const char *csr;
    char serial[41];
    long ttl;
    if (renew_fields(r, out, p[0], &j, serial, &csr, &ttl)) {
        iotca_issued is;
        iotca_issue_audit au = renew_audit(r);
        iotca_rc rc = iotca_ca_renew(r->srv->ca, serial, csr_slice(csr), ttl, &au, &is);
        respond_issued(r, out, rc, &is, NULL);
    }
    json_decref(j);
}

bool api_cert_renew_begin(request *r, response *out, void (*done)(void *arg)) {
    json_t *j;
    const char *csr;
    char serial[41];
    long ttl;
    bool pending = false;
    if (renew_fields(r, out, r->params[0], &j, serial, &csr, &ttl)) {
        iotca_issue_audit au = renew_audit(r);
        iotca_rc rc = iotca_ca_renew_start(r->srv->ca, serial, csr_slice(csr), ttl, &au, done, r, &r->issuance);
        pending = rc == IOTCA_OK;
        if (!pending) respond_rc(r, out, rc);
    }
    json_decref(j);
    return pending;
}

static json_t *cert_json(const iotca_cert_rec *c, bool with_der) {
    time_t now = time(NULL);
    const char *status = c->revoked ? "revoked" : c->not_after <= now ? "expired" : "valid";
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:s}", "serial", c->serial, "profile", c->profile,
                          "subject", c->subject, "issuer", (json_int_t)c->issuer_id, "not_before", iotca_json_time(c->not_before),
                          "not_after", iotca_json_time(c->not_after), "status", status);
    if (c->revoked) {
        json_object_set_new(o, "revoked_at", iotca_json_time(c->revoked_at));
        json_object_set_new(o, "reason", json_string(iotca_reason_name((iotca_reason)c->reason)));
    }
    if (c->renews[0]) json_object_set_new(o, "renews", json_string(c->renews));
    if (c->renewed_by[0]) json_object_set_new(o, "renewed_by", json_string(c->renewed_by));
    if (with_der && c->der.len) {
        iotca_buf pem = {0};
        if (iotca_pem_encode("CERTIFICATE", c->der.data, c->der.len, &pem) == IOTCA_OK)
            json_object_set_new(o, "certificate", json_string((const char *)pem.data));
        iotca_buf_free(&pem);
    }
    return o;
}

iotca_rc v1_cert_visible(iotca_ca *ca, iotca_role role, const char *scope, const char *param, iotca_cert_rec *c) {
    char serial[41];
    IOTCA_ENSURE(v1_serial_param(param, serial), IOTCA_E_USAGE, "no certificate with serial '%.40s'", param);
    IOTCA_GUARD(iotca_ca_cert_get(ca, serial, c));
    if (role == IOTCA_ROLE_PROVISIONER && !iotca_scope_allows(scope, c->profile)) {
        iotca_cert_rec_free(c);
        IOTCA_BAIL(IOTCA_E_USAGE, "no certificate with serial %s", serial);
    }
    return IOTCA_OK;
}

/* Loads a certificate the caller may see: 404 when absent or out of a scoped token's profiles. */
static bool visible_cert(request *r, response *out, const char *param, iotca_cert_rec *c) {
    iotca_rc rc = v1_cert_visible(r->srv->ca, r->role, r->scope, param, c);
    if (rc == IOTCA_E_USAGE) respond_error(out, 404, "not_found", "%s", iotca_error_detail());
    else if (rc != IOTCA_OK) respond_rc(r, out, rc);
    return rc == IOTCA_OK;
}

iotca_rc v1_cert_revoke_logged(request *r, const char *serial, const char *reason_name, iotca_reason *reason_out) {
    iotca_revoke_note note;
    IOTCA_GUARD(iotca_reason_parse(reason_name, reason_out));
    IOTCA_GUARD(iotca_ca_cert_revoke(r->srv->ca, serial, (int)*reason_out, &note));
    /* which way its CRL goes, so an operator can tell a debounced CRL from a lost one */
    json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "request_id", r->id, "serial", serial, "reason", reason_name, "crl",
                          note.crl_now ? "published now" : "left to the tick");
    if (!note.crl_now) json_object_set_new(f, "crl_why", json_string(note.crl_why));
    log_event("info", "certificate revoked", f);
    return IOTCA_OK;
}

void api_cert_get(request *r, const char *const *p, response *out) {
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return;
    iotca_cert_rec c = {0};
    if (!visible_cert(r, out, p[0], &c)) return;
    json_t *doc = cert_json(&c, true);
    int64_t account = 0, order = 0; /* a certificate an ACME order made says which account asked */
    if (iotca_ca_acme_cert_origin(r->srv->ca, c.serial, &account, &order) == IOTCA_OK)
        json_object_set_new(doc, "acme", json_pack("{s:I, s:I}", "account", (json_int_t)account, "order", (json_int_t)order));
    respond_json(out, 200, doc);
    iotca_cert_rec_free(&c);
}

void api_cert_list(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return;
    iotca_cert_filter f = {.status = -1, .limit = 100};
    f.profile = query(r, "profile");
    const char *status = query(r, "status"), *exp = query(r, "expires_before"), *cursor = query(r, "cursor"),
               *limit = query(r, "limit");
    char after[41];
    if (status) {
        if (strcmp(status, "valid") == 0) f.status = 0;
        else if (strcmp(status, "revoked") == 0) f.status = 1;
        else {
            respond_error(out, 400, "bad_request", "status must be valid or revoked");
            return;
        }
    }
    if (exp) {
        iotca_rc rc = v1_parse_time(exp, &f.expires_before);
        if (rc != IOTCA_OK) {
            respond_rc(r, out, rc);
            return;
        }
    }
    if (cursor) {
        if (!v1_serial_param(cursor, after)) {
            respond_error(out, 400, "bad_request", "cursor is not one this server issued");
            return;
        }
        f.after = after;
    }
    if (limit) {
        char *end;
        long l = strtol(limit, &end, 10);
        if (*limit == 0 || *end || l < 1 || l > 1000) {
            respond_error(out, 400, "bad_request", "limit must be 1 to 1000");
            return;
        }
        f.limit = (size_t)l;
    }
    if (r->role == IOTCA_ROLE_PROVISIONER && r->scope[0]) {
        if (f.profile == NULL && strchr(r->scope, ',') == NULL) f.profile = r->scope;
        if (f.profile == NULL || !iotca_scope_allows(r->scope, f.profile)) {
            respond_error(out, 403, "forbidden", "name a profile this token may use (profile=...)");
            return;
        }
    }
    iotca_cert_rec *list = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_ca_cert_list(r->srv->ca, &f, &list, &n);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    json_t *arr = json_array();
    json_t *next = n == f.limit ? json_string(list[n - 1].serial) : json_null();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, cert_json(&list[i], false));
        iotca_cert_rec_free(&list[i]);
    }
    free(list);
    respond_json(out, 200, json_pack("{s:o, s:o}", "certificates", arr, "next_cursor", next));
}

void api_cert_revoke(request *r, const char *const *p, response *out) {
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return;
    iotca_cert_rec c = {0};
    if (!visible_cert(r, out, p[0], &c)) return;
    json_t *j = NULL;
    const char *reason_s = "unspecified";
    if (r->body.len) {
        if ((j = body_json(r, out)) == NULL) goto done;
        json_error_t e;
        if (json_unpack_ex(j, &e, JSON_STRICT, "{s?s}", "reason", &reason_s) != 0) {
            respond_error(out, 400, "bad_request", "body: %s (fields: reason)", e.text);
            goto done;
        }
    }
    iotca_reason reason;
    iotca_rc rc = v1_cert_revoke_logged(r, c.serial, reason_s, &reason);
    if (rc == IOTCA_OK) {
        char serial[41];
        memcpy(serial, c.serial, sizeof serial);
        iotca_cert_rec_free(&c);
        if (iotca_ca_cert_get(r->srv->ca, serial, &c) == IOTCA_OK) respond_json(out, 200, cert_json(&c, false));
        else respond_json(out, 200, json_pack("{s:s}", "status", "revoked"));
    } else if (rc == IOTCA_E_POLICY) {
        respond_error(out, 409, "already_revoked", "%s", iotca_error_detail());
    } else {
        respond_rc(r, out, rc);
    }
done:
    iotca_cert_rec_free(&c);
    json_decref(j);
}

/* POST /v1/bridges (admin; issue 24, point 4): a bridge certificate from a retiring issuer, {csr, profile,
 * issuer, justification, ttl?}; the answer is an issuance's with bridge and justification. The refusals are
 * the CA's (iotca_ca_issue_bridge): a profile without bridge_max_ttl, an issuer that is not retiring. */
void api_bridge_issue(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    const char *csr, *profile, *justification;
    json_int_t issuer;
    json_t *ttl_j = NULL;
    long ttl;
    json_error_t e;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s:s, s:I, s:s, s?o}", "csr", &csr, "profile", &profile, "issuer",
                       &issuer, "justification", &justification, "ttl", &ttl_j) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: csr, profile, issuer, justification, ttl)", e.text);
    } else if (strlen(csr) > CSR_MAX) {
        respond_error(out, 413, "too_large", "csr over %d bytes", CSR_MAX);
    } else if (iotca_ca_profile(r->srv->ca, profile) == NULL) {
        unknown_profile(r, out, profile);
    } else if (ttl_field(r, out, ttl_j, &ttl)) {
        snprintf(r->issue_profile, sizeof r->issue_profile, "%s", profile);
        iotca_issue_audit au = {r->actor[0] ? r->actor : "anonymous", "POST /v1/bridges", r->id, "201"};
        iotca_issued is;
        iotca_rc rc = iotca_ca_issue_bridge(r->srv->ca, iotca_slice_of(csr, strlen(csr)), profile, (int64_t)issuer,
                                            ttl, justification, &au, &is);
        respond_issued(r, out, rc, &is, justification);
    }
    json_decref(j);
}

/* GET /v1/bridges (admin): the bridge certificates not yet expired, oldest first, with who asked and why. */
void api_bridge_list(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    iotca_bridge_rec *list = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_ca_bridge_list(r->srv->ca, time(NULL), &list, &n);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:o, s:s}", "serial", list[i].serial,
                                             "issuer", (json_int_t)list[i].issuer_id, "profile", list[i].profile,
                                             "justification", list[i].justification, "actor", list[i].actor,
                                             "not_after", iotca_json_time(list[i].not_after), "created_at",
                                             iotca_json_time(list[i].created_at), "status",
                                             list[i].revoked ? "revoked" : "valid"));
    free(list);
    respond_json(out, 200, json_pack("{s:o}", "bridges", arr));
}
