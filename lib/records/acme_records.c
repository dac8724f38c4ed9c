/* The ACME records of lib/records: status and challenge type names, and freeing. */
#include <stdlib.h>
#include <string.h>

#include "iotca/acme_records.h"

static const char *const status_names[] = {
    [IOTCA_ACME_PENDING] = "pending",         [IOTCA_ACME_READY] = "ready",     [IOTCA_ACME_PROCESSING] = "processing",
    [IOTCA_ACME_VALID] = "valid",             [IOTCA_ACME_INVALID] = "invalid", [IOTCA_ACME_DEACTIVATED] = "deactivated",
    [IOTCA_ACME_EXPIRED] = "expired",         [IOTCA_ACME_REVOKED] = "revoked",
};
static const char *const type_names[] = {
    [IOTCA_ACME_HTTP_01] = "http-01", [IOTCA_ACME_DNS_01] = "dns-01", [IOTCA_ACME_TLS_ALPN_01] = "tls-alpn-01"};

#define COUNT(a) ((int)(sizeof a / sizeof a[0]))

const char *iotca_acme_status_name(iotca_acme_status s) {
    return (int)s >= 0 && (int)s < COUNT(status_names) ? status_names[s] : "unknown";
}

bool iotca_acme_status_parse(const char *name, iotca_acme_status *out) {
    for (int i = 0; name && i < COUNT(status_names); i++)
        if (strcmp(name, status_names[i]) == 0) {
            *out = (iotca_acme_status)i;
            return true;
        }
    return false;
}

const char *iotca_acme_challenge_type_name(iotca_acme_challenge_type t) {
    return (int)t >= 0 && (int)t < COUNT(type_names) ? type_names[t] : "unknown";
}

bool iotca_acme_challenge_type_parse(const char *name, iotca_acme_challenge_type *out) {
    for (int i = 0; name && i < COUNT(type_names); i++)
        if (strcmp(name, type_names[i]) == 0) {
            *out = (iotca_acme_challenge_type)i;
            return true;
        }
    return false;
}

void iotca_acme_eab_rec_free(iotca_acme_eab_rec *r) {
    if (r) iotca_buf_free(&r->secret);
}

void iotca_acme_account_rec_free(iotca_acme_account_rec *r) {
    if (r) iotca_buf_free(&r->spki);
}

void iotca_acme_order_rec_free(iotca_acme_order_rec *r) {
    if (r == NULL) return;
    free(r->identifiers);
    r->identifiers = NULL;
}
