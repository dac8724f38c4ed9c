/* The records the CA hands its callers (issuers, certificates, trust profiles, CRLs): plain data shared by
 * the store, which persists them, and the CA service, which returns them, so a caller of lib/ca reads them
 * without reaching the store. No functions here touch a database. */
#ifndef IOTCA_RECORDS_H
#define IOTCA_RECORDS_H

#include <stdint.h>
#include <time.h>

#include "iotca/buf.h"

typedef enum iotca_issuer_state {
    IOTCA_ISSUER_PENDING,  /* key + CSR exist, awaiting the ceremony */
    IOTCA_ISSUER_STAGED,   /* certificate imported, activation ahead */
    IOTCA_ISSUER_ACTIVE,   /* issues new leaves; one per group */
    IOTCA_ISSUER_RETIRING, /* no new leaves, still published */
    IOTCA_ISSUER_RETIRED,
    IOTCA_ISSUER_ABANDONED, /* was pending; its key wiped, never signed (DELETE /v1/issuers/{id}); final */
} iotca_issuer_state;
const char *iotca_issuer_state_name(iotca_issuer_state st);
/* The state named (as iotca_issuer_state_name spells it); false for any other text. */
bool iotca_issuer_state_parse(const char *name, iotca_issuer_state *out);

typedef struct iotca_issuer_rec {
    int64_t id;
    char name[64];
    char group[64];
    iotca_issuer_state state;
    char key_ref[512];
    iotca_buf csr;  /* DER */
    iotca_buf cert; /* DER; empty while pending */
    time_t not_before, not_after; /* 0 while pending */
    time_t activate_at;           /* 0 if none scheduled */
    time_t created_at, updated_at;
} iotca_issuer_rec;
void iotca_issuer_rec_free(iotca_issuer_rec *r);
/* Which of the n issuers is the *next* one, the change an operator waits for: the staged issuer activating
 * soonest (ties: the lower id); with none staged, the oldest pending one. -1 when there is neither. */
long iotca_issuer_next(const iotca_issuer_rec *list, size_t n);
/* Frees each of the n records of a list and the list (as the store and the CA hand them out); NULL is ignored. */
void iotca_issuer_recs_free(iotca_issuer_rec *list, size_t n);

typedef struct iotca_cert_rec {
    char serial[41]; /* lowercase hex */
    int64_t issuer_id;
    char profile[64];
    char subject[256];
    iotca_buf der;
    time_t not_before, not_after, created_at;
    bool revoked;
    time_t revoked_at;
    int reason; /* iotca_reason */
    char renews[41];     /* the serial this certificate renews (schema 0018); "" for a fresh issuance */
    char renewed_by[41]; /* the latest certificate renewing this one; "" if none (filled by lookups, not lists) */
} iotca_cert_rec;
void iotca_cert_rec_free(iotca_cert_rec *r);

/* A bridge certificate (schema 0020): issued from a retiring issuer for devices that pinned it, with who asked
 * and why; listed until it expires. */
typedef struct iotca_bridge_rec {
    char serial[41];
    int64_t issuer_id;
    char profile[64];        /* the certificate's (filled by lists) */
    char justification[201]; /* 1 to 200 bytes: it fits the audit record's detail */
    char actor[64];
    time_t not_after, created_at;
    bool revoked; /* the certificate's status (filled by lists) */
} iotca_bridge_rec;

/* A rehearsal leaf (schema 0021, issue 24): a short-lived certificate that a rehearsal endpoint presents so a
 * bench device can try a chain before the fleet meets it. Never in the certificate inventory; its serial is
 * reserved in the issuer's serial space like any other (issuer_id 0: the rehearsal lab hierarchy, which is no
 * issuer of this CA and reserves nothing). */
typedef struct iotca_rehearsal_leaf_rec {
    char serial[41];
    char scenario[48];
    int64_t issuer_id;
    time_t not_before, not_after, created_at;
    iotca_buf der; /* the certificate (lists leave it empty) */
} iotca_rehearsal_leaf_rec;
void iotca_rehearsal_leaf_rec_free(iotca_rehearsal_leaf_rec *r);

/* What a device, or the engineer holding it, said about a rehearsal scenario (schema 0021). */
typedef struct iotca_rehearsal_result_rec {
    int64_t id;
    char scenario[48];
    char trust_profile[64]; /* a registered trust profile's name */
    int64_t issuer_id;      /* the issuer whose chain the scenario presented then (0: the lab hierarchy) */
    char serial[41];        /* the leaf it presented then */
    bool accepted;          /* the device completed the handshake ("ok") or refused it ("failed") */
    bool passed;            /* what a correct device does: accept current, next and changes, refuse the failures */
    char source[16];        /* "report" (POST .../results) or "handshake" (the endpoint saw the request) */
    char actor[64];
    char note[201];
    time_t at;
} iotca_rehearsal_result_rec;

typedef struct iotca_cert_filter {
    const char *profile;   /* NULL: any */
    int status;            /* -1 any, 0 valid, 1 revoked */
    time_t expires_before; /* 0: any */
    const char *after;     /* cursor: serials strictly greater than this; NULL from the start */
    size_t limit;          /* 1..1000 */
    /* text search (the dashboard's): certificates whose subject holds it (any case) or whose DER holds its bytes
     * (lowercased), 1 to 128 bytes; the CA then keeps those whose subject or SANs hold it. NULL: any */
    const char *text;
} iotca_cert_filter;

/* A count for one week (and profile) of the dashboard's counts over time (issue 27). */
typedef enum iotca_weekly { IOTCA_WEEKLY_ISSUED, IOTCA_WEEKLY_REVOKED, IOTCA_WEEKLY_EXPIRING } iotca_weekly;
typedef struct iotca_week_count {
    size_t week;      /* weeks after the start asked for */
    char profile[64]; /* IOTCA_WEEKLY_EXPIRING: the certificates' profile; "" otherwise */
    unsigned long n;
} iotca_week_count;

typedef struct iotca_trust_profile_rec {
    int64_t id;
    char name[64];
    char stack[16];
    time_t until, created_at;
    iotca_buf pem; /* the device trust store, PEM */
} iotca_trust_profile_rec;
void iotca_trust_profile_rec_free(iotca_trust_profile_rec *r);

/* An override of rotation preflight: why, when, by whom, and the broken profiles, one per line
 * ("<profile>\t<YYYY-MM-DD>\t<reason>"). The hash-chained audit trail holds the same. */
typedef struct iotca_override_rec {
    char justification[256];
    char actor[64];
    char findings[4096];
    time_t at;
} iotca_override_rec;

typedef struct iotca_crl_rec {
    uint64_t number;
    time_t this_update, next_update;
    iotca_buf der;    /* root CRLs: the DER. Issuer CRLs: empty (the body is a file; see iotca_ca_crl_open) */
    uint64_t size;    /* issuer CRLs: bytes of the DER file */
    uint64_t entries; /* issuer CRLs: revoked certificates listed */
    int64_t covers;   /* issuer CRLs: the issuer's revocation count (iotca_store_crl_revocations) its entries cover */
} iotca_crl_rec;

/* An API token as the store keeps it and `iotcad token list` shows it: never its secret, nor the secret's hash.
 * expires_at, revoked_at and last_used_at are 0 for "never"; last_used_at lags by up to a tick (the tick
 * writes what requests remembered in memory, lib/ca/tick.c). */
typedef struct iotca_token_info {
    char id[33];
    char role[16];       /* "admin" or "provisioner" */
    char profiles[1024]; /* comma-separated; "" means every profile */
    time_t created_at, expires_at, revoked_at, last_used_at;
} iotca_token_info;

/* One record of the hash-chained audit trail (who did what, when, under which request id, and what came of
 * it), as the store keeps it and `iotcad audit show` prints it. */
typedef struct iotca_audit_rec {
    int64_t seq;
    time_t at;
    char actor[64], action[64], subject[256], request_id[32], outcome[32], detail[256];
    uint8_t prev[32], hash[32];
} iotca_audit_rec;

#endif
