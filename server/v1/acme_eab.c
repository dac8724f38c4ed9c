/* The admin API for ACME External Account Binding keys (RFC 8555 §7.3.4; issue 21): POST /v1/acme/eab makes one for a
 * profile with an ACME directory and shows its HMAC key once, GET lists them without secrets, DELETE revokes one.
 * The same service as `iotcad acme eab` at the CA host; each change audited with the token that asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "v1.h"
#include "iotca/ca_acme.h"
#include "iotca/json_views.h"

void api_acme_eab_create(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    json_error_t e;
    const char *profile = NULL;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s}", "profile", &profile) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: profile)", e.text);
    } else if (!config_acme_profile(r->cfg, profile, NULL)) {
        respond_error(out, 400, "bad_request", "profile '%.64s' has no ACME directory (the config's acme.profiles)",
                      profile);
    } else {
        iotca_acme_eab_key k;
        iotca_rc rc = iotca_ca_acme_eab_create(r->srv->ca, profile, r->actor, &k);
        if (rc == IOTCA_OK) {
            char dir[600];
            snprintf(dir, sizeof dir, "%s/acme/%s/directory", r->cfg->base_url ? r->cfg->base_url : "", k.profile);
            snprintf(r->audit_subject, sizeof r->audit_subject, "acme eab %s", k.kid);
            r->audited = true; /* the key's creation wrote its audit record */
            respond_json(out, 201, json_pack("{s:s, s:s, s:s, s:s}", "kid", k.kid, "hmac_key", k.hmac_key, "profile",
                                             k.profile, "directory", dir));
            memset(&k, 0, sizeof k);
        } else {
            respond_rc(r, out, rc);
        }
    }
    json_decref(j);
}

void api_acme_eab_list(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    iotca_acme_eab_rec *keys = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_ca_acme_eab_list(r->srv->ca, &keys, &n);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *k = json_pack("{s:s, s:s, s:o}", "kid", keys[i].kid, "profile", keys[i].profile, "created",
                              iotca_json_time(keys[i].created_at));
        json_object_set_new(k, "revoked", keys[i].revoked_at ? iotca_json_time(keys[i].revoked_at) : json_null());
        json_object_set_new(k, "account", keys[i].account_id ? json_integer(keys[i].account_id) : json_null());
        json_array_append_new(arr, k);
    }
    free(keys);
    respond_json(out, 200, json_pack("{s:o}", "eab_keys", arr));
}

void api_acme_eab_revoke(request *r, const char *const *p, response *out) {
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    iotca_rc rc = strlen(p[0]) < 64 ? iotca_ca_acme_eab_revoke(r->srv->ca, p[0], r->actor)
                                    : iotca_error_set(IOTCA_E_USAGE, "no such EAB key");
    if (rc == IOTCA_E_USAGE) {
        respond_error(out, 404, "not_found", "no EAB key %.64s", p[0]);
    } else if (rc == IOTCA_OK) {
        r->audited = true;
        respond_json(out, 200, json_pack("{s:s, s:b}", "kid", p[0], "revoked", 1));
    } else {
        respond_rc(r, out, rc);
    }
}
