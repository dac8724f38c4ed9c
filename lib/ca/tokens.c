/* API tokens: "iotca_<id>_<secret>"; only SHA-256(secret) is stored, and it is compared in constant time.
 * A token may expire and may be revoked; either is refused by the next request that presents it. When each
 * was last used is remembered in memory and written by the tick (tick.c), never by the request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"
#include "iotca/timefmt.h"

#define ID_BYTES 8
#define SECRET_BYTES 32

bool iotca_scope_allows(const char *scope, const char *profile) {
    if (scope == NULL || *scope == 0) return true;
    size_t n = strlen(profile);
    for (const char *p = scope; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, profile, n) == 0) return true;
        p += len + (e ? 1 : 0);
    }
    return false;
}

iotca_rc iotca_ca_token_expiry_parse(const char *s, time_t now, time_t *out) {
    IOTCA_ENSURE(s != NULL && *s, IOTCA_E_USAGE, "empty expiry (use a duration such as 90d or an RFC 3339 time)");
    long secs = 0;
    time_t at = 0;
    if (*s >= '0' && *s <= '9' && strchr(s, '-') == NULL) { /* a duration: digits and a unit, never a date */
        iotca_rc rc = iotca_duration_parse(s, &secs);
        IOTCA_ENSURE(rc == IOTCA_OK, IOTCA_E_USAGE,
                     "invalid expiry '%.64s': use a duration (90d, 12h, 30m, 3600s) or an RFC 3339 time", s);
        at = now + secs;
    } else {
        IOTCA_ENSURE(iotca_time_parse(s, &at) == IOTCA_OK, IOTCA_E_USAGE,
                     "invalid expiry '%.64s': use a duration (90d, 12h, 30m, 3600s) or an RFC 3339 time "
                     "(2030-01-31T12:00:00Z, 2030-01-31T14:00:00+02:00, 2030-01-31)", s);
        IOTCA_ENSURE(at > now, IOTCA_E_USAGE, "expiry '%.64s' is in the past", s);
    }
    *out = at;
    return IOTCA_OK;
}

iotca_rc iotca_ca_token_create(iotca_ca *ca, iotca_role role, const char *profiles, time_t expires_at,
                               const char *actor, iotca_buf *token) {
    IOTCA_ENSURE(role == IOTCA_ROLE_ADMIN || role == IOTCA_ROLE_PROVISIONER, IOTCA_E_USAGE, "unknown role");
    IOTCA_ENSURE(expires_at == 0 || expires_at > time(NULL), IOTCA_E_USAGE, "the expiry is in the past");
    iotca_token_rec t = {.expires_at = expires_at};
    if (profiles && *profiles) {
        IOTCA_ENSURE(strlen(profiles) < sizeof t.profiles, IOTCA_E_USAGE, "profile list too long");
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", profiles);
        char *save = NULL;
        for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
            IOTCA_ENSURE(iotca_ca_profile(ca, p) != NULL, IOTCA_E_USAGE, "unknown profile '%s'", p);
        snprintf(t.profiles, sizeof t.profiles, "%s", profiles);
    }
    uint8_t id[ID_BYTES], secret[SECRET_BYTES];
    IOTCA_GUARD(iotca_random(id, sizeof id));
    IOTCA_GUARD(iotca_random(secret, sizeof secret));
    iotca_buf idhex = {0}, sechex = {.secret = true};
    iotca_rc rc = iotca_hex_encode(id, sizeof id, &idhex);
    if (rc == IOTCA_OK) rc = iotca_hex_encode(secret, sizeof secret, &sechex);
    if (rc == IOTCA_OK) {
        snprintf(t.id, sizeof t.id, "%s", (const char *)idhex.data);
        iotca_sha256(iotca_buf_slice(&sechex), t.hash);
        snprintf(t.role, sizeof t.role, "%s", role == IOTCA_ROLE_ADMIN ? "admin" : "provisioner");
        t.created_at = time(NULL);
        iotca_store *s = NULL;
        rc = ca_store(ca, &s);
        if (rc == IOTCA_OK) rc = iotca_store_token_add(s, &t);
    }
    if (rc == IOTCA_OK) {
        char detail[1200], exp[32] = "never";
        if (expires_at) iotca_time_format(expires_at, exp);
        snprintf(detail, sizeof detail, "role %s, %s%s; expires %s", t.role, t.profiles[0] ? "profiles " : "",
                 t.profiles[0] ? t.profiles : "all profiles", exp);
        rc = iotca_ca_audit(ca, actor && *actor ? actor : "cli", "token.create", t.id, "-", "ok", detail);
    }
    if (rc == IOTCA_OK) {
        token->secret = true;
        rc = iotca_buf_printf(token, "iotca_%s_%s", (const char *)idhex.data, (const char *)sechex.data);
    }
    iotca_wipe(secret, sizeof secret);
    iotca_buf_free(&idhex);
    iotca_buf_free(&sechex);
    return rc;
}

/* Remembers that token id was used at now, for the tick to write (ca_tokens_flush_used). A table that is full
 * drops the use: that token's last-used time then lags by one more tick. */
static void remember_use(iotca_ca *ca, const char *id, time_t now) {
    pthread_mutex_lock(&ca->used_mu);
    size_t i = 0;
    while (i < ca->n_used && strcmp(ca->used[i].id, id) != 0) i++;
    if (i == ca->n_used && i < CA_TOKENS_USED) {
        snprintf(ca->used[i].id, sizeof ca->used[i].id, "%s", id);
        ca->n_used++;
    }
    if (i < ca->n_used && ca->used[i].at < now) ca->used[i].at = now;
    pthread_mutex_unlock(&ca->used_mu);
}

iotca_rc iotca_ca_token_check(iotca_ca *ca, const char *token, iotca_role *role, char scope[1024]) {
    *role = IOTCA_ROLE_NONE;
    /* fixed shape: "iotca_" + 16 hex + "_" + 64 hex */
    IOTCA_ENSURE(token && strlen(token) == 6 + 2 * ID_BYTES + 1 + 2 * SECRET_BYTES && strncmp(token, "iotca_", 6) == 0 &&
                     token[6 + 2 * ID_BYTES] == '_',
                 IOTCA_E_USAGE, "malformed token");
    char id[2 * ID_BYTES + 1];
    memcpy(id, token + 6, 2 * ID_BYTES);
    id[2 * ID_BYTES] = 0;
    for (size_t i = 0; i < 2 * ID_BYTES; i++)
        IOTCA_ENSURE((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'), IOTCA_E_USAGE,
                     "malformed token");
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_read_store(ca, &s)); /* a read replica's when there is one: reads go on while the primary is down */
    iotca_token_rec t;
    uint8_t h[32];
    const char *secret = token + 6 + 2 * ID_BYTES + 1;
    iotca_sha256(iotca_slice_of(secret, 2 * SECRET_BYTES), h);
    iotca_rc rc = iotca_store_token_get(s, id, &t);
    if (rc == IOTCA_E_STORAGE) return rc;
    /* compare even when the id is unknown, so timing does not tell ids apart */
    bool ok = iotca_ct_equal(h, rc == IOTCA_OK ? t.hash : h, 32) && rc == IOTCA_OK;
    IOTCA_ENSURE(ok, IOTCA_E_USAGE, rc == IOTCA_OK ? "wrong secret for token %s" : "unknown token %s", id);
    /* the store is read on every request, so a revocation or expiry takes effect at the next one, in every
     * process on the database; the detail says which, for the log (the client is told only "unknown") */
    time_t now = time(NULL);
    char when[32];
    if (t.revoked_at) {
        iotca_time_format(t.revoked_at, when);
        IOTCA_BAIL(IOTCA_E_USAGE, "token %s was revoked at %s", id, when);
    }
    if (t.expires_at && t.expires_at <= now) {
        iotca_time_format(t.expires_at, when);
        IOTCA_BAIL(IOTCA_E_USAGE, "token %s expired at %s", id, when);
    }
    *role = strcmp(t.role, "admin") == 0 ? IOTCA_ROLE_ADMIN : IOTCA_ROLE_PROVISIONER;
    snprintf(scope, 1024, "%s", t.profiles);
    remember_use(ca, id, now);
    return IOTCA_OK;
}

iotca_rc ca_tokens_flush_used(iotca_ca *ca, iotca_store *s) {
    /* taken out under the lock, written without it: requests keep remembering meanwhile */
    iotca_token_use *batch = malloc(sizeof ca->used);
    IOTCA_ENSURE(batch != NULL, IOTCA_E_INTERNAL, "out of memory writing token last-used times");
    pthread_mutex_lock(&ca->used_mu);
    size_t n = ca->n_used;
    memcpy(batch, ca->used, n * sizeof *batch);
    ca->n_used = 0;
    pthread_mutex_unlock(&ca->used_mu);
    iotca_rc rc = iotca_store_token_used(s, batch, n);
    if (rc != IOTCA_OK) /* not written: remembered again for the next try */
        for (size_t i = 0; i < n; i++) remember_use(ca, batch[i].id, batch[i].at);
    free(batch);
    return rc;
}

iotca_rc iotca_ca_token_list(iotca_ca *ca, iotca_token_info **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_token_list(s, out, n);
}

typedef struct revoke_job {
    const char *id, *actor;
    time_t at;
    iotca_token_rec t;
} revoke_job;

/* In one group transaction: the revocation and its audit record, so neither is ever without the other. */
static iotca_rc revoke_write(iotca_store *s, void *arg) {
    revoke_job *j = arg;
    IOTCA_GUARD(iotca_store_token_revoke(s, j->id, j->at, &j->t));
    iotca_audit_rec r;
    char detail[1100];
    snprintf(detail, sizeof detail, "role %s%s%s", j->t.role, j->t.profiles[0] ? ", profiles " : "", j->t.profiles);
    ca_audit_fill(&r, j->actor, "token.revoke", j->id, "-", "ok", detail);
    return ca_audit_append(s, &r);
}

iotca_rc iotca_ca_token_revoke(iotca_ca *ca, const char *id, const char *actor, time_t *revoked_at) {
    IOTCA_ENSURE(id != NULL && strlen(id) == 2 * ID_BYTES && strspn(id, "0123456789abcdef") == 2 * ID_BYTES,
                 IOTCA_E_USAGE, "a token id is %d lowercase hex digits (the part after \"iotca_\"), not '%.40s'",
                 2 * ID_BYTES, id ? id : "");
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    revoke_job j = {.id = id, .actor = actor && *actor ? actor : "cli", .at = time(NULL)};
    iotca_rc rc = iotca_store_group_write(ca->group, s, revoke_write, &j);
    if (rc == IOTCA_OK && revoked_at) *revoked_at = j.at;
    if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_USAGE, "no token with id %s", id);
    return rc;
}
