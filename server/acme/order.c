/* ACME orders, authorizations, challenges and certificates (RFC 8555 §7.1.3-7.1.5, §7.4, §7.5, §7.4.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"
#include "iotca/json_views.h"
#include "iotca/pem.h"

/* The id of a path segment (0 when malformed). */
static int64_t seg_id(const char *s) {
    char *end;
    long long v = strtoll(s, &end, 10);
    return *s >= '1' && *s <= '9' && *end == 0 && strlen(s) <= 18 ? (int64_t)v : 0;
}

/* A stored problem document, or NULL. */
static json_t *stored_problem(const char *text) {
    json_t *j = text[0] ? json_loads(text, 0, NULL) : NULL;
    return json_is_object(j) ? j : (json_decref(j), NULL);
}

static json_t *order_json(request *r, const char *profile, const iotca_acme_order_rec *o) {
    char url[512];
    json_t *ids = json_loads(o->identifiers, 0, NULL), *authz = json_array();
    iotca_acme_authz_rec *az = NULL;
    size_t n = 0;
    if (iotca_ca_acme_order_authzs(r->srv->ca, o->id, &az, &n) == IOTCA_OK)
        for (size_t i = 0; i < n; i++) {
            acme_url(r, profile, url, sizeof url, "authz/%lld", (long long)az[i].id);
            json_array_append_new(authz, json_string(url));
        }
    free(az);
    acme_url(r, profile, url, sizeof url, "order/%lld/finalize", (long long)o->id);
    json_t *doc = json_pack("{s:s, s:o, s:o, s:o, s:s}", "status", iotca_acme_status_name(o->status), "expires",
                            iotca_json_time(o->expires_at), "identifiers", ids ? ids : json_array(), "authorizations",
                            authz, "finalize", url);
    /* the ACME profile asked for, as the directory names it (draft-aaron-acme-profiles) */
    const char *asked = o->profile;
    for (size_t i = 0; i < r->cfg->n_acme; i++)
        for (size_t k = 0; strcmp(r->cfg->acme[i].name, profile) == 0 && k < r->cfg->acme[i].n_variants; k++)
            if (strcmp(r->cfg->acme[i].variant_profile[k], o->profile) == 0) asked = r->cfg->acme[i].variant[k];
    if (strcmp(asked, profile) != 0) json_object_set_new(doc, "profile", json_string(asked));
    if (o->serial[0]) {
        acme_url(r, profile, url, sizeof url, "cert/%s", o->serial);
        json_object_set_new(doc, "certificate", json_string(url));
    }
    json_t *err = stored_problem(o->error);
    if (err) json_object_set_new(doc, "error", err);
    return doc;
}

/* identifiers of a newOrder payload into ids (at most max; more is one too many). False: out holds the problem. */
static bool read_identifiers(request *r, response *out, const char *profile, json_t *pl, iotca_acme_identifier *ids,
                             size_t max, size_t *n) {
    json_t *list = json_object_get(pl, "identifiers"), *v;
    size_t i;
    *n = 0;
    if (!json_is_array(list) || json_array_size(list) == 0) {
        acme_problem(r, out, profile, "malformed", "identifiers must be a non-empty array");
        return false;
    }
    if (json_array_size(list) > max) {
        acme_problem(r, out, profile, "rejectedIdentifier", "%zu identifiers, at most %zu in one order",
                     json_array_size(list), max);
        return false;
    }
    json_array_foreach(list, i, v) {
        const char *type = json_string_value(json_object_get(v, "type")), *value = json_string_value(json_object_get(v, "value"));
        if (!type || !value || strlen(type) >= sizeof ids[0].type || strlen(value) >= sizeof ids[0].value) {
            acme_problem(r, out, profile, "malformed", "identifier %zu needs a type and a value", i);
            return false;
        }
        snprintf(ids[*n].type, sizeof ids[0].type, "%s", type);
        snprintf(ids[(*n)++].value, sizeof ids[0].value, "%s", value);
    }
    return true;
}

void acme_new_order(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    json_t *pl = json_loadb((const char *)q.jws.payload.data, q.jws.payload.len, JSON_REJECT_DUPLICATES, NULL);
    iotca_acme_identifier *ids = calloc(IOTCA_ACME_MAX_IDENTIFIERS, sizeof *ids);
    size_t n = 0;
    if (!json_is_object(pl) || ids == NULL) {
        acme_problem(r, out, q.profile, "malformed", "the payload must be a JSON object");
    } else if (json_object_get(pl, "notBefore") || json_object_get(pl, "notAfter")) {
        acme_problem(r, out, q.profile, "malformed", "notBefore and notAfter are not taken: the profile sets the validity");
    } else if (read_identifiers(r, out, q.profile, pl, ids, IOTCA_ACME_MAX_IDENTIFIERS, &n)) {
        iotca_acme_order_rec o;
        const char *replaces = json_string_value(json_object_get(pl, "replaces"));
        json_t *pv = json_object_get(pl, "profile"); /* draft-aaron-acme-profiles */
        const char *variant = pv ? config_acme_variant(r->cfg, q.profile, json_string_value(pv)) : NULL;
        iotca_rc rc = replaces && strlen(replaces) >= 256
                          ? iotca_error_set(IOTCA_E_PARSE, "malformed: replaces is over 255 characters")
                      : pv && variant == NULL
                          ? iotca_error_set(IOTCA_E_PARSE, "invalidProfile: this directory offers no profile '%.64s'",
                                            json_string_value(pv) ? json_string_value(pv) : "(not a string)")
                          : iotca_ca_acme_order_new(r->srv->ca, &q.account, q.profile, variant, ids, n, replaces, &o);
        if (rc == IOTCA_OK) {
            char url[512];
            acme_url(r, q.profile, url, sizeof url, "order/%lld", (long long)o.id);
            snprintf(r->audit_subject, sizeof r->audit_subject, "acme order %lld", (long long)o.id);
            acme_respond(r, out, q.profile, 201, order_json(r, q.profile, &o), url);
            iotca_acme_order_rec_free(&o);
        } else {
            acme_problem_rc(r, out, q.profile, rc);
        }
    }
    free(ids);
    json_decref(pl);
    acme_post_end(&q);
}

void acme_order(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    iotca_acme_order_rec o;
    iotca_rc rc = q.jws.post_as_get ? iotca_ca_acme_order_get(r->srv->ca, q.account.id, seg_id(p[1]), &o)
                                    : iotca_error_set(IOTCA_E_PARSE, "malformed: an order is read with POST-as-GET");
    if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_PARSE, "malformed: no such order");
    if (rc == IOTCA_OK) {
        acme_respond(r, out, q.profile, 200, order_json(r, q.profile, &o), NULL);
        iotca_acme_order_rec_free(&o);
    } else {
        acme_problem_rc(r, out, q.profile, rc);
    }
    acme_post_end(&q);
}

void acme_finalize(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    json_t *pl = json_loadb((const char *)q.jws.payload.data, q.jws.payload.len, JSON_REJECT_DUPLICATES, NULL);
    const char *csr64 = json_string_value(json_object_get(pl, "csr"));
    iotca_buf csr = {0};
    iotca_rc rc = csr64 ? iotca_b64url_decode(csr64, strlen(csr64), &csr)
                        : iotca_error_set(IOTCA_E_PARSE, "malformed: finalize needs {\"csr\": base64url DER}");
    if (rc == IOTCA_E_PARSE && csr64) rc = iotca_error_set(IOTCA_E_PARSE, "badCSR: the csr is not base64url");
    iotca_acme_order_rec o;
    if (rc == IOTCA_OK) {
        iotca_issue_audit audit = {.actor = r->actor, .action = "acme.finalize", .request_id = r->id, .outcome = "201"};
        rc = iotca_ca_acme_finalize(r->srv->ca, &q.account, seg_id(p[1]), iotca_buf_slice(&csr), &audit, &o);
    }
    if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_PARSE, "malformed: no such order");
    if (rc == IOTCA_OK) {
        char url[512];
        acme_url(r, q.profile, url, sizeof url, "order/%lld", (long long)o.id);
        snprintf(r->log_serial, sizeof r->log_serial, "%s", o.serial);
        r->audited = true; /* the issuance's record is in the audit trail with the certificate */
        acme_respond(r, out, q.profile, 200, order_json(r, q.profile, &o), url);
        iotca_acme_order_rec_free(&o);
    } else {
        acme_problem_rc(r, out, q.profile, rc);
    }
    iotca_buf_free(&csr);
    json_decref(pl);
    acme_post_end(&q);
}

static json_t *challenge_json(request *r, const char *profile, const iotca_acme_challenge_rec *c) {
    char url[512];
    acme_url(r, profile, url, sizeof url, "chall/%lld", (long long)c->id);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "type", iotca_acme_challenge_type_name(c->type), "url", url,
                            "token", c->token, "status", iotca_acme_status_name(c->status));
    if (c->validated_at) json_object_set_new(doc, "validated", iotca_json_time(c->validated_at));
    json_t *err = stored_problem(c->error);
    if (err) json_object_set_new(doc, "error", err);
    return doc;
}

static json_t *authz_json(request *r, const char *profile, const iotca_acme_authz_rec *a) {
    json_t *ch = json_array();
    for (size_t i = 0; i < a->n_challenges; i++) json_array_append_new(ch, challenge_json(r, profile, &a->challenges[i]));
    json_t *doc = json_pack("{s:{s:s, s:s}, s:s, s:o, s:o}", "identifier", "type", a->type, "value", a->value,
                            "status", iotca_acme_status_name(a->status), "expires", iotca_json_time(a->expires_at),
                            "challenges", ch);
    if (a->wildcard) json_object_set_new(doc, "wildcard", json_true());
    return doc;
}

void acme_authz(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    iotca_acme_authz_rec a;
    iotca_rc rc = iotca_ca_acme_authz_get(r->srv->ca, q.account.id, seg_id(p[1]), &a);
    if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_PARSE, "malformed: no such authorization");
    if (rc == IOTCA_OK && !q.jws.post_as_get) { /* §7.5.2: {"status": "deactivated"} */
        json_t *pl = json_loadb((const char *)q.jws.payload.data, q.jws.payload.len, JSON_REJECT_DUPLICATES, NULL);
        const char *st = json_string_value(json_object_get(pl, "status"));
        rc = st && strcmp(st, "deactivated") == 0 && json_object_size(pl) == 1
                 ? iotca_ca_acme_authz_deactivate(r->srv->ca, q.account.id, a.id)
                 : iotca_error_set(IOTCA_E_PARSE, "malformed: an authorization takes only {\"status\": \"deactivated\"}");
        if (rc == IOTCA_OK) rc = iotca_ca_acme_authz_get(r->srv->ca, q.account.id, a.id, &a);
        json_decref(pl);
    }
    if (rc == IOTCA_OK) acme_respond(r, out, q.profile, 200, authz_json(r, q.profile, &a), NULL);
    else acme_problem_rc(r, out, q.profile, rc);
    acme_post_end(&q);
}

void acme_challenge(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    iotca_acme_challenge_rec c;
    /* the validation settings of the config this request runs under (a reload may change them) */
    iotca_validate_config vc = r->cfg->acme_validation;
    iotca_rc rc = iotca_ca_acme_challenge_respond(r->srv->ca, &q.account, seg_id(p[1]),
                                                  acme_validator ? acme_validator : iotca_validate_challenge,
                                                  acme_validator ? acme_validator_ctx : &vc, &c);
    if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_PARSE, "malformed: no such challenge");
    if (rc == IOTCA_OK) {
        char up[512];
        acme_url(r, q.profile, up, sizeof up, "authz/%lld", (long long)c.authz_id);
        acme_respond(r, out, q.profile, 200, challenge_json(r, q.profile, &c), NULL);
        respond_header(out, "Link", "<%s>;rel=\"up\"", up);
    } else {
        acme_problem_rc(r, out, q.profile, rc);
    }
    acme_post_end(&q);
}

/* Alternate chains a certificate's answer links to (RFC 8555 §7.4.2): response header slots are six, two for the
 * Replay-Nonce and the index Link, and one for each other chain. */
#define ACME_MAX_ALTERNATES 3

/* The chain under which the certificate is served: the issuer's (alt 0), or alternate alt (from 1). */
static iotca_rc cert_chain(request *r, const iotca_cert_rec *c, unsigned alt, iotca_buf *chain, size_t *n_alt) {
    iotca_buf alts[ACME_MAX_ALTERNATES];
    IOTCA_GUARD(iotca_ca_chain_alternates(r->srv->ca, c->issuer_id, time(NULL), alts, ACME_MAX_ALTERNATES, n_alt));
    iotca_rc rc = alt == 0 ? iotca_ca_chain(r->srv->ca, c->issuer_id, chain)
                  : alt <= *n_alt
                      ? iotca_buf_append(chain, alts[alt - 1].data, alts[alt - 1].len)
                      : iotca_error_set(IOTCA_E_PARSE, "malformed: certificate %s has %zu alternate chains (%s)",
                                        c->serial, *n_alt, *n_alt ? "cert/SERIAL/alt/1 and on" : "none");
    for (size_t i = 0; i < *n_alt; i++) iotca_buf_free(&alts[i]);
    return rc;
}

void acme_cert(request *r, const char *const *p, response *out) {
    /* cert/SERIAL, or cert/SERIAL/alt/K for the K-th alternate chain */
    unsigned alt = 0;
    char url[512];
    if (r->n_params > 2) /* a number from 1; anything else names no chain (ACME_MAX_ALTERNATES + 1) */
        alt = p[2][0] >= '1' && p[2][0] <= '0' + ACME_MAX_ALTERNATES && !p[2][1] ? (unsigned)(p[2][0] - '0')
                                                                                 : ACME_MAX_ALTERNATES + 1;
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    iotca_cert_rec c = {0};
    iotca_buf pem = {0}, chain = {0};
    size_t n_alt = 0;
    iotca_rc rc = strlen(p[1]) <= 40 ? iotca_ca_cert_get(r->srv->ca, p[1], &c)
                                     : iotca_error_set(IOTCA_E_USAGE, "no such certificate");
    /* only the account whose order made it may fetch it */
    if (rc == IOTCA_OK) rc = iotca_ca_acme_cert_owner(r->srv->ca, q.account.id, p[1]);
    if (rc == IOTCA_OK) rc = iotca_pem_encode("CERTIFICATE", c.der.data, c.der.len, &pem);
    if (rc == IOTCA_OK) rc = cert_chain(r, &c, alt, &chain, &n_alt);
    if (rc == IOTCA_OK) rc = iotca_buf_append(&pem, chain.data, chain.len);
    if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_PARSE, "malformed: no such certificate");
    if (rc == IOTCA_OK) {
        respond_text(out, 200, "application/pem-certificate-chain", (const char *)pem.data, pem.len);
        acme_headers(r, out, q.profile);
        /* the other chains of the same leaf, the issuer's among them when this is an alternate */
        for (unsigned k = 0; k <= n_alt; k++) {
            if (k == alt) continue;
            acme_url(r, q.profile, url, sizeof url, k ? "cert/%s/alt/%u" : "cert/%s", p[1], k);
            respond_header(out, "Link", "<%s>;rel=\"alternate\"", url);
        }
    } else {
        acme_problem_rc(r, out, q.profile, rc);
    }
    iotca_buf_free(&pem);
    iotca_buf_free(&chain);
    iotca_cert_rec_free(&c);
    acme_post_end(&q);
}
