/* Config reload on SIGHUP: validate the new file whole, refuse what needs a restart, swap under a lock, audit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iotca/file.h"
#include "iotca/key.h"
#include "log.h"
#include "reload.h"

struct live_cfg {
    config c; /* first, so a const config * handed out is also its live_cfg */
    unsigned refs;
    live_cfg *next;
};

static void free_cfg(live_cfg *lc) {
    config_free(&lc->c);
    free(lc);
}

/* path made absolute against the working directory now, without resolving symlinks: the file re-read on
 * SIGHUP is the one named at start-up, and the audit trail names it unambiguously. */
static char *absolute(const char *path) {
    char cwd[4096];
    if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL) return strdup(path);
    size_t n = strlen(cwd) + 1 + strlen(path) + 1;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%s/%s", cwd, path);
    return out;
}

iotca_rc live_init(live *l, const char *path, config *c) {
    memset(l, 0, sizeof *l);
    live_cfg *lc = calloc(1, sizeof *lc);
    l->path = absolute(path);
    if (lc == NULL || l->path == NULL) {
        free(lc);
        free(l->path);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "out of memory");
    }
    lc->c = *c;
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&l->mu, NULL);
    l->cur = lc;
    return IOTCA_OK;
}

void live_free(live *l) {
    if (l->cur == NULL) return;
    while (l->retired) {
        live_cfg *x = l->retired;
        l->retired = x->next;
        free_cfg(x);
    }
    free_cfg(l->cur);
    free(l->path);
    pthread_mutex_destroy(&l->mu);
    memset(l, 0, sizeof *l);
}

/* Frees the retired configs no request can reach: the oldest ones, as long as none of them is held. Caller
 * holds mu. */
static void sweep(live *l) {
    while (l->retired && l->retired->refs == 0) {
        live_cfg *x = l->retired;
        l->retired = x->next;
        l->n_retired--;
        free_cfg(x);
    }
}

const config *live_acquire(live *l) {
    pthread_mutex_lock(&l->mu);
    live_cfg *lc = l->cur;
    lc->refs++;
    pthread_mutex_unlock(&l->mu);
    return &lc->c;
}

void live_release(live *l, const config *c) {
    live_cfg *lc = (live_cfg *)c;
    pthread_mutex_lock(&l->mu);
    lc->refs--;
    if (lc != l->cur) sweep(l);
    pthread_mutex_unlock(&l->mu);
}

const config *live_current(live *l) { return &l->cur->c; }

/* Makes lc current and the CA's profiles its profiles, in one step as seen by live_acquire. */
static iotca_rc swap(live *l, iotca_ca *ca, live_cfg *lc) {
    pthread_mutex_lock(&l->mu);
    sweep(l);
    iotca_rc rc = l->n_retired < LIVE_MAX_RETIRED
                      ? iotca_ca_set_profiles(ca, lc->c.profiles, lc->c.n_profiles)
                      : iotca_error_set(IOTCA_E_USAGE, "%d earlier configs are still held by requests in flight",
                                        LIVE_MAX_RETIRED);
    if (rc == IOTCA_OK) {
        live_cfg **tail = &l->retired;
        while (*tail) tail = &(*tail)->next;
        *tail = l->cur;
        l->cur->next = NULL;
        l->n_retired++;
        l->cur = lc;
        sweep(l);
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* Room for retiring one more config? Checked before the audit record says "ok". */
static bool room(live *l) {
    pthread_mutex_lock(&l->mu);
    sweep(l);
    bool ok = l->n_retired < LIVE_MAX_RETIRED;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

bool live_reload(live *l, iotca_ca *ca, metrics *m) {
    iotca_buf raw = {0};
    char sha[65] = "-", why[320] = "", code[64] = "";
    const char *key = NULL;
    live_cfg *lc = NULL;
    iotca_rc rc = iotca_file_read(l->path, CONFIG_MAX_BYTES, &raw);
    if (rc != IOTCA_OK) {
        snprintf(code, sizeof code, "unreadable");
        snprintf(why, sizeof why, "cannot read the config file: %s", iotca_error_detail());
    } else {
        uint8_t h[32];
        iotca_sha256(iotca_buf_slice(&raw), h);
        for (int i = 0; i < 32; i++) snprintf(sha + 2 * i, 3, "%02x", h[i]);
        lc = calloc(1, sizeof *lc);
        if (lc == NULL) {
            snprintf(code, sizeof code, "internal");
            snprintf(why, sizeof why, "out of memory");
        } else if (config_parse(l->path, raw.data, raw.len, &lc->c) != IOTCA_OK) {
            free(lc);
            lc = NULL;
            snprintf(code, sizeof code, "invalid");
            snprintf(why, sizeof why, "%s", iotca_error_detail());
        } else if ((key = config_restart_key(live_current(l), &lc->c)) != NULL) {
            snprintf(code, sizeof code, "%s", key);
            snprintf(why, sizeof why, "%s changed: that takes a restart; the running config stays", key);
        } else if (!room(l)) {
            snprintf(code, sizeof code, "busy");
            snprintf(why, sizeof why, "%d earlier configs are still held by requests in flight; try again",
                     LIVE_MAX_RETIRED);
        }
    }
    iotca_buf_free(&raw);
    /* the record goes in before the new config is live: a reload that cannot be audited does not happen */
    char outcome[80], detail[400];
    if (why[0]) snprintf(outcome, sizeof outcome, "refused: %s", code);
    else snprintf(outcome, sizeof outcome, "ok");
    snprintf(detail, sizeof detail, "sha256=%s%s%s", sha, why[0] ? "; " : "", why);
    if (iotca_ca_audit(ca, "operator:SIGHUP", "config.reload", l->path, "-", outcome, detail) != IOTCA_OK &&
        !why[0]) {
        snprintf(why, sizeof why, "the audit trail cannot be written: %s", iotca_error_detail());
    }
    if (!why[0] && swap(l, ca, lc) != IOTCA_OK) {
        snprintf(why, sizeof why, "%s", iotca_error_detail());
        log_event("error", "config reload audited as ok but not applied",
                  json_pack("{s:s, s:s}", "path", l->path, "detail", why));
        iotca_ca_audit(ca, "operator:SIGHUP", "config.reload", l->path, "-", "refused: not applied", why);
    }
    bool ok = !why[0];
    if (!ok && lc) free_cfg(lc);
    json_t *f = json_pack("{s:s, s:s, s:s}", "path", l->path, "outcome", ok ? "ok" : "refused", "sha256", sha);
    if (!ok) json_object_set_new(f, "detail", json_string(why));
    if (key) json_object_set_new(f, "key", json_string(key));
    if (ok) json_object_set_new(f, "profiles", json_integer((json_int_t)live_current(l)->n_profiles));
    log_event_always(ok ? "info" : "warn", "config reload", f);
    if (ok) log_set_level(live_current(l)->log_level);
    __atomic_add_fetch(ok ? &m->reloads_ok : &m->reloads_refused, 1, __ATOMIC_RELAXED);
    return ok;
}
