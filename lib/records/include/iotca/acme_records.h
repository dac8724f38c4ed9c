/* The ACME records (RFC 8555 §7.1: accounts, orders, authorizations, challenges, and the External Account Binding
 * keys of §7.3.4) the store keeps and the CA service hands its callers. Plain data; no database here. */
#ifndef IOTCA_ACME_RECORDS_H
#define IOTCA_ACME_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "iotca/buf.h"

/* Statuses, spelled as RFC 8555 §7.1.6 does ("pending", "ready", ...). */
typedef enum iotca_acme_status {
    IOTCA_ACME_PENDING,
    IOTCA_ACME_READY,      /* orders */
    IOTCA_ACME_PROCESSING, /* orders, challenges */
    IOTCA_ACME_VALID,
    IOTCA_ACME_INVALID,
    IOTCA_ACME_DEACTIVATED, /* accounts, authorizations */
    IOTCA_ACME_EXPIRED,     /* authorizations */
    IOTCA_ACME_REVOKED,     /* accounts, authorizations */
} iotca_acme_status;
const char *iotca_acme_status_name(iotca_acme_status s);
bool iotca_acme_status_parse(const char *name, iotca_acme_status *out);

typedef struct iotca_acme_eab_rec {
    char kid[64];
    char profile[64];
    iotca_buf secret;       /* as the CA service stores it (encrypted); a secret buffer */
    uint8_t secret_hash[32]; /* SHA-256 of the raw HMAC key */
    time_t created_at, revoked_at; /* revoked_at 0: not revoked */
    int64_t account_id;            /* 0: not used yet */
} iotca_acme_eab_rec;
void iotca_acme_eab_rec_free(iotca_acme_eab_rec *r);

typedef struct iotca_acme_account_rec {
    int64_t id;
    uint8_t thumbprint[32]; /* RFC 7638 */
    iotca_buf spki;         /* DER */
    iotca_acme_status status;
    char contact[1024]; /* JSON array text */
    char profile[64];
    char eab_kid[64]; /* "" if made without EAB */
    time_t created_at;
} iotca_acme_account_rec;
void iotca_acme_account_rec_free(iotca_acme_account_rec *r);

typedef enum iotca_acme_challenge_type {
    IOTCA_ACME_HTTP_01,
    IOTCA_ACME_DNS_01,
    IOTCA_ACME_TLS_ALPN_01,
} iotca_acme_challenge_type;
const char *iotca_acme_challenge_type_name(iotca_acme_challenge_type t);
bool iotca_acme_challenge_type_parse(const char *name, iotca_acme_challenge_type *out);

typedef struct iotca_acme_challenge_rec {
    int64_t id, authz_id;
    iotca_acme_challenge_type type;
    char token[64]; /* base64url, at least 128 bits of entropy (RFC 8555 §8.3) */
    iotca_acme_status status;
    time_t validated_at; /* 0 if not */
    char error[1024];    /* problem document JSON, "" if none */
} iotca_acme_challenge_rec;

#define IOTCA_ACME_MAX_CHALLENGES 3
typedef struct iotca_acme_authz_rec {
    int64_t id, order_id;
    char type[8];    /* "dns" or "ip" */
    char value[256]; /* the name (without "*." for a wildcard) or address */
    bool wildcard;
    iotca_acme_status status;
    time_t expires_at;
    iotca_acme_challenge_rec challenges[IOTCA_ACME_MAX_CHALLENGES];
    size_t n_challenges;
} iotca_acme_authz_rec;

typedef struct iotca_acme_order_rec {
    int64_t id, account_id;
    char profile[64];
    iotca_acme_status status;
    char *identifiers; /* JSON array text, malloc'd */
    time_t not_before, not_after; /* 0 if the client asked none */
    time_t expires_at, created_at;
    char error[1024];  /* problem document JSON when invalid, "" otherwise */
    char serial[41];   /* the certificate once valid, "" before */
    char replaces[256]; /* RFC 9773 certificate identifier, "" if none */
} iotca_acme_order_rec;
void iotca_acme_order_rec_free(iotca_acme_order_rec *r);

#endif
