/* The ACME handlers (RFC 8555; SPEC §9): one directory per profile at /acme/{profile}/..., routed by
 * server/routes.c. Each turns HTTP into calls on the CA's ACME service (iotca/ca_acme.h) and its answers into
 * RFC 8555 resources and problem documents (RFC 7807); JWS parsing is lib/acme's. */
#ifndef IOTCAD_ACME_H
#define IOTCAD_ACME_H

#include "http.h"
#include "iotca/ca_acme.h"

/* directory.c: GET /acme/{profile}/directory; HEAD, GET /acme/{profile}/new-nonce */
void acme_directory(request *r, const char *const *p, response *out);
void acme_new_nonce(request *r, const char *const *p, response *out);
/* GET /acme/{profile}/renewal-info/{certID} (RFC 9773) */
void acme_renewal_info(request *r, const char *const *p, response *out);
/* account.c: POST new-account, account/{id}, account/{id}/orders */
void acme_new_account(request *r, const char *const *p, response *out);
void acme_account(request *r, const char *const *p, response *out);
void acme_account_orders(request *r, const char *const *p, response *out);
void acme_key_change(request *r, const char *const *p, response *out); /* §7.3.5 */
/* order.c: POST new-order, order/{id}, order/{id}/finalize, authz/{id}, chall/{id}, cert/{serial} */
/* revoke.c: POST revoke-cert (§7.6), signed by the account that ordered the certificate or by its own key */
void acme_revoke_cert(request *r, const char *const *p, response *out);
void acme_new_order(request *r, const char *const *p, response *out);
void acme_order(request *r, const char *const *p, response *out);
void acme_finalize(request *r, const char *const *p, response *out);
void acme_authz(request *r, const char *const *p, response *out);
void acme_challenge(request *r, const char *const *p, response *out);
void acme_cert(request *r, const char *const *p, response *out);

/* A challenge validator to use instead of lib/validate's with the config's acme.validation (fuzz_api sets one that
 * makes no connection); NULL in iotcad. */
extern iotca_acme_validator acme_validator;
extern void *acme_validator_ctx;

/* ---- shared by the handlers (common.c) ---- */

/* One POST's envelope, checked: the profile of the path, the JWS, and (a kid request) the account. */
typedef struct acme_post {
    const char *profile;
    bool eab_required;
    iotca_jws jws;
    iotca_acme_account_rec account; /* id 0 for a jwk request */
    char url[512];                  /* the URL this request was sent to */
} acme_post;

/* The profile of the path if it has an ACME directory (else out holds a 404 problem and NULL is returned). */
const char *acme_profile(request *r, const char *const *p, response *out, bool *eab_required);
/* An absolute URL of profile's directory tree: base_url "/acme/" profile then the printf-formatted path. */
void acme_url(request *r, const char *profile, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Reads and checks a POST (RFC 8555 §6.2-6.4): Content-Type application/jose+json, a JWS lib/acme parses, a
 * jwk (ACME_JWK: newAccount), a kid naming an account of this profile (ACME_KID), or either (revokeCert), the url
 * (base_url and the request's path), the nonce, the signature. False: out holds the problem. */
typedef enum acme_signer { ACME_KID, ACME_JWK, ACME_KID_OR_JWK } acme_signer;
bool acme_post_begin(request *r, const char *const *p, response *out, acme_signer signer, acme_post *q);
void acme_post_end(acme_post *q);
/* A problem document (RFC 7807, RFC 8555 §6.7) from a library failure: the type from its detail's prefix
 * ("badNonce: ...") or its category, the status from the type; storage and internal details go to the log. */
void acme_problem_rc(request *r, response *out, const char *profile, iotca_rc rc);
void acme_problem(request *r, response *out, const char *profile, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same with a status of the caller's (404 for a renewalInfo certID this CA never issued). */
void acme_problem_status(request *r, response *out, const char *profile, unsigned status, const char *type,
                         const char *detail);
/* The route table's refuse for ACME routes: the engine's own refusals (a body over limits.max_body_bytes, a
 * method the resource does not take, a bad header) as problem documents of type malformed (serverInternal for a
 * 5xx), with the status and detail the engine chose, and a fresh nonce when the path names a served profile. */
void acme_refuse(request *r, response *out, unsigned status, const char *code, const char *detail);
/* Answers with an ACME resource (consumed): status, JSON, the Replay-Nonce and index Link every answer carries,
 * and a Location when location is not NULL. */
void acme_respond(request *r, response *out, const char *profile, unsigned status, json_t *doc, const char *location);
/* The Replay-Nonce and Link: <directory>;rel="index" headers (every ACME answer has them, §6.5, §7.1). */
void acme_headers(request *r, response *out, const char *profile);
/* An account's resource (§7.1.2). */
json_t *acme_account_json(request *r, const char *profile, const iotca_acme_account_rec *a);

#endif
