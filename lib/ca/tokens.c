/* API tokens: "iotca_<id>_<secret>"; only SHA-256(secret) is stored, and it is compared in constant time. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"

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

iotca_rc iotca_ca_token_create(iotca_ca *ca, iotca_role role, const char *profiles, iotca_buf *token) {
    IOTCA_ENSURE(role == IOTCA_ROLE_ADMIN || role == IOTCA_ROLE_PROVISIONER, IOTCA_E_USAGE, "unknown role");
    iotca_token_rec t = {0};
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
    if (rc == IOTCA_OK)
        rc = iotca_ca_audit(ca, "cli", "token.create", t.id, "-", "ok", role == IOTCA_ROLE_ADMIN ? "role admin" : t.profiles[0] ? t.profiles : "role provisioner, all profiles");
    if (rc == IOTCA_OK) {
        token->secret = true;
        rc = iotca_buf_printf(token, "iotca_%s_%s", (const char *)idhex.data, (const char *)sechex.data);
    }
    iotca_wipe(secret, sizeof secret);
    iotca_buf_free(&idhex);
    iotca_buf_free(&sechex);
    return rc;
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
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_token_rec t;
    uint8_t h[32];
    const char *secret = token + 6 + 2 * ID_BYTES + 1;
    iotca_sha256(iotca_slice_of(secret, 2 * SECRET_BYTES), h);
    iotca_rc rc = iotca_store_token_get(s, id, &t);
    if (rc == IOTCA_E_STORAGE) return rc;
    /* compare even when the id is unknown, so timing does not tell ids apart */
    bool ok = iotca_ct_equal(h, rc == IOTCA_OK ? t.hash : h, 32) && rc == IOTCA_OK;
    IOTCA_ENSURE(ok, IOTCA_E_USAGE, "unknown or wrong token");
    *role = strcmp(t.role, "admin") == 0 ? IOTCA_ROLE_ADMIN : IOTCA_ROLE_PROVISIONER;
    snprintf(scope, 1024, "%s", t.profiles);
    return IOTCA_OK;
}
