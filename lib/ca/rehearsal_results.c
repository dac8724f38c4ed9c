/* Rehearsal results (issue 24): what a device did with a scenario, per registered trust profile, and the gate
 * that holds an activation until the profiles the config names passed the `next` rehearsal of that issuer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rehearsal_int.h"

/* Printable text without control characters, at most max bytes (it reaches the audit trail and logs). */
static bool text_ok(const char *t, size_t max) {
    if (strlen(t) > max) return false;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

iotca_rc iotca_ca_rehearsal_report(iotca_ca *ca, const char *scenario, const char *trust_profile, bool accepted,
                                   const char *source, const char *actor, const char *note,
                                   iotca_rehearsal_result_rec *out) {
    struct ca_rehearsal *rh = ca ? ca->rehearsal : NULL;
    IOTCA_ENSURE(rh != NULL, IOTCA_E_USAGE, "rehearsals are not configured (config: rehearsal)");
    IOTCA_ENSURE(scenario && trust_profile && source && actor, IOTCA_E_USAGE,
                 "iotca_ca_rehearsal_report: NULL argument");
    IOTCA_ENSURE(*trust_profile && text_ok(trust_profile, 63), IOTCA_E_USAGE,
                 "trust_profile: a registered trust profile's name, 1 to 63 printable bytes");
    IOTCA_ENSURE(note == NULL || text_ok(note, 200), IOTCA_E_USAGE, "note: at most 200 printable bytes");
    iotca_rehearsal_result_rec r = {0};
    bool known = false, available = false;
    pthread_mutex_lock(&rh->mu);
    for (size_t i = 0; i < IOTCA_REHEARSAL_MAX; i++) {
        const iotca_rehearsal *sc = &rh->scen[i];
        if (!sc->name[0] || strcmp(sc->name, scenario) != 0) continue;
        known = true;
        available = sc->available;
        r.issuer_id = sc->issuer_id;
        snprintf(r.serial, sizeof r.serial, "%s", sc->serial);
        r.passed = accepted == sc->expect_accept;
    }
    pthread_mutex_unlock(&rh->mu);
    IOTCA_ENSURE(known, IOTCA_E_USAGE, "no rehearsal scenario '%.48s' (iotca rehearse list names them)", scenario);
    IOTCA_ENSURE(available, IOTCA_E_POLICY, "rehearsal scenario %s presents nothing now", scenario);
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_trust_profile_rec tp = {0};
    bool found = false;
    IOTCA_GUARD(iotca_store_trust_profile_get(s, trust_profile, &tp, &found));
    iotca_trust_profile_rec_free(&tp);
    IOTCA_ENSURE(found, IOTCA_E_USAGE, "no trust profile '%s' is registered (POST /v1/trust-profiles)", trust_profile);
    snprintf(r.scenario, sizeof r.scenario, "%s", scenario);
    snprintf(r.trust_profile, sizeof r.trust_profile, "%s", trust_profile);
    snprintf(r.source, sizeof r.source, "%s", source);
    snprintf(r.actor, sizeof r.actor, "%s", actor);
    snprintf(r.note, sizeof r.note, "%s", note ? note : "");
    r.accepted = accepted;
    r.at = time(NULL);
    IOTCA_GUARD(iotca_store_rehearsal_result_add(s, &r));
    char detail[256];
    snprintf(detail, sizeof detail, "trust profile %s %s the chain of issuer %lld (leaf %s), as %s (%s)",
             trust_profile, accepted ? "accepted" : "refused", (long long)r.issuer_id, r.serial,
             r.passed ? "a correct device does" : "a correct device does not", source);
    IOTCA_GUARD(iotca_ca_audit(ca, actor, "rehearsal.result", scenario, "-", r.passed ? "passed" : "failed", detail));
    if (out) *out = r;
    return IOTCA_OK;
}

iotca_rc iotca_ca_rehearsal_results(iotca_ca *ca, iotca_rehearsal_result_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_rehearsal_result_latest(s, out, n);
}

iotca_rc iotca_ca_rehearsal_missing(iotca_ca *ca, int64_t issuer_id, char *missing, size_t cap) {
    missing[0] = 0;
    struct ca_rehearsal *rh = ca ? ca->rehearsal : NULL;
    if (rh == NULL || rh->n_require == 0) return IOTCA_OK; /* require is fixed after configure: no lock */
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    size_t used = 0;
    for (size_t i = 0; i < rh->n_require; i++) {
        bool passed = false;
        IOTCA_GUARD(iotca_store_rehearsal_passed(s, "next", rh->require[i], issuer_id, &passed));
        if (passed) continue;
        int w = snprintf(missing + used, cap - used, "%s%s", used ? ", " : "", rh->require[i]);
        if (w < 0 || (size_t)w >= cap - used) break;
        used += (size_t)w;
    }
    return IOTCA_OK;
}
