/* The config's "keys" (issue 26, SPEC §12): where issuer keys live. Absent or {"store": "file"}: encrypted PKCS#8
 * files in key_dir. {"store": "pkcs11", "module", "token_label" or "token_serial", "pin_file", "ocsp_responder"}:
 * a PKCS#11 token (and the OCSP responders' keys there too with ocsp_responder "token"). */
#include <string.h>

#include "config.h"

static iotca_rc get_text(json_t *o, const char *key, size_t max, const char **out) {
    json_t *v = json_object_get(o, key);
    if (v == NULL) return IOTCA_OK;
    IOTCA_ENSURE(json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max &&
                     strlen(json_string_value(v)) == json_string_length(v),
                 IOTCA_E_USAGE, "config: keys.%s must be a non-empty string of at most %zu bytes", key, max);
    *out = json_string_value(v);
    return IOTCA_OK;
}

iotca_rc config_load_keys(config *c, json_t *j) {
    json_t *k = json_object_get(j, "keys");
    if (k == NULL) return IOTCA_OK;
    IOTCA_ENSURE(json_is_object(k), IOTCA_E_USAGE,
                 "config: keys must be an object ({\"store\": \"file\"} or "
                 "{\"store\": \"pkcs11\", ...})");
    static const char *const keys[] = {"store",    "module", "token_label", "token_serial", "pin_file",
                                       "ocsp_responder", NULL};
    IOTCA_GUARD(config_only_keys(k, "keys", keys));
    const char *store = NULL;
    IOTCA_GUARD(get_text(k, "store", 16, &store));
    IOTCA_ENSURE(store && (strcmp(store, "file") == 0 || strcmp(store, "pkcs11") == 0), IOTCA_E_USAGE,
                 "config: keys.store must be \"file\" or \"pkcs11\"");
    if (strcmp(store, "file") == 0) {
        for (size_t i = 1; keys[i]; i++)
            IOTCA_ENSURE(json_object_get(k, keys[i]) == NULL, IOTCA_E_USAGE,
                         "config: keys.%s is for store \"pkcs11\", not \"file\"", keys[i]);
        return IOTCA_OK;
    }
    IOTCA_GUARD(get_text(k, "module", 4095, &c->keys.module));
    IOTCA_GUARD(get_text(k, "token_label", 32, &c->keys.token_label));
    IOTCA_GUARD(get_text(k, "token_serial", 16, &c->keys.token_serial));
    IOTCA_GUARD(get_text(k, "pin_file", 4095, &c->keys.pin_file));
    IOTCA_ENSURE(c->keys.module && c->keys.module[0] == '/', IOTCA_E_USAGE,
                 "config: keys.module (the PKCS#11 module's absolute path) is required for store \"pkcs11\"");
    IOTCA_ENSURE((c->keys.token_label != NULL) != (c->keys.token_serial != NULL), IOTCA_E_USAGE,
                 "config: keys needs token_label or token_serial (one of them) to name the token");
    const char *ocsp = NULL;
    IOTCA_GUARD(get_text(k, "ocsp_responder", 16, &ocsp));
    IOTCA_ENSURE(ocsp == NULL || strcmp(ocsp, "software") == 0 || strcmp(ocsp, "token") == 0, IOTCA_E_USAGE,
                 "config: keys.ocsp_responder must be \"software\" (the default) or \"token\"");
    c->keys.ocsp_on_token = ocsp && strcmp(ocsp, "token") == 0;
    IOTCA_ENSURE(c->keys.pin_file != NULL, IOTCA_E_USAGE,
                 "config: keys.pin_file (a file holding the token's user PIN, mode 0600) is required for store "
                 "\"pkcs11\"");
    return IOTCA_OK;
}
