/* The records of lib/records: freeing them, and the names of issuer states. */
#include <stdlib.h>
#include <string.h>

#include "iotca/records.h"

static const char *const state_names[] = {
    [IOTCA_ISSUER_PENDING] = "pending", [IOTCA_ISSUER_STAGED] = "staged",   [IOTCA_ISSUER_ACTIVE] = "active",
    [IOTCA_ISSUER_RETIRING] = "retiring", [IOTCA_ISSUER_RETIRED] = "retired",
};
#define STATE_COUNT ((int)(sizeof state_names / sizeof state_names[0]))

const char *iotca_issuer_state_name(iotca_issuer_state st) {
    return (int)st >= 0 && (int)st < STATE_COUNT ? state_names[st] : "invalid";
}

bool iotca_issuer_state_parse(const char *name, iotca_issuer_state *out) {
    for (int i = 0; i < STATE_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0) {
            *out = (iotca_issuer_state)i;
            return true;
        }
    return false;
}

void iotca_issuer_rec_free(iotca_issuer_rec *r) {
    if (r == NULL) return;
    iotca_buf_free(&r->csr);
    iotca_buf_free(&r->cert);
    memset(r, 0, sizeof *r);
}

void iotca_issuer_recs_free(iotca_issuer_rec *list, size_t n) {
    for (size_t i = 0; list && i < n; i++) iotca_issuer_rec_free(&list[i]);
    free(list);
}

void iotca_cert_rec_free(iotca_cert_rec *r) {
    if (r == NULL) return;
    iotca_buf_free(&r->der);
    memset(r, 0, sizeof *r);
}

void iotca_trust_profile_rec_free(iotca_trust_profile_rec *r) {
    iotca_buf_free(&r->pem);
    memset(r, 0, sizeof *r);
}
