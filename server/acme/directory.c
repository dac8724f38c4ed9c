/* The ACME directory and new-nonce of a profile (RFC 8555 §7.1.1, §7.2). */
#include <stdio.h>

#include "acme.h"

void acme_directory(request *r, const char *const *p, response *out) {
    bool eab = true;
    const char *profile = acme_profile(r, p, out, &eab);
    if (profile == NULL) return;
    char nonce[512], account[512], order[512], revoke[512], key[512];
    acme_url(r, profile, nonce, sizeof nonce, "new-nonce");
    acme_url(r, profile, account, sizeof account, "new-account");
    acme_url(r, profile, order, sizeof order, "new-order");
    acme_url(r, profile, revoke, sizeof revoke, "revoke-cert");
    acme_url(r, profile, key, sizeof key, "key-change");
    char website[600];
    snprintf(website, sizeof website, "%s/v1/ca/roots", r->cfg->base_url);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:b, s:s}}", "newNonce", nonce, "newAccount", account,
                            "newOrder", order, "revokeCert", revoke, "keyChange", key, "meta",
                            "externalAccountRequired", eab, "website", website);
    respond_json(out, 200, doc);
    acme_headers(r, out, profile);
}

void acme_new_nonce(request *r, const char *const *p, response *out) {
    const char *profile = acme_profile(r, p, out, NULL);
    if (profile == NULL) return;
    /* §7.2: 200 to HEAD, 204 to GET, the nonce in Replay-Nonce, never cached */
    respond_text(out, r->method[0] == 'H' ? 200 : 204, "text/plain", "", 0);
    acme_headers(r, out, profile);
}
