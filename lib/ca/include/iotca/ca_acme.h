/* The ACME service (RFC 8555; SPEC §9; issue 21): what server/acme/ asks of the CA, over the store's ACME state,
 * the profiles and the issuance cycle. URLs are the server's business: accounts, orders, authorizations and
 * challenges are named here by their ids. A refusal a client is told has a detail that starts with the RFC 8555
 * §6.7 error type and a colon ("badNonce: ...", "rejectedIdentifier: ..."), as lib/acme's do, so the handler can
 * put it in a problem document; IOTCA_E_STORAGE and IOTCA_E_INTERNAL are the server's own failures. */
#ifndef IOTCA_CA_ACME_H
#define IOTCA_CA_ACME_H

#include "iotca/acme_records.h"
#include "iotca/ca.h"
#include "iotca/jws.h"

/* ---- nonces (§7.2) ---- */
#define IOTCA_ACME_NONCE_LEN 22 /* base64url of 16 CSPRNG bytes */
#define IOTCA_ACME_NONCE_TTL 3600
/* A fresh nonce, recorded for an hour. */
iotca_rc iotca_ca_acme_nonce(iotca_ca *ca, char out[IOTCA_ACME_NONCE_LEN + 1]);

/* ---- External Account Binding keys (§7.3.4) ---- */
/* A new key for profile: kid "eab-" and 16 hex digits, and the HMAC key (32 bytes, base64url in hmac_key) shown
 * once. The store keeps only the key's SHA-256: the key itself is HMAC-SHA256 of the kid under a secret derived
 * from the daemon's key passphrase (PBKDF2), made again when an account is made with it. */
typedef struct iotca_acme_eab_key {
    char kid[64];
    char hmac_key[48];
    char profile[64];
} iotca_acme_eab_key;
/* IOTCA_E_USAGE for a profile not configured. Audited (actor: who asked). */
iotca_rc iotca_ca_acme_eab_create(iotca_ca *ca, const char *profile, const char *actor, iotca_acme_eab_key *out);
/* Every key, without secrets; *out malloc'd (free() it). */
iotca_rc iotca_ca_acme_eab_list(iotca_ca *ca, iotca_acme_eab_rec **out, size_t *n);
/* IOTCA_E_USAGE unknown, IOTCA_E_POLICY revoked already. Audited. */
iotca_rc iotca_ca_acme_eab_revoke(iotca_ca *ca, const char *kid, const char *actor);

/* ---- requests (§6.2, §6.3) ---- */
/* Checks a request's JWS envelope for the resource at `url`: the url in its protected header ("unauthorized"),
 * its nonce, used up ("badNonce"), and its signer. account_id > 0 (a "kid" request): that account, valid
 * ("accountDoesNotExist", "unauthorized"), its stored key verifying the signature; *account filled (free with
 * iotca_acme_account_rec_free). account_id == 0 (a "jwk" request, newAccount and revokeCert): the jwk verifies,
 * *account left empty. The caller has checked that kid and jwk are as the resource wants ("malformed"). */
iotca_rc iotca_ca_acme_check(iotca_ca *ca, const iotca_jws *j, const char *url, int64_t account_id,
                             iotca_acme_account_rec *account);

/* ---- accounts (§7.3) ---- */
typedef struct iotca_acme_account_req {
    const char *profile;      /* the directory's profile */
    const char *contact_json; /* JSON array text ("[]" if none) */
    bool only_existing;       /* onlyReturnExisting */
    bool eab_required;        /* the profile says so */
    iotca_slice eab_json;     /* externalAccountBinding as raw JSON; empty if none */
    const char *url;          /* the newAccount URL (the EAB's protected url must be it) */
} iotca_acme_account_req;
/* newAccount with a checked jwk request: the account of j's key if there is one (*created false), else a new one
 * (created true) for req->profile, bound to its EAB key: a missing binding where one is required
 * ("externalAccountRequired"), an unknown, revoked or used kid, a key of another profile or a wrong MAC
 * ("unauthorized"), onlyReturnExisting without an account ("accountDoesNotExist"). */
iotca_rc iotca_ca_acme_account_new(iotca_ca *ca, const iotca_jws *j, const iotca_acme_account_req *req,
                                   iotca_acme_account_rec *out, bool *created);
/* Key rollover (§7.3.5) for the (checked) account: inner is the payload's JWS, signed by the new key (jwk, no nonce,
 * url == url), whose payload names the account (account_url) and its current key (oldKey, compared as a JWK). A new
 * key another account has: "conflict" (*other its id). Failures: "malformed", "unauthorized". */
iotca_rc iotca_ca_acme_key_change(iotca_ca *ca, const iotca_acme_account_rec *account, const char *account_url,
                                  const char *url, iotca_slice inner, int64_t *other);
/* Updates contact (NULL: kept) and/or deactivates (§7.3.6). */
iotca_rc iotca_ca_acme_account_update(iotca_ca *ca, int64_t id, const char *contact_json, bool deactivate);

/* ---- orders (§7.4) ---- */
#define IOTCA_ACME_MAX_IDENTIFIERS 100
#define IOTCA_ACME_ORDER_TTL (7 * 86400)
#define IOTCA_ACME_AUTHZ_TTL (7 * 86400)
typedef struct iotca_acme_identifier {
    char type[8];    /* "dns" (others refused: "unsupportedIdentifier") */
    char value[256];
} iotca_acme_identifier;
/* newOrder for the (checked, valid) account of directory `profile`, issued under `variant` (an ACME profile the
 * directory offers: another configured iotca profile; NULL or profile itself: the directory's): each identifier
 * under that profile's rules ("rejectedIdentifier", naming the rule), at most IOTCA_ACME_MAX_IDENTIFIERS
 * ("rejectedIdentifier"); one authorization per name with an http-01, a dns-01 and a tls-alpn-01 challenge (random
 * 128-bit tokens). *out (free with iotca_acme_order_rec_free); its profile is the one it will be issued under. */
iotca_rc iotca_ca_acme_order_new(iotca_ca *ca, const iotca_acme_account_rec *account, const char *profile,
                                 const char *variant, const iotca_acme_identifier *ids, size_t n, const char *replaces,
                                 iotca_acme_order_rec *out);
/* An order, authorization or challenge of this account ("unauthorized" if another's; IOTCA_E_USAGE unknown). */
iotca_rc iotca_ca_acme_order_get(iotca_ca *ca, int64_t account_id, int64_t id, iotca_acme_order_rec *out);
iotca_rc iotca_ca_acme_order_authzs(iotca_ca *ca, int64_t order_id, iotca_acme_authz_rec **out, size_t *n);
iotca_rc iotca_ca_acme_authz_get(iotca_ca *ca, int64_t account_id, int64_t id, iotca_acme_authz_rec *out);
/* Deactivates an authorization of this account (§7.5.2; its order then invalid). */
iotca_rc iotca_ca_acme_authz_deactivate(iotca_ca *ca, int64_t account_id, int64_t id);
iotca_rc iotca_ca_acme_order_list(iotca_ca *ca, int64_t account_id, int64_t **ids, size_t *n);

/* Whether certificate serial came from an order of this account (§7.4.2: the account fetches its certificate):
 * IOTCA_OK, "unauthorized" for another account's, IOTCA_E_USAGE for one no ACME order made. */
iotca_rc iotca_ca_acme_cert_owner(iotca_ca *ca, int64_t account_id, const char *serial);

/* ---- ARI (RFC 9773): when a client should renew ---- */
/* The suggested renewal window of the certificate a renewalInfo certID names (§4.1: the issuer's key identifier,
 * AKI, and the serial's DER integer bytes, each as decoded from base64url), at `now`. From its validity (the
 * middle of its last third: 2/3 to 5/6 of its life), moved by the CA's own schedule: revoked, renew now (a window
 * that has begun); its issuer no longer the active one of its group, renew within the coming week; a staged
 * successor activating before the window, renew right after that activation, onto the new chain, and before the
 * certificate ends; a configured cross-certificate of its root ending before the window, the same at its end. IOTCA_E_USAGE for a certID that names no certificate of this CA (the AKI must match too). */
iotca_rc iotca_ca_acme_renewal_window(iotca_ca *ca, iotca_slice aki, iotca_slice serial, time_t now, time_t *start,
                                      time_t *end);

/* An order's `replaces` (RFC 9773 §5): a certID of a certificate this account ordered ("malformed" otherwise)
 * that no other order replaces yet ("alreadyReplaced"). iotca_ca_acme_order_new checks it and records it. */
iotca_rc iotca_ca_acme_replaces_check(iotca_ca *ca, int64_t account_id, const char *cert_id);

/* Which ACME account and order made certificate serial, for the inventory: IOTCA_E_USAGE if none did. */
iotca_rc iotca_ca_acme_cert_origin(iotca_ca *ca, const char *serial, int64_t *account_id, int64_t *order_id);

/* ---- challenges (§7.5.1, §8) ---- */
/* Checks one challenge: `identifier` (a DNS name) must answer `key_authorization` for `token` the way `type` says
 * (http-01: the body of http://identifier/.well-known/acme-challenge/token; dns-01: a TXT record at
 * _acme-challenge.identifier with its SHA-256, base64url). IOTCA_OK, or a failure whose detail starts with the
 * ACME error type ("connection: ...", "dns: ...", "incorrectResponse: ...", "rejectedIdentifier: ..." for an
 * address the config does not allow). Set by iotcad (lib/validate); tests may pass their own. */
typedef iotca_rc (*iotca_acme_validator)(void *ctx, iotca_acme_challenge_type type, const char *identifier,
                                         const char *token, const char *key_authorization);
/* The client asks for the challenge to be checked (§7.5.1): pending -> processing, checked by `validate` now, and
 * the result recorded with its authorization and order (store_acme.h). *out is the challenge after it. A
 * challenge of another account: "unauthorized"; one not pending: "malformed" naming its status. */
iotca_rc iotca_ca_acme_challenge_respond(iotca_ca *ca, const iotca_acme_account_rec *account, int64_t id,
                                         iotca_acme_validator validate, void *ctx, iotca_acme_challenge_rec *out);

/* finalize (§7.4): the order ready, the CSR's names exactly the order's identifiers ("badCSR", naming the
 * difference), issued under the order's profile (a profile refusal: "badCSR: profile P: rule R: ..."), the order
 * valid with its serial. A second finalize of a processing or valid order: "orderNotReady". audit: who asked. */
iotca_rc iotca_ca_acme_finalize(iotca_ca *ca, const iotca_acme_account_rec *account, int64_t order_id,
                                iotca_slice csr_der, const iotca_issue_audit *audit, iotca_acme_order_rec *out);

#endif
