/* The ACME directory and new-nonce of a profile (RFC 8555 §7.1.1, §7.2). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "iotca/json_views.h"

void acme_directory(request *r, const char *const *p, response *out) {
    bool eab = true;
    const char *profile = acme_profile(r, p, out, &eab);
    if (profile == NULL) return;
    char nonce[512], account[512], order[512], revoke[512], key[512], ari[512];
    acme_url(r, profile, nonce, sizeof nonce, "new-nonce");
    acme_url(r, profile, account, sizeof account, "new-account");
    acme_url(r, profile, order, sizeof order, "new-order");
    acme_url(r, profile, revoke, sizeof revoke, "revoke-cert");
    acme_url(r, profile, key, sizeof key, "key-change");
    acme_url(r, profile, ari, sizeof ari, "renewal-info");
    char website[600];
    snprintf(website, sizeof website, "%s/v1/ca/roots", r->cfg->base_url);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:b, s:s}}", "newNonce", nonce, "newAccount", account,
                            "newOrder", order, "revokeCert", revoke, "keyChange", key, "renewalInfo", ari, "meta",
                            "externalAccountRequired", eab, "website", website);
    /* ACME profiles (draft-aaron-acme-profiles): the variants this directory offers, besides its own */
    json_t *variants = json_object();
    for (size_t i = 0; i < r->cfg->n_acme; i++) {
        if (strcmp(r->cfg->acme[i].name, profile) != 0) continue;
        for (size_t k = 0; k < r->cfg->acme[i].n_variants; k++) {
            char what[160];
            snprintf(what, sizeof what, "issued under iotca profile %s", r->cfg->acme[i].variant_profile[k]);
            json_object_set_new(variants, r->cfg->acme[i].variant[k], json_string(what));
        }
    }
    if (json_object_size(variants)) {
        char own[160];
        snprintf(own, sizeof own, "issued under iotca profile %s (the default)", profile);
        json_object_set_new(variants, profile, json_string(own));
        json_object_set_new(json_object_get(doc, "meta"), "profiles", variants);
    } else {
        json_decref(variants);
    }
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

/* RFC 9773 §4.1: GET renewal-info/{certID}, certID = base64url(AKI keyIdentifier) "." base64url(serial); no JWS. */
void acme_renewal_info(request *r, const char *const *p, response *out) {
    const char *profile = acme_profile(r, p, out, NULL);
    if (profile == NULL) return;
    const char *dot = strchr(p[1], '.');
    iotca_buf aki = {0}, serial = {0};
    iotca_rc rc = dot ? iotca_b64url_decode(p[1], (size_t)(dot - p[1]), &aki)
                      : iotca_error_set(IOTCA_E_PARSE, "malformed: a certID is keyIdentifier.serial");
    if (rc == IOTCA_OK) rc = iotca_b64url_decode(dot + 1, strlen(dot + 1), &serial);
    time_t start = 0, end = 0;
    if (rc == IOTCA_OK)
        rc = iotca_ca_acme_renewal_window(r->srv->ca, iotca_buf_slice(&aki), iotca_buf_slice(&serial), time(NULL),
                                          &start, &end);
    if (rc == IOTCA_OK) {
        respond_json(out, 200, json_pack("{s:{s:o, s:o}}", "suggestedWindow", "start", iotca_json_time(start), "end",
                                         iotca_json_time(end)));
        respond_header(out, "Retry-After", "21600"); /* §4.3: ask again in six hours */
        acme_headers(r, out, profile);
    } else if (rc == IOTCA_E_USAGE) {
        acme_problem_status(r, out, profile, 404, "malformed", iotca_error_detail());
    } else {
        acme_problem_rc(r, out, profile, rc);
    }
    iotca_buf_free(&aki);
    iotca_buf_free(&serial);
}
