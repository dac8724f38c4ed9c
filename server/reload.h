/* The live configuration: the config requests run under, reference-counted, and its replacement on SIGHUP. */
#ifndef IOTCAD_RELOAD_H
#define IOTCAD_RELOAD_H

#include <pthread.h>

#include "config.h"
#include "metrics.h"

/* Configs replaced by a reload but possibly still in use, kept at most this many (a reload is refused while
 * that many are still held by requests in flight). */
#define LIVE_MAX_RETIRED 16

typedef struct live_cfg live_cfg;

/* Requests take the current config when they start (live_acquire) and give it back when they end
 * (live_release), so a handler reads one config from start to end. A reload swaps the current config and the
 * CA's profile table together under the lock. A replaced config is freed only when no request holds it or
 * any config older than it: a request that began under config N may look up profiles through the CA while
 * N+1, N+2 ... are current, so those may not go before N does. */
typedef struct live {
    pthread_mutex_t mu;
    live_cfg *cur;
    live_cfg *retired; /* oldest first */
    size_t n_retired;
    char *path;
} live;

/* Takes over *c (which is left zeroed) as the current config of file path. IOTCA_E_INTERNAL without memory. */
iotca_rc live_init(live *l, const char *path, config *c);
/* Frees every config; no request may be in flight. */
void live_free(live *l);
/* The current config, to be given back with live_release. Thread-safe. */
const config *live_acquire(live *l);
void live_release(live *l, const config *c);
/* The current config for the thread that reloads (main): valid until its next live_reload. */
const config *live_current(live *l);

/* Re-reads the config file (SIGHUP). Applies it only if it is valid and changes nothing that needs a
 * restart (config_restart_key); otherwise the running config stays, whole. Each attempt appends one audit
 * record (actor "operator:SIGHUP", action "config.reload", subject the path, outcome "ok" or
 * "refused: <why>", detail "sha256=<hex of the file's bytes>"), logs one JSON line and counts in metrics.
 * An attempt whose audit record cannot be written is refused. Returns true if the new config is live. */
bool live_reload(live *l, iotca_ca *ca, metrics *m);

#endif
