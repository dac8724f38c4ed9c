/* What every ACME handler shares (acme.h): the profile of the path, absolute URLs, the checked POST envelope
 * (RFC 8555 §6.2-6.4), the headers every answer carries (§6.5, §7.1), and problem documents (§6.7, RFC 7807). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"
#include "log.h"
#include "iotca/pem.h"

#define ERR "urn:ietf:params:acme:error:"

iotca_acme_validator acme_validator;
void *acme_validator_ctx;

const char *acme_profile(request *r, const char *const *p, response *out, bool *eab_required) {
    if (r->cfg->base_url && config_acme_profile(r->cfg, p[0], eab_required)) return p[0];
    /* no directory here: a plain 404, which names what is served */
    respond_error(out, 404, "not_found", "no ACME directory for profile '%.64s' (the config's acme.profiles)", p[0]);
    return NULL;
}

void acme_url(request *r, const char *profile, char *out, size_t n, const char *fmt, ...) {
    int k = snprintf(out, n, "%s/acme/%s/", r->cfg->base_url ? r->cfg->base_url : "", profile);
    if (k < 0 || (size_t)k >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + k, n - (size_t)k, fmt, ap);
    va_end(ap);
}

void acme_headers(request *r, response *out, const char *profile) {
    char nonce[IOTCA_ACME_NONCE_LEN + 1], dir[512];
    /* a nonce the database could not record is left out: the client asks new-nonce, which says why */
    if (iotca_ca_acme_nonce(r->srv->ca, nonce) == IOTCA_OK) respond_header(out, "Replay-Nonce", "%s", nonce);
    acme_url(r, profile, dir, sizeof dir, "directory");
    respond_header(out, "Link", "<%s>;rel=\"index\"", dir);
}

/* The HTTP status of an ACME error type (RFC 8555 §6.7; what clients act on). */
static unsigned type_status(const char *type) {
    static const struct {
        const char *type;
        unsigned status;
    } map[] = {{"unauthorized", 403}, {"orderNotReady", 403}, {"accountDoesNotExist", 400}, {"serverInternal", 500},
               {"rateLimited", 429}, {"alreadyReplaced", 409}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].type, type) == 0) return map[i].status;
    return 400;
}

static void problem(request *r, response *out, const char *profile, unsigned status, const char *type,
                    const char *detail) {
    json_t *doc = json_pack("{s:s+, s:s, s:i}", "type", ERR, type, "detail", detail, "status", (int)status);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    respond_text(out, status, "application/problem+json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
    out->error = type;
    r->error = type;
    if (profile) acme_headers(r, out, profile);
}

void acme_problem(request *r, response *out, const char *profile, const char *type, const char *fmt, ...) {
    char detail[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    problem(r, out, profile, type_status(type), type, detail);
}

void acme_problem_status(request *r, response *out, const char *profile, unsigned status, const char *type,
                         const char *detail) {
    problem(r, out, profile, status, type, detail);
}

void acme_refuse(request *r, response *out, unsigned status, const char *code, const char *detail) {
    (void)code; /* the type says it to ACME clients; the detail keeps the engine's words */
    const char *profile = r->n_params && r->cfg->base_url && config_acme_profile(r->cfg, r->params[0], NULL)
                              ? r->params[0]
                              : NULL;
    problem(r, out, profile, status, status >= 500 ? "serverInternal" : "malformed", detail);
}

/* The known ACME error types a library detail may start with ("badNonce: ..."). */
static const char *const TYPES[] = {"badNonce", "malformed", "unauthorized", "accountDoesNotExist",
                                    "externalAccountRequired", "rejectedIdentifier", "unsupportedIdentifier",
                                    "badCSR", "orderNotReady", "badSignatureAlgorithm", "badPublicKey",
                                    "serverInternal", "rateLimited", "connection", "dns", "incorrectResponse",
                                    "tls", "caa", "userActionRequired", "badRevocationReason", "alreadyRevoked",
                                    "invalidContact", "alreadyReplaced", "invalidProfile"};

void acme_problem_rc(request *r, response *out, const char *profile, iotca_rc rc) {
    const char *d = iotca_error_detail();
    if (rc == IOTCA_E_STORAGE || rc == IOTCA_E_INTERNAL || rc == IOTCA_E_UNAVAILABLE) {
        if (rc != IOTCA_E_UNAVAILABLE)
            log_event("error", "internal failure",
                      json_pack("{s:s, s:s, s:s}", "request_id", r->id, "category", iotca_rc_name(rc), "detail", d));
        char detail[160];
        snprintf(detail, sizeof detail, "%s; quote request id %s to the operator",
                 rc == IOTCA_E_UNAVAILABLE ? "the CA cannot issue now" : "the request could not be completed", r->id);
        problem(r, out, profile, rc == IOTCA_E_INTERNAL ? 500 : 503, "serverInternal", detail);
        return;
    }
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        size_t n = strlen(TYPES[i]);
        if (strncmp(d, TYPES[i], n) == 0 && d[n] == ':') {
            problem(r, out, profile, type_status(TYPES[i]), TYPES[i], d + n + (d[n + 1] == ' ' ? 2 : 1));
            return;
        }
    }
    /* a refusal without a type: a malformed request (RFC 8555 §6.7's catch-all for what the client sent) */
    problem(r, out, profile, rc == IOTCA_E_POLICY ? 403 : 400, rc == IOTCA_E_POLICY ? "unauthorized" : "malformed", d);
}

void acme_respond(request *r, response *out, const char *profile, unsigned status, json_t *doc, const char *location) {
    respond_json(out, status, doc);
    if (location) respond_header(out, "Location", "%s", location);
    acme_headers(r, out, profile);
}

/* The account id a kid names: this server's URL of an account of this profile ("<base>/acme/P/account/N"). */
static int64_t kid_account(request *r, const char *profile, const char *kid) {
    char prefix[512];
    acme_url(r, profile, prefix, sizeof prefix, "account/");
    size_t n = strlen(prefix);
    if (strncmp(kid, prefix, n) != 0 || kid[n] < '1' || kid[n] > '9' || strlen(kid + n) > 18) return 0;
    char *end;
    long long id = strtoll(kid + n, &end, 10);
    return *end == 0 ? (int64_t)id : 0;
}

bool acme_post_begin(request *r, const char *const *p, response *out, acme_signer signer, acme_post *q) {
    memset(q, 0, sizeof *q);
    if ((q->profile = acme_profile(r, p, out, &q->eab_required)) == NULL) return false;
    /* the URL the request was sent to, as the JWS must name it (§6.4): base_url and the path the route matched */
    snprintf(q->url, sizeof q->url, "%s%s", r->cfg->base_url, r->path);
    const char *ct = header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct == NULL || strncmp(ct, "application/jose+json", 21) != 0) { /* §6.2 */
        acme_problem(r, out, q->profile, "malformed", "the Content-Type must be application/jose+json");
        return false;
    }
    iotca_rc rc = iotca_jws_parse(iotca_buf_slice(&r->body), &q->jws);
    if (rc == IOTCA_OK && signer == ACME_JWK && q->jws.kid[0])
        rc = iotca_error_set(IOTCA_E_PARSE, "malformed: this resource takes a jwk, not a kid (RFC 8555 §6.2)");
    if (rc == IOTCA_OK && signer == ACME_KID && !q->jws.kid[0])
        rc = iotca_error_set(IOTCA_E_PARSE, "malformed: this resource takes a kid, not a jwk (RFC 8555 §6.2)");
    int64_t id = 0;
    if (rc == IOTCA_OK && q->jws.kid[0] && (id = kid_account(r, q->profile, q->jws.kid)) == 0)
        rc = iotca_error_set(IOTCA_E_POLICY, "accountDoesNotExist: the kid is not an account of this directory");
    if (rc == IOTCA_OK) rc = iotca_ca_acme_check(r->srv->ca, &q->jws, q->url, id, &q->account);
    if (rc == IOTCA_E_CRYPTO) rc = iotca_error_set(IOTCA_E_PARSE, "malformed: the JWS signature does not verify");
    if (rc != IOTCA_OK) {
        acme_problem_rc(r, out, q->profile, rc);
        acme_post_end(q);
        return false;
    }
    if (q->account.id) snprintf(r->actor, sizeof r->actor, "acme:account:%lld", (long long)q->account.id);
    return true;
}

void acme_post_end(acme_post *q) {
    iotca_jws_free(&q->jws);
    iotca_acme_account_rec_free(&q->account);
}

json_t *acme_account_json(request *r, const char *profile, const iotca_acme_account_rec *a) {
    char orders[512];
    acme_url(r, profile, orders, sizeof orders, "account/%lld/orders", (long long)a->id);
    json_t *contact = json_loads(a->contact, 0, NULL);
    if (!json_is_array(contact)) {
        json_decref(contact);
        contact = json_array();
    }
    return json_pack("{s:s, s:o, s:s}", "status", iotca_acme_status_name(a->status), "contact", contact, "orders",
                     orders);
}
