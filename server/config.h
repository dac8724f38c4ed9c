/* iotcad's configuration: one JSON file, validated strictly (unknown keys are errors, so typos are caught). */
#ifndef IOTCAD_CONFIG_H
#define IOTCAD_CONFIG_H

#include <jansson.h>

#include "iotca/ca.h"
#include "iotca/ca_rehearsal.h"
#include "iotca/validate.h"

#define CONFIG_MAX_PROFILES 32
#define CONFIG_MAX_ROOTS 8
#define CONFIG_MAX_BYTES (1 << 20)
/* limits.max_connections: with epoll an idle connection costs a descriptor and a little memory, so the default
 * is high enough that 10,000 idle clients do not lock out the rest; the daemon lowers it to what its descriptor
 * limit allows at start-up (and says so). The cap is Linux's default nr_open. */
#define CONFIG_DEFAULT_CONNECTIONS 16384
#define CONFIG_MAX_CONNECTIONS 1048576
/* limits.workers: the pool that runs state-changing requests (server/http.c). Each holds its thread while its
 * record is committed, so the pool is several times the cores: enough issuances in flight to fill a group
 * commit while others sign. */
#define CONFIG_DEFAULT_WORKERS 16

typedef struct config {
    json_t *json; /* owns every string below */
    const char *address;
    int port;
    const char *tls_cert, *tls_key; /* both or neither */
    bool allow_plain_public;
    bool allow_readable_secrets; /* from the command line (--allow-readable-secrets), never from the file */
    const char *database, *key_dir, *key_passphrase_file;
    /* the database's connection settings (config_db.c; PostgreSQL only): libpq's connect timeout, each
     * statement's timeout (0: none), the most connections a process opens (0: no limit; as many again to
     * the read replica), and a read replica's conninfo (NULL: none) */
    struct {
        unsigned connect_timeout_s, statement_timeout_ms, pool_size;
        const char *read;
        iotca_buf owned, read_owned; /* conninfo words made from objects (database, read point into them) */
    } db;
    /* issuer keys on a PKCS#11 token (config_keys.c): module NULL means encrypted files in key_dir */
    struct {
        const char *module, *token_label, *token_serial, *pin_file;
        bool ocsp_on_token; /* keys.ocsp_responder "token" */
    } keys;
    const char *roots[CONFIG_MAX_ROOTS];
    size_t n_roots;
    /* cross-certificates (a configured root's subject and key, signed by another root): alternate chains */
    const char *cross[CONFIG_MAX_ROOTS];
    size_t n_cross;
    iotca_key_type issuer_key_type;
    const char *default_group, *base_url;
    size_t max_body;
    unsigned timeout_s, max_connections, threads, workers, tick_s;
    unsigned rate_per_s, rate_burst; /* per-token rate limit; rate_per_s 0: none */
    int log_level;                   /* minimum level logged (log_level_parse rank) */
    iotca_profile profiles[CONFIG_MAX_PROFILES];
    size_t n_profiles;
    /* ACME (SPEC §9): the profiles served at /acme/{profile}/directory, and whether each makes accounts only
     * with an external account binding (the default) */
    struct {
        const char *name;
        bool eab_required;
        /* ACME profiles (the directory's meta.profiles; draft-aaron-acme-profiles): the name a client orders and
         * the configured profile it issues under; none: only the directory's own */
        const char *variant[CONFIG_MAX_PROFILES], *variant_profile[CONFIG_MAX_PROFILES];
        size_t n_variants;
    } acme[CONFIG_MAX_PROFILES];
    size_t n_acme;
    iotca_validate_config acme_validation; /* acme.validation: where and how challenges are checked */
    /* EST (SPEC §10): the profiles served under /.well-known/est/{profile}/, each with the PBKDF2 hash of its
     * enrollment secret (HTTP Basic's password); default_profile the one /.well-known/est/ serves, or NULL */
    struct config_est {
        const char *name, *secret_hash;
        long reenroll_grace; /* seconds a certificate may re-enroll after it expired (SPEC §10); 0: none */
        const char *bootstrap_ca; /* a PEM file of CA certificates whose certificates may simpleenroll; NULL: none */
        bool channel_binding_required; /* a CSR without the TLS channel binding is refused (RFC 7030 §3.5) */
    } est[CONFIG_MAX_PROFILES];
    size_t n_est;
    const char *est_default;
    /* rehearsal endpoints (issue 24): scenario i is served with TLS on address:base_port+i; on when configured */
    struct {
        bool on;
        const char *address;
        unsigned base_port;
        iotca_rehearsal_config rc; /* name, group, ttl, require: checked by iotca_rehearsal_config_check */
    } rehearsal;
} config;

/* The ACME settings of profile name, or NULL when it has no ACME directory. */
const void *config_acme_profile(const config *c, const char *name, bool *eab_required);
/* The profile a newOrder's ACME profile `variant` of directory `name` issues under (NULL variant: the directory's
 * own), or NULL when the directory offers no such variant. */
const char *config_acme_variant(const config *c, const char *name, const char *variant);

/* The EST settings of profile name (NULL: the default profile, if there is one), or NULL when it has no EST
 * label. */
const struct config_est *config_est_profile(const config *c, const char *name);

/* Loads and validates path. IOTCA_E_USAGE/IOTCA_E_PARSE naming the key and
 * the problem ("config: profiles.device.max_ttl: ..."). */
iotca_rc config_load(const char *path, config *c);
/* As config_load, from the len bytes at data already read from path (path only names them in messages). */
iotca_rc config_parse(const char *path, const void *data, size_t len, config *c);
void config_free(config *c);
/* Reads the config's "database" (config_db.c) into c->database and c->db. */
iotca_rc config_load_database(config *c, json_t *j);
/* IOTCA_E_USAGE "config: WHERE: unknown key 'K'" for a key of obj not in allowed (NULL-terminated); keys
 * starting with // are comments. */
iotca_rc config_only_keys(json_t *obj, const char *where, const char *const *allowed);
/* "keys" (config_keys.c): c->keys; absent means key files. */
iotca_rc config_load_keys(config *c, json_t *j);
/* db as it may be shown (printed, logged): a password in a URL or among the words masked. */
void config_database_display(const char *db, char *out, size_t cap);

/* What a running daemon can take from a new config file (SIGHUP) is profiles, rate_limit, log and
 * limits.max_body_bytes. Returns the first key whose value differs between the two configs and needs a
 * restart ("listen.port", "roots", ...), or NULL when a reload can apply b in full. */
const char *config_restart_key(const config *a, const config *b);

#endif
