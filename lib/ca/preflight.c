/* Rotation preflight (SPEC §7): before an issuer is scheduled or activated, the chain the CA will serve is
 * checked against every device trust store registered in the field, as that fleet's TLS stack validates it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"
#include "iotca/fleet.h"
#include "iotca/pem.h"

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


/* Every PEM certificate of a trust store into der[] (at most CA_TRUST_STORE_MAX); IOTCA_E_PARSE when it holds
 * none. */
iotca_rc ca_trust_store_certs(const char *pem, size_t len, iotca_buf *der, size_t *n) {
    iotca_slice in = iotca_slice_of(pem, len);
    *n = 0;
    while (*n < CA_TRUST_STORE_MAX && iotca_pem_next(&in, "CERTIFICATE", &der[*n], NULL) == IOTCA_OK) (*n)++;
    IOTCA_ENSURE(*n > 0, IOTCA_E_PARSE, "the trust store holds no PEM certificate");
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

size_t ca_group_schedule(const iotca_issuer_rec *list, size_t n, const char *group, int64_t skip_id, iotca_slice extra,
                         time_t extra_at, time_t now, iotca_slice certs[CA_SCHEDULE_MAX],
                         iotca_served sched[CA_SCHEDULE_MAX]) {
    entry entries[CA_SCHEDULE_MAX];
    size_t nsched = 0;
    for (size_t i = 0; i < n && nsched < CA_SCHEDULE_MAX - 1; i++) {
        if (strcmp(list[i].group, group) != 0 || list[i].id == skip_id || list[i].cert.len == 0) continue;
        if (list[i].state != IOTCA_ISSUER_ACTIVE && list[i].state != IOTCA_ISSUER_STAGED) continue;
        entries[nsched].cert = iotca_buf_slice(&list[i].cert);
        entries[nsched].from =
            list[i].state == IOTCA_ISSUER_ACTIVE || list[i].activate_at < now ? now : list[i].activate_at;
        nsched++;
    }
    if (extra.len) {
        entries[nsched].cert = extra;
        entries[nsched].from = extra_at > now ? extra_at : now;
        nsched++;
    }
    qsort(entries, nsched, sizeof entries[0], by_from);
    for (size_t i = 0; i < nsched; i++) {
        certs[i] = entries[i].cert;
        memset(&sched[i], 0, sizeof sched[i]);
        sched[i].from = entries[i].from;
        sched[i].certs = &certs[i];
        sched[i].n = 1;
    }
    return nsched;
}

iotca_rc ca_check_profile(const iotca_trust_profile_rec *p, const iotca_served *sched, size_t nsched, time_t now,
                          iotca_check_report *rep) {
    memset(rep, 0, sizeof *rep);
    if (p->until <= now || nsched == 0) return IOTCA_OK; /* past its end of life, or nothing served: no verdict */
    iotca_buf der[CA_TRUST_STORE_MAX] = {{0}};
    iotca_slice ss[CA_TRUST_STORE_MAX];
    size_t ns = 0;
    iotca_stack st;
    iotca_rc rc = iotca_stack_parse(p->stack, &st);
    if (rc == IOTCA_OK) rc = ca_trust_store_certs((const char *)p->pem.data, p->pem.len, der, &ns);
    for (size_t i = 0; i < ns; i++) ss[i] = iotca_buf_slice(&der[i]);
    if (rc == IOTCA_OK) rc = iotca_fleet_check(ss, ns, sched, nsched, st, now, p->until, rep);
    for (size_t i = 0; i < ns; i++) iotca_buf_free(&der[i]);
    return rc;
}

iotca_rc iotca_ca_preflight(iotca_ca *ca, int64_t id, iotca_slice cert, time_t activate_at, iotca_preflight *out) {
    memset(out, 0, sizeof *out);
    out->ok = true;
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_rc rc = IOTCA_OK;
    iotca_issuer_rec *list = NULL, me = {0};
    iotca_trust_profile_rec *profiles = NULL;
    size_t n = 0, np = 0;
    iotca_served sched[CA_SCHEDULE_MAX];
    iotca_slice certs[CA_SCHEDULE_MAX];
    iotca_check_report *rep = NULL;
    time_t now = time(NULL);
    IOTCA_TRY(iotca_store_trust_profile_list(s, &profiles, &np));
    if (np == 0) goto out; /* nothing registered: nothing to break */
    IOTCA_TRY(iotca_store_issuer_get(s, id, &me));
    IOTCA_TRY(iotca_store_issuer_list(s, &list, &n));
    /* the group's schedule: its active issuer now, staged ones at their times, this one at activate_at */
    size_t nsched = ca_group_schedule(list, n, me.group, id, cert, activate_at, now, certs, sched);
    rep = calloc(1, sizeof *rep);
    IOTCA_CHECK(rep != NULL, IOTCA_E_INTERNAL, "out of memory");
    for (size_t p = 0; p < np; p++) { /* every profile: an override must say all it breaks */
        IOTCA_TRY(ca_check_profile(&profiles[p], sched, nsched, now, rep));
        if (profiles[p].until > now && rep->first_failure) {
            out->ok = false;
            if (out->n_broken == IOTCA_PREFLIGHT_MAX_BROKEN) {
                out->more++;
                continue;
            }
            size_t b = out->n_broken++;
            snprintf(out->broken[b].profile, sizeof out->broken[b].profile, "%s", profiles[p].name);
            out->broken[b].at = rep->first_failure;
            for (size_t i = 0; i < rep->n; i++)
                if (!rep->points[i].ok) {
                    snprintf(out->broken[b].reason, sizeof out->broken[b].reason, "%s", rep->points[i].reason);
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

static void day_of(time_t t, char out[16]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The override in the hash-chained audit trail, before anything changes: the justification, then each broken
 * profile with its date and reason (an audit record's detail holds 256 bytes: one record each), then the
 * lines the override row keeps for GET /v1/issuers. */
static iotca_rc audit_override(iotca_ca *ca, int64_t id, const char *justification, const char *actor,
                               const char *request_id, const iotca_preflight *pf, iotca_buf *findings) {
    char subject[64], detail[512], when[16];
    const char *who = actor && *actor ? actor : "anonymous", *rid = request_id && *request_id ? request_id : "-";
    snprintf(subject, sizeof subject, "issuer %lld", (long long)id);
    snprintf(detail, sizeof detail, "%zu trust profile(s) break; justification: %s", pf->n_broken + pf->more,
             justification);
    IOTCA_GUARD(iotca_ca_audit(ca, who, "issuer.preflight_override", subject, rid, "justified", detail));
    for (size_t b = 0; b < pf->n_broken; b++) {
        day_of(pf->broken[b].at, when);
        snprintf(detail, sizeof detail, "profile %s breaks on %s: %s", pf->broken[b].profile, when,
                 pf->broken[b].reason);
        IOTCA_GUARD(iotca_ca_audit(ca, who, "issuer.preflight_override", subject, rid, "broken_profile", detail));
        IOTCA_GUARD(iotca_buf_printf(findings, "%s\t%s\t%s\n", pf->broken[b].profile, when, pf->broken[b].reason));
    }
    if (pf->more) {
        snprintf(detail, sizeof detail, "and %zu more trust profiles", pf->more);
        IOTCA_GUARD(iotca_ca_audit(ca, who, "issuer.preflight_override", subject, rid, "broken_profile", detail));
        IOTCA_GUARD(iotca_buf_printf(findings, "(%zu more)\t\t\n", pf->more));
    }
    return iotca_buf_cstr(findings);
}

iotca_rc iotca_ca_issuer_import_checked(iotca_ca *ca, int64_t id, iotca_slice cert, time_t activate_at,
                                        const char *justification, const char *actor, const char *request_id,
                                        iotca_preflight *pf) {
    memset(pf, 0, sizeof *pf);
    pf->ok = true;
    /* everything that can be refused is checked before anything changes */
    IOTCA_ENSURE(justification == NULL || (strlen(justification) >= 10 && strlen(justification) <= 200),
                 IOTCA_E_USAGE, "an override needs a justification of 10 to 200 characters");
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
        char when[16];
        day_of(pf->broken[0].at, when);
        pf->refused = true;
        IOTCA_BAIL(IOTCA_E_POLICY, "preflight: trust profile '%s' breaks on %s: %s%s (override with a justification)",
                   pf->broken[0].profile, when, pf->broken[0].reason,
                   pf->n_broken + pf->more > 1 ? "; and more profiles break" : "");
    }
    iotca_buf findings = {0};
    if (!pf->ok) rc = audit_override(ca, id, justification, actor, request_id, pf, &findings);
    if (rc == IOTCA_OK) rc = iotca_ca_issuer_import(ca, id, cert, activate_at);
    iotca_store *s = NULL;
    if (rc == IOTCA_OK && !pf->ok && (rc = ca_store(ca, &s)) == IOTCA_OK)
        rc = iotca_store_preflight_override_add(s, id, justification, actor ? actor : "", (const char *)findings.data,
                                                time(NULL));
    iotca_buf_free(&findings);
    return rc;
}

iotca_rc iotca_ca_issuer_override(iotca_ca *ca, int64_t id, iotca_override_rec *out, bool *found) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_preflight_override_get(s, id, out, found);
}
