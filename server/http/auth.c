/* Authentication and authorisation of a request: its bearer token, its role and the token's rate limit. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "iotca/clock.h"

/* A failed authentication: why, for the request's log line, which then goes out at warning level
 * (respond.c). why names at most the token's public id, never its secret. */
static void auth_failed(request *r, const char *why) { snprintf(r->auth_failure, sizeof r->auth_failure, "%s", why); }

/* The public id of a presented token ("iotca_<16 hex>_..."), for the logs; left empty for any other shape,
 * so nothing else the client sent is logged. */
static void note_token_id(request *r, const char *tok) {
    if (strncmp(tok, "iotca_", 6) != 0 || strlen(tok) < 6 + 16 + 1 || tok[6 + 16] != '_') return;
    for (int i = 0; i < 16; i++)
        if (!strchr("0123456789abcdef", tok[6 + i])) return;
    snprintf(r->token_id, sizeof r->token_id, "%.16s", tok + 6);
}

bool require_role(request *r, response *out, iotca_role need) {
    const char *h = header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0) {
        auth_failed(r, h ? "the Authorization header is not a Bearer token" : "no Authorization header");
        respond_error(out, 401, "unauthorized", "an Authorization: Bearer token is required");
        return false;
    }
    note_token_id(r, h + 7);
    iotca_rc rc = iotca_ca_token_check(r->srv->ca, h + 7, &r->role, r->scope);
    if (rc == IOTCA_E_STORAGE) {
        respond_rc(r, out, rc);
        return false;
    }
    if (rc != IOTCA_OK) {
        /* the log says why (unknown, wrong secret, revoked, expired: the CA's detail names only the id); the
         * client gets the same answer for each, so a revoked token tells an attacker nothing more */
        auth_failed(r, iotca_error_detail());
        respond_error(out, 401, "unauthorized", "unknown or wrong token");
        return false;
    }
    snprintf(r->actor, sizeof r->actor, "token:%.16s", h + 7 + 6); /* the public id, never the secret */
    /* after authentication, so only real tokens get buckets; before the role check, so a token cannot
     * hammer endpoints it may not use either */
    unsigned retry;
    if (r->cfg->rate_per_s && !ratelimit_take(&r->srv->rl, r->actor, r->cfg->rate_per_s, r->cfg->rate_burst,
                                              iotca_mono_ms(), &retry)) {
        __atomic_add_fetch(&r->srv->m.rate_limited, 1, __ATOMIC_RELAXED);
        respond_error(out, 429, "rate_limited",
                      "this token is over its limit of %u requests a second (burst %u); retry in %u s",
                      r->cfg->rate_per_s, r->cfg->rate_burst, retry);
        respond_header(out, "Retry-After", "%u", retry);
        return false;
    }
    if (r->role < need) {
        respond_error(out, 403, "forbidden", "this token's role may not do that");
        return false;
    }
    return true;
}
