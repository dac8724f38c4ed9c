/* The REST API of SPEC §6: JSON in, JSON out; every decision is made by the CA service, never here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "iotca/pem.h"
#include "iotca/json_views.h"

#define CSR_MAX 16384

static iotca_rc parse_time(const char *s, time_t *out) {
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    if (end == NULL || *end) {
        memset(&tm, 0, sizeof tm);
        end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
    }
    IOTCA_ENSURE(end != NULL && *end == 0, IOTCA_E_USAGE, "time must be RFC 3339 UTC (2030-01-31T00:00:00Z) or a date");
    *out = timegm(&tm);
    return IOTCA_OK;
}

/* Serial path segments: 1-40 hex digits, normalised to lower case. */
static bool serial_param(const char *in, char out[41]) {
    size_t n = strlen(in);
    if (n == 0 || n > 40) return false;
    for (size_t i = 0; i <= n; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
        if (i < n && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        out[i] = c;
    }
    return true;
}

void api_healthz(request *r, const char *const *p, response *out) {
    (void)r;
    (void)p;
    respond_json(out, 200, json_pack("{s:s}", "status", "ok"));
}

void api_readyz(request *r, const char *const *p, response *out) {
    (void)p;
    if (iotca_ca_ready(r->srv->ca)) respond_json(out, 200, json_pack("{s:s}", "status", "ready"));
    else respond_error(out, 503, "unavailable", "the database does not answer");
}

void api_metrics(request *r, const char *const *p, response *out) {
    (void)p;
    iotca_buf b = {0};
    iotca_ca_stats st;
    iotca_ca_stats_get(r->srv->ca, &st);
    iotca_buf_printf(&b,
                     "# HELP iotca_certificates_issued_total Certificates issued.\n"
                     "# TYPE iotca_certificates_issued_total counter\niotca_certificates_issued_total %lu\n"
                     "# HELP iotca_issuance_refused_total Issuance requests refused.\n"
                     "# TYPE iotca_issuance_refused_total counter\niotca_issuance_refused_total %lu\n"
                     "# HELP iotca_certificates_revoked_total Certificates revoked.\n"
                     "# TYPE iotca_certificates_revoked_total counter\niotca_certificates_revoked_total %lu\n"
                     "# HELP iotca_store_group_commits_total Transactions of the store's group commit (one fsync each).\n"
                     "# TYPE iotca_store_group_commits_total counter\niotca_store_group_commits_total %lu\n"
                     "# HELP iotca_store_group_writes_total Writes those transactions held.\n"
                     "# TYPE iotca_store_group_writes_total counter\niotca_store_group_writes_total %lu\n",
                     st.issued, st.refused, st.revoked, st.group_commits, st.group_writes);
    metrics_render(&r->srv->m, &b);
    time_t now = time(NULL);
    iotca_buf_append_str(&b, "# HELP iotca_root_days_to_expiry Days until each root expires.\n"
                             "# TYPE iotca_root_days_to_expiry gauge\n");
    for (size_t i = 0; i < iotca_ca_root_count(r->srv->ca); i++) {
        iotca_buf pem = {0}, subj = {0};
        uint8_t pin[32];
        time_t na;
        if (iotca_ca_root(r->srv->ca, i, &pem, pin, &na, &subj) == IOTCA_OK) {
            for (size_t k = 0; k < subj.len; k++)
                if (subj.data[k] == '"' || subj.data[k] == '\\') subj.data[k] = '_';
            iotca_buf_printf(&b, "iotca_root_days_to_expiry{root=\"%s\"} %.1f\n", (const char *)subj.data,
                             (double)(na - now) / 86400);
        }
        iotca_buf_free(&pem);
        iotca_buf_free(&subj);
    }
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    if (iotca_ca_issuers(r->srv->ca, &list, &n) == IOTCA_OK) {
        iotca_buf_append_str(&b, "# HELP iotca_issuer_days_to_expiry Days until each issuer certificate expires.\n"
                                 "# TYPE iotca_issuer_days_to_expiry gauge\n");
        for (size_t i = 0; i < n; i++) {
            if (list[i].not_after)
                iotca_buf_printf(&b, "iotca_issuer_days_to_expiry{issuer=\"%s\",group=\"%s\",state=\"%s\"} %.1f\n",
                                 list[i].name, list[i].group, iotca_issuer_state_name(list[i].state),
                                 (double)(list[i].not_after - now) / 86400);
            iotca_issuer_rec_free(&list[i]);
        }
        free(list);
    }
    iotca_warning w[IOTCA_MAX_WARNINGS];
    size_t nw = 0;
    if (iotca_ca_warnings(r->srv->ca, now, w, &nw) == IOTCA_OK) {
        iotca_buf_append_str(&b, "# HELP iotca_advance_warning Days left for each item inside its 180/60/30-day window.\n"
                                 "# TYPE iotca_advance_warning gauge\n");
        for (size_t i = 0; i < nw; i++) {
            for (char *c = w[i].subject; *c; c++)
                if (*c == '"' || *c == '\\') *c = '_';
            iotca_buf_printf(&b, "iotca_advance_warning{kind=\"%s\",subject=\"%s\",threshold=\"%d\"} %ld\n",
                             iotca_warning_kind_name(w[i].kind), w[i].subject, w[i].threshold_days, w[i].days_left);
        }
        iotca_buf_printf(&b, "# HELP iotca_advance_warnings Items inside a warning window.\n"
                             "# TYPE iotca_advance_warnings gauge\niotca_advance_warnings %zu\n", nw);
    }
    /* CRLs (issue 4): how long each issuer's current CRL stays valid, and how long it is */
    iotca_issuer_rec *cl = NULL;
    size_t cn = 0;
    if (iotca_ca_issuers(r->srv->ca, &cl, &cn) == IOTCA_OK) {
        iotca_buf entries = {0};
        iotca_buf_append_str(&b, "# HELP iotca_crl_next_update_seconds Seconds until each issuer CRL's nextUpdate "
                                 "(negative: relying parties see it stale).\n"
                                 "# TYPE iotca_crl_next_update_seconds gauge\n");
        iotca_buf_append_str(&entries, "# HELP iotca_crl_entries Revoked certificates listed in each issuer's CRL.\n"
                                       "# TYPE iotca_crl_entries gauge\n");
        for (size_t i = 0; i < cn; i++) {
            iotca_crl_rec crl = {0};
            if (iotca_ca_crl_info(r->srv->ca, cl[i].id, &crl) == IOTCA_OK) {
                iotca_buf_printf(&b, "iotca_crl_next_update_seconds{issuer=\"%s\",id=\"%lld\"} %lld\n", cl[i].name,
                                 (long long)cl[i].id, (long long)(crl.next_update - now));
                iotca_buf_printf(&entries, "iotca_crl_entries{issuer=\"%s\",id=\"%lld\"} %llu\n", cl[i].name,
                                 (long long)cl[i].id, (unsigned long long)crl.entries);
            }
            iotca_issuer_rec_free(&cl[i]);
        }
        iotca_buf_append(&b, entries.data, entries.len);
        iotca_buf_free(&entries);
        free(cl);
    }
    respond_text(out, 200, "text/plain; version=0.0.4", (const char *)b.data, b.len);
    iotca_buf_free(&b);
}

void api_roots(request *r, const char *const *p, response *out) {
    (void)p;
    json_t *roots = json_array();
    for (size_t i = 0; i < iotca_ca_root_count(r->srv->ca); i++) {
        iotca_buf pem = {0}, subj = {0}, pinhex = {0};
        uint8_t pin[32];
        time_t na;
        if (iotca_ca_root(r->srv->ca, i, &pem, pin, &na, &subj) == IOTCA_OK &&
            iotca_hex_encode(pin, sizeof pin, &pinhex) == IOTCA_OK)
            json_array_append_new(roots, json_pack("{s:s, s:s, s:s, s:o}", "subject", (const char *)subj.data,
                                                   "certificate", (const char *)pem.data, "spki_sha256",
                                                   (const char *)pinhex.data, "not_after", iotca_json_time(na)));
        iotca_buf_free(&pem);
        iotca_buf_free(&subj);
        iotca_buf_free(&pinhex);
    }
    if (json_array_size(roots) < 2)
        respond_json(out, 200, json_pack("{s:o, s:s}", "roots", roots, "warning",
                                         "only one root is configured: devices need a second, independent root"));
    else respond_json(out, 200, json_pack("{s:o}", "roots", roots));
}

void api_chain(request *r, const char *const *p, response *out) {
    (void)p;
    const char *q = query(r, "issuer");
    long long id = 0;
    if (q) {
        char *end;
        id = strtoll(q, &end, 10);
        if (*q == 0 || *end || id <= 0) {
            respond_error(out, 400, "bad_request", "issuer must be a positive issuer id");
            return;
        }
    }
    iotca_buf pem = {0};
    iotca_rc rc = iotca_ca_chain(r->srv->ca, id, &pem);
    if (rc == IOTCA_OK) respond_text(out, 200, "application/pem-certificate-chain", (const char *)pem.data, pem.len);
    else if (rc == IOTCA_E_USAGE) respond_error(out, 404, "not_found", "%s", iotca_error_detail());
    else respond_rc(r, out, rc);
    iotca_buf_free(&pem);
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
    json_t *arr = json_array(), *next = json_null();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, issuer_json(&list[i]));
        /* the *next* issuer: staged (scheduled) or, failing that, pending */
        if (list[i].state == IOTCA_ISSUER_STAGED || (list[i].state == IOTCA_ISSUER_PENDING && json_is_null(next))) {
            json_decref(next);
            next = issuer_json(&list[i]);
        }
        iotca_issuer_rec_free(&list[i]);
    }
    free(list);
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
        iotca_rc rc = when ? parse_time(when, &at) : IOTCA_OK;
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
    iotca_rc rc = iotca_ca_issuer_import_checked(r->srv->ca, id, cert, at, justification, &pf);
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
    if (strlen(*csr) > CSR_MAX) {
        respond_error(out, 413, "too_large", "csr over %d bytes", CSR_MAX);
        return false;
    }
    if (r->role == IOTCA_ROLE_PROVISIONER && !iotca_scope_allows(r->scope, *profile)) {
        respond_error(out, 403, "forbidden", "this token may not use profile '%s'", *profile);
        return false;
    }
    if (iotca_ca_profile(r->srv->ca, *profile) == NULL) {
        respond_error(out, 400, "unknown_profile", "no profile named '%s'", *profile);
        return false;
    }
    /* for the answer (< 64 characters, as every profile's name) */
    snprintf(r->issue_profile, sizeof r->issue_profile, "%s", *profile);
    return true;
}

/* The issuance's audit record goes into the certificate's own transaction (one durable write, not two); a
 * refusal is audited by the HTTP layer as usual. */
static iotca_issue_audit issue_audit(request *r) {
    return (iotca_issue_audit){r->actor[0] ? r->actor : "anonymous", "POST /v1/certificates", r->id, "201"};
}

static void respond_issued(request *r, response *out, iotca_rc rc, iotca_issued *is) {
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    r->audited = true;
    snprintf(r->audit_subject, sizeof r->audit_subject, "certificate %s (%.20s)", is->serial, r->issue_profile);
    respond_json(out, 201, json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:I}", "serial", is->serial, "certificate",
                                     (const char *)is->cert_pem.data, "chain", (const char *)is->chain_pem.data,
                                     "not_before", iotca_json_time(is->not_before), "not_after",
                                     iotca_json_time(is->not_after), "profile", r->issue_profile, "issuer",
                                     (json_int_t)is->issuer_id));
    iotca_issued_free(is);
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
        respond_issued(r, out, rc, &is);
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
    respond_issued(r, out, rc, &is);
    return rc == IOTCA_OK;
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
    if (with_der && c->der.len) {
        iotca_buf pem = {0};
        if (iotca_pem_encode("CERTIFICATE", c->der.data, c->der.len, &pem) == IOTCA_OK)
            json_object_set_new(o, "certificate", json_string((const char *)pem.data));
        iotca_buf_free(&pem);
    }
    return o;
}

/* Loads a certificate the caller may see: 404 when absent or out of a scoped token's profiles. */
static bool visible_cert(request *r, response *out, const char *param, iotca_cert_rec *c) {
    char serial[41];
    if (!serial_param(param, serial)) {
        respond_error(out, 404, "not_found", "no certificate with serial '%.40s'", param);
        return false;
    }
    iotca_rc rc = iotca_ca_cert_get(r->srv->ca, serial, c);
    if (rc == IOTCA_E_USAGE ||
        (rc == IOTCA_OK && r->role == IOTCA_ROLE_PROVISIONER && !iotca_scope_allows(r->scope, c->profile))) {
        if (rc == IOTCA_OK) iotca_cert_rec_free(c);
        respond_error(out, 404, "not_found", "no certificate with serial %s", serial);
        return false;
    }
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return false;
    }
    return true;
}

void api_cert_get(request *r, const char *const *p, response *out) {
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER)) return;
    iotca_cert_rec c = {0};
    if (!visible_cert(r, out, p[0], &c)) return;
    respond_json(out, 200, cert_json(&c, true));
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
        iotca_rc rc = parse_time(exp, &f.expires_before);
        if (rc != IOTCA_OK) {
            respond_rc(r, out, rc);
            return;
        }
    }
    if (cursor) {
        if (!serial_param(cursor, after)) {
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
    iotca_rc rc = iotca_reason_parse(reason_s, &reason);
    if (rc == IOTCA_OK) rc = iotca_ca_cert_revoke(r->srv->ca, c.serial, (int)reason);
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
