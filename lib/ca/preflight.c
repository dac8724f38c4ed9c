/* Rotation preflight (SPEC §7): before an issuer is scheduled or activated, the chain the CA will serve is
 * checked against every device trust store registered in the field, as that fleet's TLS stack validates it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"
#include "iotca/fleet.h"
#include "iotca/pem.h"

#define MAX_STORE 64
#define MAX_SCHEDULE 16

void ca_set_held(iotca_ca *ca, int64_t id, bool held) {
    pthread_mutex_lock(&ca->lock);
    size_t i = 0;
    while (i < ca->n_held && ca->held[i] != id) i++;
    if (held && i == ca->n_held && ca->n_held < CA_MAX_ISSUERS) ca->held[ca->n_held++] = id;
    if (!held && i < ca->n_held) ca->held[i] = ca->held[--ca->n_held];
    pthread_mutex_unlock(&ca->lock);
}

bool ca_is_held(iotca_ca *ca, int64_t id) {
    pthread_mutex_lock(&ca->lock);
    bool found = false;
    for (size_t i = 0; i < ca->n_held && !found; i++) found = ca->held[i] == id;
    pthread_mutex_unlock(&ca->lock);
    return found;
}

iotca_rc iotca_ca_trust_profiles(iotca_ca *ca, iotca_trust_profile_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_trust_profile_list(s, out, n);
}

static iotca_rc store_certs(const char *pem, size_t len, iotca_buf *der, size_t *n) {
    iotca_slice in = iotca_slice_of(pem, len);
    *n = 0;
    while (*n < MAX_STORE && iotca_pem_next(&in, "CERTIFICATE", &der[*n], NULL) == IOTCA_OK) (*n)++;
    IOTCA_ENSURE(*n > 0, IOTCA_E_PARSE, "the trust store holds no PEM certificate");
    return IOTCA_OK;
}

iotca_rc iotca_ca_trust_profile_add(iotca_ca *ca, const char *name, const char *pem, const char *stack, time_t until,
                                    int64_t *id) {
    iotca_stack st;
    IOTCA_GUARD(iotca_stack_parse(stack, &st));
    IOTCA_ENSURE(name && *name && strlen(name) < 64, IOTCA_E_USAGE, "a trust profile needs a name under 64 characters");
    IOTCA_ENSURE(until > time(NULL), IOTCA_E_USAGE, "the end of life must be in the future");
    iotca_buf der[MAX_STORE] = {{0}};
    size_t n = 0;
    iotca_rc rc = store_certs(pem, strlen(pem), der, &n);
    for (size_t i = 0; i < n && rc == IOTCA_OK; i++) { /* every certificate must parse */
        iotca_cert *c = NULL;
        rc = iotca_cert_parse(iotca_buf_slice(&der[i]), &c);
        if (rc != IOTCA_OK) rc = iotca_error_set(rc, "trust store certificate %zu: %s", i + 1, iotca_error_detail());
        iotca_cert_free(c);
    }
    for (size_t i = 0; i < n; i++) iotca_buf_free(&der[i]);
    IOTCA_GUARD(rc);
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_trust_profile_rec r = {0};
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.stack, sizeof r.stack, "%s", iotca_stack_name(st));
    r.until = until;
    r.created_at = time(NULL);
    r.pem = iotca_buf_borrow((const uint8_t *)pem, strlen(pem));
    IOTCA_GUARD(iotca_store_trust_profile_add(s, &r));
    *id = r.id;
    return IOTCA_OK;
}

/* One chain of the schedule: an issuer certificate and when it starts being served. */
typedef struct entry {
    time_t from;
    iotca_slice cert;
} entry;

static int by_from(const void *a, const void *b) {
    time_t x = ((const entry *)a)->from, y = ((const entry *)b)->from;
    return (x > y) - (x < y);
}

iotca_rc iotca_ca_preflight(iotca_ca *ca, int64_t id, iotca_slice cert, time_t activate_at, iotca_preflight *out) {
    memset(out, 0, sizeof *out);
    out->ok = true;
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_rc rc = IOTCA_OK;
    iotca_issuer_rec *list = NULL, me = {0};
    iotca_trust_profile_rec *profiles = NULL;
    size_t n = 0, np = 0, nsched = 0;
    iotca_served sched[MAX_SCHEDULE];
    entry entries[MAX_SCHEDULE];
    iotca_check_report *rep = NULL;
    time_t now = time(NULL);
    IOTCA_TRY(iotca_store_trust_profile_list(s, &profiles, &np));
    if (np == 0) goto out; /* nothing registered: nothing to break */
    IOTCA_TRY(iotca_store_issuer_get(s, id, &me));
    IOTCA_TRY(iotca_store_issuer_list(s, &list, &n));
    /* the group's schedule: its active issuer now, staged ones at their times, this one at activate_at */
    for (size_t i = 0; i < n && nsched < MAX_SCHEDULE - 1; i++) {
        if (strcmp(list[i].group, me.group) != 0 || list[i].id == id || list[i].cert.len == 0) continue;
        if (list[i].state != IOTCA_ISSUER_ACTIVE && list[i].state != IOTCA_ISSUER_STAGED) continue;
        entries[nsched].cert = iotca_buf_slice(&list[i].cert);
        entries[nsched].from =
            list[i].state == IOTCA_ISSUER_ACTIVE || list[i].activate_at < now ? now : list[i].activate_at;
        nsched++;
    }
    entries[nsched].cert = cert;
    entries[nsched].from = activate_at > now ? activate_at : now;
    nsched++;
    qsort(entries, nsched, sizeof entries[0], by_from);
    for (size_t i = 0; i < nsched; i++) {
        sched[i].from = entries[i].from;
        sched[i].certs = &entries[i].cert;
        sched[i].n = 1;
    }
    rep = calloc(1, sizeof *rep);
    IOTCA_CHECK(rep != NULL, IOTCA_E_INTERNAL, "out of memory");
    for (size_t p = 0; p < np && out->ok; p++) {
        iotca_buf der[MAX_STORE] = {{0}};
        iotca_slice ss[MAX_STORE];
        size_t ns = 0;
        iotca_stack st;
        rc = iotca_stack_parse(profiles[p].stack, &st);
        if (rc == IOTCA_OK) rc = store_certs((const char *)profiles[p].pem.data, profiles[p].pem.len, der, &ns);
        for (size_t i = 0; i < ns; i++) ss[i] = iotca_buf_slice(&der[i]);
        if (rc == IOTCA_OK && profiles[p].until > now)
            rc = iotca_fleet_check(ss, ns, sched, nsched, st, now, profiles[p].until, rep);
        for (size_t i = 0; i < ns; i++) iotca_buf_free(&der[i]);
        if (rc != IOTCA_OK) goto out;
        if (profiles[p].until > now && rep->first_failure) {
            out->ok = false;
            snprintf(out->profile, sizeof out->profile, "%s", profiles[p].name);
            out->at = rep->first_failure;
            for (size_t i = 0; i < rep->n; i++)
                if (!rep->points[i].ok) {
                    snprintf(out->reason, sizeof out->reason, "%s", rep->points[i].reason);
                    break;
                }
        }
    }
out:
    free(rep);
    for (size_t i = 0; i < n; i++) iotca_issuer_rec_free(&list[i]);
    free(list);
    for (size_t i = 0; i < np; i++) iotca_trust_profile_rec_free(&profiles[i]);
    free(profiles);
    iotca_issuer_rec_free(&me);
    return rc;
}

iotca_rc iotca_ca_issuer_import_checked(iotca_ca *ca, int64_t id, iotca_slice cert, time_t activate_at,
                                        const char *justification, iotca_preflight *pf) {
    memset(pf, 0, sizeof *pf);
    pf->ok = true;
    /* everything that can be refused is checked before anything changes */
    IOTCA_ENSURE(justification == NULL || strlen(justification) >= 10, IOTCA_E_USAGE,
                 "an override needs a justification of at least 10 characters");
    iotca_cert *c = NULL;
    iotca_rc rc = iotca_cert_parse(cert, &c);
    if (rc != IOTCA_OK) return iotca_error_set(rc, "certificate: %s", iotca_error_detail());
    iotca_buf der = {0};
    rc = iotca_buf_append(&der, iotca_cert_get(c)->der.p, iotca_cert_get(c)->der.len);
    iotca_cert_free(c);
    if (rc == IOTCA_OK) rc = iotca_ca_preflight(ca, id, iotca_buf_slice(&der), activate_at, pf);
    iotca_buf_free(&der);
    IOTCA_GUARD(rc);
    if (!pf->ok && (justification == NULL || !*justification)) {
        char when[32];
        struct tm tm;
        gmtime_r(&pf->at, &tm);
        strftime(when, sizeof when, "%Y-%m-%d", &tm);
        pf->refused = true;
        IOTCA_BAIL(IOTCA_E_POLICY, "preflight: trust profile '%s' breaks on %s: %s (override with a justification)",
                   pf->profile, when, pf->reason);
    }
    IOTCA_GUARD(iotca_ca_issuer_import(ca, id, cert, activate_at));
    if (!pf->ok) {
        iotca_store *s = NULL;
        char findings[512];
        snprintf(findings, sizeof findings, "profile %s breaks at %lld: %s", pf->profile, (long long)pf->at, pf->reason);
        IOTCA_GUARD(ca_store(ca, &s));
        IOTCA_GUARD(iotca_store_preflight_override_add(s, id, justification, findings, time(NULL)));
    }
    return IOTCA_OK;
}
