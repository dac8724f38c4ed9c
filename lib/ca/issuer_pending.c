/* Pending issuers (SPEC §3: key and CSR made, awaiting the ceremony): their CSR handed out again, and abandoning
 * one that will never be signed (its key wiped, its row kept as `abandoned`, the audit trail told). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"
#include "iotca/pem.h"

/* The issuer's record, *found false when there is none ("no issuer N" from the store). */
static iotca_rc load(iotca_store *s, int64_t id, iotca_issuer_rec *rec, bool *found) {
    *found = false;
    iotca_rc rc = iotca_store_issuer_get(s, id, rec);
    if (rc == IOTCA_E_USAGE && strncmp(iotca_error_detail(), "no issuer", 9) == 0) return IOTCA_OK;
    IOTCA_GUARD(rc);
    *found = true;
    return IOTCA_OK;
}

iotca_rc iotca_ca_issuer_csr(iotca_ca *ca, int64_t id, iotca_issuer_rec *rec, iotca_buf *csr_pem, bool *found) {
    memset(rec, 0, sizeof *rec);
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    IOTCA_GUARD(load(s, id, rec, found));
    if (!*found) return IOTCA_OK;
    IOTCA_ENSURE(rec->state == IOTCA_ISSUER_PENDING, IOTCA_E_POLICY,
                 "issuer %lld is %s: only a pending issuer's CSR is handed out for signing", (long long)id,
                 iotca_issuer_state_name(rec->state));
    return iotca_pem_encode("CERTIFICATE REQUEST", rec->csr.data, rec->csr.len, csr_pem);
}

/* The abandonment and its audit record, in one group transaction. */
typedef struct abandon {
    int64_t id;
    const char *actor, *request_id, *name, *group, *key_ref;
} abandon;

static iotca_rc abandon_write(iotca_store *s, void *arg) {
    const abandon *a = arg;
    IOTCA_GUARD(iotca_store_issuer_abandon(s, a->id, time(NULL)));
    iotca_audit_rec r;
    char subject[64], detail[256];
    snprintf(subject, sizeof subject, "issuer %lld", (long long)a->id);
    snprintf(detail, sizeof detail, "name %s, group %s; its key %s: %.160s", a->name, a->group,
             ca_key_ref_on_token(a->key_ref) ? "is destroyed on the token" : "file is wiped and removed",
             a->key_ref);
    ca_audit_fill(&r, a->actor && *a->actor ? a->actor : "anonymous", "issuer.abandon", subject,
                  a->request_id && *a->request_id ? a->request_id : "-", "abandoned", detail);
    return ca_audit_append(s, &r);
}

iotca_rc iotca_ca_issuer_abandon(iotca_ca *ca, int64_t id, const char *actor, const char *request_id, bool *found) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_issuer_rec rec = {0};
    IOTCA_GUARD(load(s, id, &rec, found));
    iotca_rc rc = IOTCA_OK;
    if (!*found) goto out;
    /* refused here with the state named; the write checks again inside its transaction */
    IOTCA_CHECK(rec.state == IOTCA_ISSUER_PENDING, IOTCA_E_POLICY,
                "issuer %lld is %s; only a pending issuer (its certificate never imported) can be abandoned",
                (long long)id, iotca_issuer_state_name(rec.state));
    abandon a = {id, actor, request_id, rec.name, rec.group, rec.key_ref};
    IOTCA_TRY(iotca_store_group_write(ca->group, s, abandon_write, &a));
    /* recorded first: a crash before the wipe leaves an encrypted key file no issuer uses, never an issuer
     * that is still pending without its key */
    rc = ca_key_discard(ca, rec.key_ref);
    if (rc != IOTCA_OK) {
        char why[384];
        snprintf(why, sizeof why, "%s", iotca_error_detail()); /* the detail buffer is about to be rewritten */
        rc = iotca_error_set(rc, "issuer %lld is abandoned, but %s", (long long)id, why);
    }
out:
    iotca_issuer_rec_free(&rec);
    return rc;
}
