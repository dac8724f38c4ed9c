/* The tick: every periodic duty of the CA, listed and run in one place (STYLE.md; Redis's serverCron is the
 * model). iotcad runs it every tick_interval_s on its tick thread, once at start, and at once after an import
 * due now; tools and tests run it directly. Each duty is idempotent, so two ticks at once (the tick thread and
 * an import) do the same work at most twice and never twice over: the store's transitions are conditional. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"
#include "iotca/ca_rehearsal.h"
#include "iotca/store_acme.h"

/* 1. The write probe: one small committed write, so /readyz tells a database that refuses writes (full disk,
 * read-only file) before an issuance meets it. Its failure is remembered, not returned: the other duties
 * still run (reads, and whatever writes the database may still take). */
static void probe_writes(iotca_ca *ca, iotca_store *s, time_t now) {
    iotca_rc rc = iotca_store_heartbeat(s, now);
    pthread_mutex_lock(&ca->lock);
    if (rc == IOTCA_OK) ca->write_failed_at = 0;
    else if (ca->write_failed_at == 0) ca->write_failed_at = now;
    pthread_mutex_unlock(&ca->lock);
}

/* Moves issuer id from one state to another. Two ticks may run at once (the tick thread, and a request's
 * tick after an import due now), and each read the issuer list before the other moved the issuer: the
 * store's transition is conditional, so the later one finds the issuer no longer in `from`. That is the
 * other tick's work done, not a failure: *moved is false and the caller skips the issuer (no second audit
 * record, no change counted). Any other refusal is returned. */
static iotca_rc transition(iotca_store *s, int64_t id, iotca_issuer_state from, iotca_issuer_state to, time_t now,
                           bool *moved) {
    *moved = false;
    iotca_rc rc = iotca_store_issuer_transition(s, id, from, to, now);
    if (rc == IOTCA_OK) *moved = true;
    if (rc != IOTCA_E_POLICY) return rc;
    iotca_issuer_rec rec = {0};
    iotca_rc got = iotca_store_issuer_get(s, id, &rec);
    bool elsewhere = got == IOTCA_OK && rec.state != from;
    iotca_issuer_rec_free(&rec);
    return elsewhere ? IOTCA_OK : rc;
}

/* 2. Activation of staged issuers whose time has come, oldest schedule first; rotation preflight runs again
 * (a trust profile registered since the import may break) and holds an issuer that would break one. */
static iotca_rc activate_due(iotca_ca *ca, iotca_store *s, time_t now, int *changes) {
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    IOTCA_GUARD(iotca_store_issuer_list(s, &list, &n));
    iotca_rc rc = IOTCA_OK;
    for (;;) {
        iotca_issuer_rec *due = NULL;
        for (size_t i = 0; i < n; i++)
            if (list[i].state == IOTCA_ISSUER_STAGED && list[i].activate_at <= now &&
                (due == NULL || list[i].activate_at < due->activate_at))
                due = &list[i];
        if (due == NULL) break;
        bool overridden = false;
        iotca_preflight pf;
        iotca_override_rec ov;
        IOTCA_TRY(iotca_store_preflight_override_get(s, due->id, &ov, &overridden));
        if (!overridden) IOTCA_TRY(iotca_ca_preflight(ca, due->id, iotca_buf_slice(&due->cert), now, &pf));
        if (!overridden && !pf.ok) {
            if (!ca_is_held(ca, due->id))
                IOTCA_TRY(iotca_ca_audit(ca, "tick", "issuer.activate", due->name, "-", "held", pf.broken[0].reason));
            ca_set_held(ca, due->id, true);
            due->state = IOTCA_ISSUER_PENDING; /* held: leave it staged in the store, skip it here */
            continue;
        }
        /* issue 24: in a rotation (the group has an active issuer, so devices in the field), the trust profiles
         * the config names must have passed the `next` rehearsal of this issuer (an import's override
         * justifies broken profiles, not a skipped rehearsal). A group's first issuer strands no one. */
        bool rotation = false;
        for (size_t i = 0; i < n; i++)
            rotation |= list[i].state == IOTCA_ISSUER_ACTIVE && strcmp(list[i].group, due->group) == 0;
        char missing[256] = "";
        if (rotation) IOTCA_TRY(iotca_ca_rehearsal_missing(ca, due->id, missing, sizeof missing));
        if (missing[0]) {
            if (!ca_is_held(ca, due->id)) {
                char why[320];
                snprintf(why, sizeof why, "no passed rehearsal of the next chain for trust profile(s) %s", missing);
                IOTCA_TRY(iotca_ca_audit(ca, "tick", "issuer.activate", due->name, "-", "held", why));
            }
            ca_set_held(ca, due->id, true);
            due->state = IOTCA_ISSUER_PENDING;
            continue;
        }
        ca_set_held(ca, due->id, false);
        bool moved = false;
        IOTCA_TRY(transition(s, due->id, IOTCA_ISSUER_STAGED, IOTCA_ISSUER_ACTIVE, now, &moved));
        due->state = IOTCA_ISSUER_ACTIVE;
        if (!moved) continue; /* another tick activated it (and audited it) first */
        IOTCA_TRY(iotca_ca_audit(ca, "tick", "issuer.activate", due->name, "-", "ok",
                                 "staged -> active; the group's previous issuer is retiring"));
        due->state = IOTCA_ISSUER_ACTIVE;
        (*changes)++;
    }
out:
    iotca_issuer_recs_free(list, n);
    return rc;
}

/* 3. Expiry and retirement. An active issuer past its notAfter can sign nothing (RFC 5280 §4.1.2.5: no leaf
 * may outlive it), and every leaf it issued has expired with it: it is retired at once, so its state, the
 * issuance refusal and /readyz all say that the group has no issuer (no successor was activated in time).
 * A retiring issuer is retired once its certificate, and so its last leaf, has expired. */
static iotca_rc expire_and_retire(iotca_ca *ca, iotca_store *s, time_t now, int *changes) {
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    IOTCA_GUARD(iotca_store_issuer_list(s, &list, &n));
    iotca_rc rc = IOTCA_OK;
    for (size_t i = 0; i < n; i++) {
        iotca_issuer_rec *is = &list[i];
        if ((is->state != IOTCA_ISSUER_ACTIVE && is->state != IOTCA_ISSUER_RETIRING) || is->not_after > now) continue;
        bool was_active = is->state == IOTCA_ISSUER_ACTIVE, moved = false;
        IOTCA_TRY(transition(s, is->id, is->state, IOTCA_ISSUER_RETIRED, now, &moved));
        if (!moved) continue; /* another tick retired it first */
        IOTCA_TRY(iotca_ca_audit(ca, "tick", was_active ? "issuer.expire" : "issuer.retire", is->name, "-", "ok",
                                 was_active ? "active -> retired: its certificate expired and no successor was "
                                              "activated; its group has no issuer until one is"
                                            : "retiring -> retired"));
        (*changes)++;
    }
out:
    iotca_issuer_recs_free(list, n);
    return rc;
}

void iotca_ca_on_warning(iotca_ca *ca, iotca_warning_sink fn, void *ctx) {
    pthread_mutex_lock(&ca->lock);
    ca->warning_sink = fn;
    ca->warning_ctx = ctx;
    pthread_mutex_unlock(&ca->lock);
}

/* 6. Advance warnings (SPEC §7): each item inside its 180/60/30-day window is reported to the sink once per
 * threshold it reaches (the same item at a tighter threshold is news again). */
static void report_warnings(iotca_ca *ca, time_t now) {
    iotca_warning w[IOTCA_MAX_WARNINGS], fresh[IOTCA_MAX_WARNINGS];
    size_t n = 0, nf = 0;
    if (iotca_ca_warnings(ca, now, w, &n) != IOTCA_OK) return;
    pthread_mutex_lock(&ca->lock);
    iotca_warning_sink sink = ca->warning_sink;
    void *ctx = ca->warning_ctx;
    for (size_t i = 0; i < n && sink; i++) {
        char key[sizeof ca->warned[0]];
        snprintf(key, sizeof key, "%d/%d/%.256s", (int)w[i].kind, w[i].threshold_days, w[i].subject);
        bool seen = false;
        for (size_t j = 0; j < ca->n_warned && !seen; j++) seen = strcmp(ca->warned[j], key) == 0;
        if (seen) continue;
        if (ca->n_warned < IOTCA_MAX_WARNINGS) snprintf(ca->warned[ca->n_warned++], sizeof key, "%s", key);
        fresh[nf++] = w[i];
    }
    pthread_mutex_unlock(&ca->lock);
    for (size_t i = 0; i < nf; i++) sink(ctx, &fresh[i]);
}

/* 7. The revocation feed (schema 0015): this process's cached OCSP answers of certificates revoked through
 * another process are dropped (requests do the same before serving one when the revocation signal moved; a
 * process that died between its commit and its bump moved none, and this catches its revocation), and
 * rows older than a week are pruned: a process that has not looked for that long sees the gap and drops its
 * whole cache. */
#define FEED_KEEP_S (7 * 86400)
static iotca_rc follow_feed(iotca_ca *ca, iotca_store *s, time_t now, bool leader) {
    (void)ca_ocsp_follow_revocations(ca, s, true); /* whatever the signal says: it may have missed a bump */
    int pruned = 0;
    return leader ? iotca_store_revocations_prune(s, now - FEED_KEEP_S, &pruned) : IOTCA_OK;
}

/* 8. When each API token was last used: requests remember it in memory (tokens.c) so that authentication
 * never writes; the tick writes them all in one transaction. A failure keeps them for the next tick and is
 * returned after every other duty ran. */
static iotca_rc write_token_uses(iotca_ca *ca, iotca_store *s) {
    pthread_mutex_lock(&ca->used_mu);
    size_t n = ca->n_used;
    pthread_mutex_unlock(&ca->used_mu);
    return n ? ca_tokens_flush_used(ca, s) : IOTCA_OK;
}

/* 9. ACME (RFC 8555 §7.1.6): nonces past their hour go, pending authorizations and unfinished orders past their
 * expiry become expired and invalid, and orders that ended a day ago go with their authorizations (the
 * certificates they made stay in the inventory). */
#define ACME_KEEP_S 86400
static iotca_rc prune_acme(iotca_store *s, time_t now) {
    size_t changed = 0;
    return iotca_store_acme_prune(s, now, ACME_KEEP_S, &changed);
}

/* The duties that must run once for all replicas: on the leading one (lead(), below). */
static iotca_rc once_only(iotca_ca *ca, iotca_store *s, time_t now, int *changes) {
    int more = 0;
    IOTCA_GUARD(activate_due(ca, s, now, changes));       /* 2. staged issuers whose time has come */
    IOTCA_GUARD(expire_and_retire(ca, s, now, changes));  /* 3. expired active issuers; retiring ones */
    IOTCA_GUARD(ca_crl_tick(ca, s, now, &more));          /* 4. CRLs due, or with revocations to publish */
    *changes += more;
    more = 0;
    IOTCA_GUARD(ca_ocsp_tick(ca, s, now, &more));         /* 5. OCSP: responder certificates renewed, */
    *changes += more;                                     /*    pre-signed answers made and refreshed */
    report_warnings(ca, now);                             /* 6. advance warnings newly at a threshold */
    return IOTCA_OK;                                      /* (and 9, in iotca_ca_tick) */
}

void iotca_ca_tick_thread(iotca_ca *ca) {
    pthread_mutex_lock(&ca->lock);
    ca->tick_thread = pthread_self();
    ca->tick_thread_set = true;
    pthread_mutex_unlock(&ca->lock);
}

/* Whether this tick runs the once-only duties (issue 25: replicas on one PostgreSQL take turns by the store's
 * tick lock; on SQLite every tick runs them). The tick thread keeps the lock between ticks, so one replica
 * leads until it dies; a tick on another thread (the start, an import due now) runs them too when its
 * process leads, and otherwise takes the lock for this tick only (*release) if it is free. */
static iotca_rc lead(iotca_ca *ca, iotca_store *s, bool *leader, bool *release) {
    *release = false;
    pthread_mutex_lock(&ca->lock);
    bool ticker = ca->tick_thread_set && pthread_equal(ca->tick_thread, pthread_self());
    pthread_mutex_unlock(&ca->lock);
    if (!ticker && __atomic_load_n(&ca->tick_leader, __ATOMIC_ACQUIRE)) {
        *leader = true;
        return IOTCA_OK;
    }
    iotca_rc rc = iotca_store_tick_lead(s, leader);
    if (ticker) __atomic_store_n(&ca->tick_leader, rc == IOTCA_OK && *leader, __ATOMIC_RELEASE);
    else *release = rc == IOTCA_OK && *leader; /* (nothing to release on SQLite) */
    return rc;
}

bool iotca_ca_tick_leader(iotca_ca *ca) { return __atomic_load_n(&ca->tick_leader, __ATOMIC_ACQUIRE); }

iotca_rc iotca_ca_tick(iotca_ca *ca, time_t now, int *changes) {
    *changes = 0;
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    int more = 0;
    bool leader = false, release = false;
    probe_writes(ca, s, now);                             /* 1. can the database still take writes? */
    IOTCA_GUARD(lead(ca, s, &leader, &release));          /*    and does this replica lead? */
    iotca_rc rc = leader ? once_only(ca, s, now, changes) : IOTCA_OK; /* 2-6: once-only duties */
    if (rc == IOTCA_OK) rc = follow_feed(ca, s, now, leader); /* 7. revocations through other processes */
    if (rc != IOTCA_OK) goto out;
    rc = write_token_uses(ca, s);                         /* 8. tokens' last-used times from memory */
    iotca_rc acme = leader ? prune_acme(s, now) : IOTCA_OK; /* 9. ACME state that expired (once-only) */
    more = 0;
    iotca_rc rh = iotca_ca_rehearsal_refresh(ca, now, &more); /* 10. rehearsal leaves (rehearsal.c) */
    *changes += more;
    rc = rc != IOTCA_OK ? rc : acme != IOTCA_OK ? acme : rh;
out:
    if (release) (void)iotca_store_tick_release(s);
    return rc;
}

/* What an operator does when a group has no issuer that can sign (the same words in /readyz and in the
 * refusal of an issuance, lib/ca/issue.c). */
const char *const ca_no_issuer_remedy = "make an issuer (iotca issuers new), sign its CSR offline (iotca-root "
                                        "sign-intermediate) and import it (iotca issuers import)";

/* Whether the group has an issuer that can sign now; if not, why (and what comes next, if anything). */
static iotca_rc group_signs(const iotca_issuer_rec *list, size_t n, const char *group, time_t now) {
    const iotca_issuer_rec *expired = NULL, *staged = NULL;
    for (size_t j = 0; j < n; j++) {
        const iotca_issuer_rec *i = &list[j];
        if (strcmp(i->group, group) != 0) continue;
        if (i->state == IOTCA_ISSUER_ACTIVE && i->not_after > now) return IOTCA_OK;
        if (i->state == IOTCA_ISSUER_ACTIVE) expired = i;
        if (i->state == IOTCA_ISSUER_STAGED && (!staged || i->activate_at < staged->activate_at)) staged = i;
    }
    if (expired)
        IOTCA_BAIL(IOTCA_E_UNAVAILABLE, "no issuer of group %s can sign: issuer %s expired %ld minutes ago; "
                   "import and activate its successor", group, expired->name, (long)(now - expired->not_after) / 60);
    if (staged)
        IOTCA_BAIL(IOTCA_E_UNAVAILABLE, "no issuer of group %s can sign yet: issuer %s is staged to activate in "
                   "%ld s", group, staged->name, (long)(staged->activate_at > now ? staged->activate_at - now : 0));
    IOTCA_BAIL(IOTCA_E_UNAVAILABLE, "no issuer of group %s can sign: none is active; %s", group,
               ca_no_issuer_remedy);
}

/* Ready means able to issue: every group a profile issues from, and every group that has had an issuer,
 * has an active one within its dates. */
static iotca_rc signers(iotca_ca *ca, const iotca_issuer_rec *list, size_t n, time_t now) {
    /* the table and its length as one pair (profiles.c); a table replaced by a reload stays alive */
    pthread_mutex_lock(&ca->lock);
    const iotca_profile *profiles = ca->profiles;
    size_t np = ca->n_profiles;
    pthread_mutex_unlock(&ca->lock);
    for (size_t i = 0; i < np; i++) IOTCA_GUARD(group_signs(list, n, profiles[i].issuer_group, now));
    for (size_t i = 0; i < n; i++)
        if (list[i].state == IOTCA_ISSUER_ACTIVE || list[i].state == IOTCA_ISSUER_RETIRING ||
            list[i].state == IOTCA_ISSUER_RETIRED)
            IOTCA_GUARD(group_signs(list, n, list[i].group, now));
    return IOTCA_OK;
}

iotca_rc iotca_ca_readiness(iotca_ca *ca, time_t now) {
    /* one read of the schema version: the database answers and is the version this binary needs (not a count
     * of certificates: a scan that grows with the fleet, on every probe) */
    iotca_store *s = NULL;
    if (ca_store(ca, &s) != IOTCA_OK || iotca_store_check_schema(s) != IOTCA_OK)
        IOTCA_BAIL(IOTCA_E_STORAGE, "the database does not answer");
    pthread_mutex_lock(&ca->lock);
    time_t failed = ca->write_failed_at;
    pthread_mutex_unlock(&ca->lock);
    if (failed)
        IOTCA_BAIL(IOTCA_E_STORAGE, "the database refuses writes (the tick's write failed %ld s ago; the log says why)",
                   (long)(now - failed));
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    if (iotca_store_issuer_list(s, &list, &n) != IOTCA_OK) IOTCA_BAIL(IOTCA_E_STORAGE, "the database does not answer");
    iotca_rc rc = signers(ca, list, n, now);
    iotca_issuer_recs_free(list, n);
    return rc;
}
