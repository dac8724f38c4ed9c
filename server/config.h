/* iotcad's configuration: one JSON file, validated strictly (unknown keys are errors, so typos are caught). */
#ifndef IOTCAD_CONFIG_H
#define IOTCAD_CONFIG_H

#include <jansson.h>

#include "iotca/ca.h"

#define CONFIG_MAX_PROFILES 32
#define CONFIG_MAX_ROOTS 8

typedef struct config {
    json_t *json; /* owns every string below */
    const char *address;
    int port;
    const char *tls_cert, *tls_key; /* both or neither */
    bool allow_plain_public;
    const char *database, *key_dir, *key_passphrase_file;
    const char *roots[CONFIG_MAX_ROOTS];
    size_t n_roots;
    iotca_key_type issuer_key_type;
    const char *default_group, *base_url;
    size_t max_body;
    unsigned timeout_s, max_connections, threads, tick_s;
    iotca_profile profiles[CONFIG_MAX_PROFILES];
    size_t n_profiles;
} config;

/* Loads and validates path. IOTCA_E_USAGE/IOTCA_E_PARSE naming the key and
 * the problem ("config: profiles.device.max_ttl: ..."). */
iotca_rc config_load(const char *path, config *c);
void config_free(config *c);

#endif
