/* The records of lib/records: freeing them, and the names of issuer states. */
#include <stdlib.h>
#include <string.h>

#include "iotca/records.h"

static const char *const state_names[] = {
    [IOTCA_ISSUER_PENDING] = "pending", [IOTCA_ISSUER_STAGED] = "staged",   [IOTCA_ISSUER_ACTIVE] = "active",
    [IOTCA_ISSUER_RETIRING] = "retiring", [IOTCA_ISSUER_RETIRED] = "retired",
    [IOTCA_ISSUER_ABANDONED] = "abandoned",
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

/* A staged issuer always goes before a pending one: it is signed and dated, a pending one may never be. */
static bool next_before(const iotca_issuer_rec *a, const iotca_issuer_rec *b) {
    if (a->state != b->state) return a->state == IOTCA_ISSUER_STAGED;
    time_t ta = a->state == IOTCA_ISSUER_STAGED ? a->activate_at : a->created_at;
    time_t tb = b->state == IOTCA_ISSUER_STAGED ? b->activate_at : b->created_at;
    return ta != tb ? ta < tb : a->id < b->id;
}

long iotca_issuer_next(const iotca_issuer_rec *list, size_t n) {
    long best = -1;
    for (size_t i = 0; i < n; i++) {
        if (list[i].state != IOTCA_ISSUER_STAGED && list[i].state != IOTCA_ISSUER_PENDING) continue;
        if (best < 0 || next_before(&list[i], &list[best])) best = (long)i;
    }
    return best;
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

void iotca_rehearsal_leaf_rec_free(iotca_rehearsal_leaf_rec *r) {
    if (r == NULL) return;
    iotca_buf_free(&r->der);
    memset(r, 0, sizeof *r);
}

void iotca_trust_profile_rec_free(iotca_trust_profile_rec *r) {
    iotca_buf_free(&r->pem);
    memset(r, 0, sizeof *r);
}
