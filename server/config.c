/* Loading iotcad's JSON config into plain structs; the policy module never sees JSON. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "iotca/ca_est.h"
#include "iotca/file.h"
#include "log.h"
#include "ratelimit.h"

/* Refuses keys outside the allowed list. */
iotca_rc config_only_keys(json_t *obj, const char *where, const char *const *allowed) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = strncmp(k, "//", 2) == 0; /* comment keys */
        for (size_t i = 0; allowed[i] && !ok; i++) ok = strcmp(k, allowed[i]) == 0;
        IOTCA_ENSURE(ok, IOTCA_E_USAGE, "config: %s: unknown key '%s'", where, k);
    }
    return IOTCA_OK;
}

static iotca_rc get_str(json_t *obj, const char *key, const char *where, bool required, const char **out) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        IOTCA_ENSURE(!required, IOTCA_E_USAGE, "config: %s.%s is required", where, key);
        return IOTCA_OK;
    }
    IOTCA_ENSURE(json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 1024, IOTCA_E_USAGE,
                 "config: %s.%s must be a non-empty string", where, key);
    *out = json_string_value(v);
    return IOTCA_OK;
}

static iotca_rc get_uint(json_t *obj, const char *key, const char *where, long lo, long hi, unsigned *out) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL) return IOTCA_OK;
    IOTCA_ENSURE(json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi, IOTCA_E_USAGE,
                 "config: %s.%s must be an integer from %ld to %ld", where, key, lo, hi);
    *out = (unsigned)json_integer_value(v);
    return IOTCA_OK;
}

static iotca_rc get_bool(json_t *obj, const char *key, const char *where, bool *out) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL) return IOTCA_OK;
    IOTCA_ENSURE(json_is_boolean(v), IOTCA_E_USAGE, "config: %s.%s must be true or false", where, key);
    *out = json_is_true(v);
    return IOTCA_OK;
}

static iotca_rc get_duration(json_t *obj, const char *key, const char *where, long *out) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL) return IOTCA_OK;
    if (json_is_integer(v)) {
        IOTCA_ENSURE(json_integer_value(v) > 0, IOTCA_E_USAGE, "config: %s.%s must be positive", where, key);
        *out = (long)json_integer_value(v);
        return IOTCA_OK;
    }
    IOTCA_ENSURE(json_is_string(v), IOTCA_E_USAGE, "config: %s.%s must be a duration like \"90d\"", where, key);
    iotca_rc rc = iotca_duration_parse(json_string_value(v), out);
    IOTCA_ENSURE(rc == IOTCA_OK, rc, "config: %s.%s: %s", where, key, iotca_error_detail());
    return IOTCA_OK;
}

/* A JSON array of strings into a fixed array. */
static iotca_rc get_strs(json_t *obj, const char *key, const char *where, const char **out, size_t max, size_t *n) {
    json_t *v = json_object_get(obj, key), *e;
    size_t i;
    *n = 0;
    if (v == NULL) return IOTCA_OK;
    IOTCA_ENSURE(json_is_array(v) && json_array_size(v) <= max, IOTCA_E_USAGE,
                 "config: %s.%s must be an array of at most %zu strings", where, key, max);
    json_array_foreach(v, i, e) {
        IOTCA_ENSURE(json_is_string(e) && json_string_length(e) > 0, IOTCA_E_USAGE,
                     "config: %s.%s[%zu] must be a non-empty string", where, key, i);
        out[(*n)++] = json_string_value(e);
    }
    return IOTCA_OK;
}

static const struct {
    const char *name;
    unsigned bit;
} ku_names[] = {{"digitalSignature", IOTCA_KU_DIGITAL_SIGNATURE},
                {"keyEncipherment", IOTCA_KU_KEY_ENCIPHERMENT},
                {"keyAgreement", IOTCA_KU_KEY_AGREEMENT},
                {"dataEncipherment", IOTCA_KU_DATA_ENCIPHERMENT},
                {"nonRepudiation", IOTCA_KU_NON_REPUDIATION}};

static iotca_rc load_profile(const char *name, json_t *p, iotca_profile *out) {
    static const char *const keys[] = {"issuer_group", "key_types",    "max_ttl",     "default_ttl", "eku",
                                       "key_usage",    "dns_suffixes", "allow_wildcards", "ip_ranges", "uri_prefixes",
                                       "max_names",    "require_san",  "cn_in_san",   "subject",     "bridge_max_ttl",
                                       NULL};
    char where[96];
    snprintf(where, sizeof where, "profiles.%s", name);
    IOTCA_ENSURE(json_is_object(p), IOTCA_E_USAGE, "config: %s must be an object", where);
    IOTCA_GUARD(config_only_keys(p, where, keys));
    memset(out, 0, sizeof *out);
    out->name = name;
    out->issuer_group = "default";
    IOTCA_GUARD(get_str(p, "issuer_group", where, false, &out->issuer_group));
    const char *list[IOTCA_PROFILE_MAX_RULES];
    size_t n;
    IOTCA_GUARD(get_strs(p, "key_types", where, list, IOTCA_PROFILE_MAX_RULES, &n));
    for (size_t i = 0; i < n; i++) {
        iotca_key_type t;
        iotca_rc rc = iotca_key_type_parse(list[i], &t);
        IOTCA_ENSURE(rc == IOTCA_OK, rc, "config: %s.key_types: %s", where, iotca_error_detail());
        out->key_types |= 1u << t;
    }
    if (n == 0) out->key_types = 1u << IOTCA_KEY_ECDSA_P256 | 1u << IOTCA_KEY_ECDSA_P384;
    out->max_ttl = 90 * 86400;
    IOTCA_GUARD(get_duration(p, "max_ttl", where, &out->max_ttl));
    out->default_ttl = out->max_ttl;
    IOTCA_GUARD(get_duration(p, "default_ttl", where, &out->default_ttl));
    IOTCA_GUARD(get_duration(p, "bridge_max_ttl", where, &out->bridge_max_ttl)); /* absent: no bridges */
    IOTCA_GUARD(get_strs(p, "eku", where, list, 4, &n));
    for (size_t i = 0; i < n; i++) {
        unsigned bits;
        iotca_rc rc = iotca_eku_parse(list[i], &bits);
        IOTCA_ENSURE(rc == IOTCA_OK, rc, "config: %s.eku: %s", where, iotca_error_detail());
        out->eku |= bits;
    }
    IOTCA_GUARD(get_strs(p, "key_usage", where, list, 5, &n));
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < sizeof ku_names / sizeof ku_names[0]; j++)
            if (strcmp(list[i], ku_names[j].name) == 0) {
                out->key_usage |= ku_names[j].bit;
                found = true;
            }
        IOTCA_ENSURE(found, IOTCA_E_USAGE, "config: %s.key_usage: unknown '%s'", where, list[i]);
    }
    IOTCA_GUARD(get_strs(p, "dns_suffixes", where, out->dns_suffixes, IOTCA_PROFILE_MAX_RULES, &out->n_dns_suffixes));
    IOTCA_GUARD(get_bool(p, "allow_wildcards", where, &out->allow_wildcards));
    IOTCA_GUARD(get_strs(p, "ip_ranges", where, list, IOTCA_PROFILE_MAX_RULES, &n));
    for (size_t i = 0; i < n; i++) {
        iotca_rc rc = iotca_ip_parse(list[i], &out->ip_ranges[i]);
        IOTCA_ENSURE(rc == IOTCA_OK, rc, "config: %s.ip_ranges: %s", where, iotca_error_detail());
    }
    out->n_ip_ranges = n;
    IOTCA_GUARD(get_strs(p, "uri_prefixes", where, out->uri_prefixes, IOTCA_PROFILE_MAX_RULES, &out->n_uri_prefixes));
    unsigned max_names = 0;
    IOTCA_GUARD(get_uint(p, "max_names", where, 1, IOTCA_SPEC_MAX_NAMES, &max_names));
    out->max_names = max_names;
    IOTCA_GUARD(get_bool(p, "require_san", where, &out->require_san));
    IOTCA_GUARD(get_bool(p, "cn_in_san", where, &out->cn_in_san));
    const char *subject = "csr";
    IOTCA_GUARD(get_str(p, "subject", where, false, &subject));
    if (strcmp(subject, "csr") == 0) out->subject = IOTCA_SUBJECT_FROM_CSR;
    else if (strcmp(subject, "cn") == 0) out->subject = IOTCA_SUBJECT_CN_ONLY;
    else IOTCA_BAIL(IOTCA_E_USAGE, "config: %s.subject must be \"csr\" or \"cn\"", where);
    iotca_rc rc = iotca_profile_validate(out);
    IOTCA_ENSURE(rc == IOTCA_OK, rc, "config: %s", iotca_error_detail());
    return IOTCA_OK;
}

static bool loopback(const char *a) {
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, a, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, a, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

/* acme.validation: {"resolvers": ["ip:port"...], "http_port": N, "allowed_ranges": ["cidr"...], "timeout_s": N}. */
static iotca_rc load_validation(config *c, json_t *v) {
    static const char *const validation_keys[] = {"resolvers", "http_port", "tls_port", "allowed_ranges", "timeout_s",
                                                  NULL};
    iotca_validate_config *vc = &c->acme_validation;
    vc->http_port = 80;
    vc->tls_port = 443;
    vc->timeout_ms = 10000;
    if (v == NULL || json_is_null(v)) return IOTCA_OK;
    IOTCA_ENSURE(json_is_object(v), IOTCA_E_USAGE, "config: acme.validation must be an object");
    IOTCA_GUARD(config_only_keys(v, "acme.validation", validation_keys));
    const char *list[IOTCA_VALIDATE_MAX_RANGES];
    size_t n;
    IOTCA_GUARD(get_strs(v, "resolvers", "acme.validation", list, 4, &n));
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(vc->resolvers);
        IOTCA_ENSURE(strspn(list[i], "0123456789abcdefABCDEF.:[]") == strlen(list[i]) &&
                         used + strlen(list[i]) + 2 < sizeof vc->resolvers,
                     IOTCA_E_USAGE, "config: acme.validation.resolvers[%zu] must be an address, optionally with :port", i);
        snprintf(vc->resolvers + used, sizeof vc->resolvers - used, "%s%s", used ? "," : "", list[i]);
    }
    IOTCA_GUARD(get_uint(v, "http_port", "acme.validation", 1, 65535, &vc->http_port));
    IOTCA_GUARD(get_uint(v, "tls_port", "acme.validation", 1, 65535, &vc->tls_port));
    unsigned t = 10;
    IOTCA_GUARD(get_uint(v, "timeout_s", "acme.validation", 1, 60, &t));
    vc->timeout_ms = t * 1000;
    IOTCA_GUARD(get_strs(v, "allowed_ranges", "acme.validation", list, IOTCA_VALIDATE_MAX_RANGES, &n));
    for (size_t i = 0; i < n; i++) {
        iotca_rc rc = iotca_ip_parse(list[i], &vc->allowed[i]);
        IOTCA_ENSURE(rc == IOTCA_OK, rc, "config: acme.validation.allowed_ranges: %s", iotca_error_detail());
    }
    vc->n_allowed = n;
    return IOTCA_OK;
}

/* Whether name is one of the configured profiles. */
static bool known_profile(const config *c, const char *name) {
    for (size_t i = 0; i < c->n_profiles; i++)
        if (strcmp(c->profiles[i].name, name) == 0) return true;
    return false;
}

/* One entry NAME of a section's "profiles" object (acme, est): NAME must be a configured profile and its value an
 * object of keys; where gets "SECTION.profiles.NAME" for the messages. */
static iotca_rc profile_entry(const config *c, const char *section, const char *name, json_t *p,
                              const char *const *keys, char where[96]) {
    snprintf(where, 96, "%s.profiles.%s", section, name);
    IOTCA_ENSURE(known_profile(c, name), IOTCA_E_USAGE, "config: %s: no profile named '%s' in profiles", where, name);
    IOTCA_ENSURE(json_is_object(p), IOTCA_E_USAGE, "config: %s must be an object", where);
    return config_only_keys(p, where, keys);
}

/* acme: {"profiles": {NAME: {"eab_required": bool}}, "validation": {...}}: each NAME a configured profile. */
static iotca_rc load_acme(config *c, json_t *a) {
    static const char *const acme_keys[] = {"profiles", "validation", NULL};
    static const char *const acme_profile_keys[] = {"eab_required", "variants", NULL};
    IOTCA_ENSURE(json_is_object(a), IOTCA_E_USAGE, "config: acme must be an object");
    IOTCA_GUARD(config_only_keys(a, "acme", acme_keys));
    IOTCA_GUARD(load_validation(c, json_object_get(a, "validation")));
    json_t *ps = json_object_get(a, "profiles"), *p;
    const char *name;
    IOTCA_ENSURE(json_is_object(ps), IOTCA_E_USAGE, "config: acme.profiles must be an object of profile names");
    json_object_foreach(ps, name, p) {
        char where[96];
        IOTCA_GUARD(profile_entry(c, "acme", name, p, acme_profile_keys, where));
        bool eab = true;
        IOTCA_GUARD(get_bool(p, "eab_required", where, &eab));
        c->acme[c->n_acme].name = name;
        c->acme[c->n_acme].eab_required = eab;
        json_t *vs = json_object_get(p, "variants"), *v;
        const char *vname;
        IOTCA_ENSURE(vs == NULL || (json_is_object(vs) && json_object_size(vs) <= CONFIG_MAX_PROFILES), IOTCA_E_USAGE,
                     "config: %s.variants must be an object of ACME profile names and the profiles they issue under",
                     where);
        json_object_foreach(vs, vname, v) {
            bool known = json_is_string(v) && known_profile(c, json_string_value(v));
            IOTCA_ENSURE(known && strlen(vname) > 0 && strlen(vname) < 64, IOTCA_E_USAGE,
                         "config: %s.variants.%.64s must name a profile in profiles", where, vname);
            size_t k = c->acme[c->n_acme].n_variants++;
            c->acme[c->n_acme].variant[k] = vname;
            c->acme[c->n_acme].variant_profile[k] = json_string_value(v);
        }
        c->n_acme++;
    }
    return IOTCA_OK;
}

/* est: {default_profile, profiles: {P: {secret_hash, reenroll_grace, bootstrap_ca, channel_binding}}} (SPEC §10) */
static iotca_rc load_est(config *c, json_t *e) {
    static const char *const est_keys[] = {"profiles", "default_profile", NULL};
    static const char *const est_profile_keys[] = {"secret_hash", "reenroll_grace", "bootstrap_ca",
                                                   "channel_binding", NULL};
    IOTCA_ENSURE(json_is_object(e), IOTCA_E_USAGE, "config: est must be an object");
    IOTCA_GUARD(config_only_keys(e, "est", est_keys));
    json_t *ps = json_object_get(e, "profiles"), *p;
    const char *name;
    IOTCA_ENSURE(json_is_object(ps), IOTCA_E_USAGE, "config: est.profiles must be an object of profile names");
    json_object_foreach(ps, name, p) {
        char where[96];
        IOTCA_GUARD(profile_entry(c, "est", name, p, est_profile_keys, where));
        const char *hash = NULL;
        IOTCA_GUARD(get_str(p, "secret_hash", where, true, &hash));
        iotca_rc rc = iotca_est_hash_check_form(hash);
        IOTCA_ENSURE(rc == IOTCA_OK, IOTCA_E_USAGE, "config: %s.secret_hash: %s", where, iotca_error_detail());
        long grace = 0;
        IOTCA_GUARD(get_duration(p, "reenroll_grace", where, &grace));
        IOTCA_ENSURE(grace >= 0 && grace <= 3650L * 86400, IOTCA_E_USAGE, "config: %s.reenroll_grace: at most 3650d",
                     where);
        c->est[c->n_est].name = name;
        c->est[c->n_est].reenroll_grace = grace;
        IOTCA_GUARD(get_str(p, "bootstrap_ca", where, false, &c->est[c->n_est].bootstrap_ca));
        const char *cb = NULL;
        IOTCA_GUARD(get_str(p, "channel_binding", where, false, &cb));
        IOTCA_ENSURE(cb == NULL || strcmp(cb, "required") == 0 || strcmp(cb, "when_sent") == 0, IOTCA_E_USAGE,
                     "config: %s.channel_binding is \"required\" or \"when_sent\" (the default)", where);
        c->est[c->n_est].channel_binding_required = cb != NULL && strcmp(cb, "required") == 0;
        c->est[c->n_est++].secret_hash = hash;
    }
    IOTCA_GUARD(get_str(e, "default_profile", "est", false, &c->est_default));
    IOTCA_ENSURE(c->est_default == NULL || config_est_profile(c, c->est_default), IOTCA_E_USAGE,
                 "config: est.default_profile must name one of est.profiles");
    return IOTCA_OK;
}

const struct config_est *config_est_profile(const config *c, const char *name) {
    if (name == NULL) name = c->est_default;
    for (size_t i = 0; name && i < c->n_est; i++)
        if (strcmp(c->est[i].name, name) == 0) return &c->est[i];
    return NULL;
}

const void *config_acme_profile(const config *c, const char *name, bool *eab_required) {
    for (size_t i = 0; i < c->n_acme; i++)
        if (strcmp(c->acme[i].name, name) == 0) {
            if (eab_required) *eab_required = c->acme[i].eab_required;
            return &c->acme[i];
        }
    return NULL;
}

const char *config_acme_variant(const config *c, const char *name, const char *variant) {
    for (size_t i = 0; i < c->n_acme; i++) {
        if (strcmp(c->acme[i].name, name) != 0) continue;
        if (variant == NULL || strcmp(variant, name) == 0) return name;
        for (size_t k = 0; k < c->acme[i].n_variants; k++)
            if (strcmp(c->acme[i].variant[k], variant) == 0) return c->acme[i].variant_profile[k];
    }
    return NULL;
}

/* rehearsal: {address, base_port, name, group, leaf_ttl, require_passed_next} (issue 24). The ports
 * base_port .. base_port + IOTCA_REHEARSAL_MAX - 1 are the scenarios' (iotca rehearse list). */
static iotca_rc load_rehearsal(config *c, json_t *h) {
    static const char *const rehearsal_keys[] = {"address", "base_port", "name", "group", "leaf_ttl",
                                                 "require_passed_next", NULL};
    IOTCA_ENSURE(json_is_object(h), IOTCA_E_USAGE, "config: rehearsal must be an object");
    IOTCA_GUARD(config_only_keys(h, "rehearsal", rehearsal_keys));
    c->rehearsal.address = "127.0.0.1";
    IOTCA_GUARD(get_str(h, "address", "rehearsal", false, &c->rehearsal.address));
    struct in6_addr probe;
    IOTCA_ENSURE(inet_pton(AF_INET, c->rehearsal.address, &probe) == 1 ||
                     inet_pton(AF_INET6, c->rehearsal.address, &probe) == 1,
                 IOTCA_E_USAGE, "config: rehearsal.address must be an IPv4 or IPv6 address");
    IOTCA_ENSURE(json_object_get(h, "base_port"), IOTCA_E_USAGE, "config: rehearsal.base_port is required");
    IOTCA_GUARD(get_uint(h, "base_port", "rehearsal", 1, 65536 - IOTCA_REHEARSAL_MAX, &c->rehearsal.base_port));
    IOTCA_ENSURE(c->port < (int)c->rehearsal.base_port || c->port >= (int)c->rehearsal.base_port + IOTCA_REHEARSAL_MAX,
                 IOTCA_E_USAGE, "config: rehearsal.base_port: ports %u to %u hold listen.port %d",
                 c->rehearsal.base_port, c->rehearsal.base_port + IOTCA_REHEARSAL_MAX - 1, c->port);
    iotca_rehearsal_config *rc = &c->rehearsal.rc;
    IOTCA_GUARD(get_str(h, "name", "rehearsal", true, &rc->name));
    IOTCA_GUARD(get_str(h, "group", "rehearsal", false, &rc->group));
    rc->ttl = 3600;
    IOTCA_GUARD(get_duration(h, "leaf_ttl", "rehearsal", &rc->ttl));
    IOTCA_GUARD(get_strs(h, "require_passed_next", "rehearsal", rc->require, IOTCA_REHEARSAL_REQUIRE_MAX,
                         &rc->n_require));
    iotca_rc r = iotca_rehearsal_config_check(rc);
    IOTCA_ENSURE(r == IOTCA_OK, r, "config: %s", iotca_error_detail());
    c->rehearsal.on = true;
    return IOTCA_OK;
}

static iotca_rc load(config *c) {
    static const char *const top[] = {"listen",  "database",         "key_dir", "key_passphrase_file",
                                      "roots",   "issuer_key_type",  "default_group", "base_url",
                                      "limits",  "tick_interval_s",  "profiles", "rate_limit",
                                      "log",     "acme",             "cross_certificates", "est", "rehearsal", "keys", NULL};
    static const char *const listen_keys[] = {"address", "port", "tls", "allow_plain_http_on_public_address", NULL};
    static const char *const tls_keys[] = {"cert", "key", NULL};
    static const char *const limit_keys[] = {"max_body_bytes", "request_timeout_s", "max_connections", "threads",
                                             "workers", NULL};
    static const char *const rate_keys[] = {"per_token_per_second", "burst", NULL};
    static const char *const log_keys[] = {"level", NULL};
    json_t *j = c->json;
    IOTCA_ENSURE(json_is_object(j), IOTCA_E_USAGE, "config: the top level must be an object");
    IOTCA_GUARD(config_only_keys(j, "(top level)", top));
    json_t *l = json_object_get(j, "listen");
    IOTCA_ENSURE(json_is_object(l), IOTCA_E_USAGE, "config: listen must be an object");
    IOTCA_GUARD(config_only_keys(l, "listen", listen_keys));
    c->address = "127.0.0.1";
    IOTCA_GUARD(get_str(l, "address", "listen", false, &c->address));
    struct in6_addr probe;
    IOTCA_ENSURE(inet_pton(AF_INET, c->address, &probe) == 1 || inet_pton(AF_INET6, c->address, &probe) == 1,
                 IOTCA_E_USAGE, "config: listen.address must be an IPv4 or IPv6 address");
    unsigned port = 0;
    IOTCA_GUARD(get_uint(l, "port", "listen", 1, 65535, &port));
    IOTCA_ENSURE(port != 0, IOTCA_E_USAGE, "config: listen.port is required");
    c->port = (int)port;
    IOTCA_GUARD(get_bool(l, "allow_plain_http_on_public_address", "listen", &c->allow_plain_public));
    json_t *tls = json_object_get(l, "tls");
    if (tls && !json_is_null(tls)) {
        IOTCA_ENSURE(json_is_object(tls), IOTCA_E_USAGE, "config: listen.tls must be an object");
        IOTCA_GUARD(config_only_keys(tls, "listen.tls", tls_keys));
        IOTCA_GUARD(get_str(tls, "cert", "listen.tls", true, &c->tls_cert));
        IOTCA_GUARD(get_str(tls, "key", "listen.tls", true, &c->tls_key));
    }
    IOTCA_ENSURE(c->tls_cert || loopback(c->address) || c->allow_plain_public, IOTCA_E_USAGE,
                 "config: plain HTTP on the non-loopback address %s needs listen.tls or "
                 "listen.allow_plain_http_on_public_address: true",
                 c->address);
    IOTCA_GUARD(config_load_database(c, j));
    IOTCA_GUARD(config_load_keys(c, j));
    IOTCA_GUARD(get_str(j, "key_dir", "(top level)", true, &c->key_dir));
    IOTCA_GUARD(get_str(j, "key_passphrase_file", "(top level)", true, &c->key_passphrase_file));
    IOTCA_GUARD(get_strs(j, "roots", "(top level)", c->roots, CONFIG_MAX_ROOTS, &c->n_roots));
    IOTCA_ENSURE(c->n_roots >= 1, IOTCA_E_USAGE, "config: roots must list at least one root certificate file");
    if (json_object_get(j, "cross_certificates"))
        IOTCA_GUARD(get_strs(j, "cross_certificates", "(top level)", c->cross, CONFIG_MAX_ROOTS, &c->n_cross));
    const char *kt = "ecdsa-p256";
    IOTCA_GUARD(get_str(j, "issuer_key_type", "(top level)", false, &kt));
    iotca_rc rc = iotca_key_type_parse(kt, &c->issuer_key_type);
    IOTCA_ENSURE(rc == IOTCA_OK, rc, "config: issuer_key_type: %s", iotca_error_detail());
    c->default_group = "default";
    IOTCA_GUARD(get_str(j, "default_group", "(top level)", false, &c->default_group));
    IOTCA_GUARD(get_str(j, "base_url", "(top level)", false, &c->base_url));
    c->max_body = 64 * 1024;
    c->timeout_s = 30;
    c->max_connections = CONFIG_DEFAULT_CONNECTIONS;
    /* serving threads never wait for the disk (the pool does), so one a core keeps the cores busy */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (unsigned)ncpu;
    c->workers = CONFIG_DEFAULT_WORKERS;
    c->tick_s = 60;
    json_t *lim = json_object_get(j, "limits");
    if (lim) {
        IOTCA_ENSURE(json_is_object(lim), IOTCA_E_USAGE, "config: limits must be an object");
        IOTCA_GUARD(config_only_keys(lim, "limits", limit_keys));
        unsigned mb = (unsigned)c->max_body;
        IOTCA_GUARD(get_uint(lim, "max_body_bytes", "limits", 1024, 16 << 20, &mb));
        c->max_body = mb;
        IOTCA_GUARD(get_uint(lim, "request_timeout_s", "limits", 1, 3600, &c->timeout_s));
        IOTCA_GUARD(get_uint(lim, "max_connections", "limits", 1, CONFIG_MAX_CONNECTIONS, &c->max_connections));
        IOTCA_GUARD(get_uint(lim, "threads", "limits", 1, 256, &c->threads));
        IOTCA_GUARD(get_uint(lim, "workers", "limits", 1, 256, &c->workers));
    }
    IOTCA_GUARD(get_uint(j, "tick_interval_s", "(top level)", 1, 86400, &c->tick_s));
    json_t *rl = json_object_get(j, "rate_limit");
    if (rl && !json_is_null(rl)) {
        IOTCA_ENSURE(json_is_object(rl), IOTCA_E_USAGE, "config: rate_limit must be an object");
        IOTCA_GUARD(config_only_keys(rl, "rate_limit", rate_keys));
        IOTCA_ENSURE(json_object_get(rl, "per_token_per_second") != NULL, IOTCA_E_USAGE,
                     "config: rate_limit.per_token_per_second is required");
        IOTCA_GUARD(get_uint(rl, "per_token_per_second", "rate_limit", 1, RATELIMIT_MAX, &c->rate_per_s));
        c->rate_burst = c->rate_per_s;
        IOTCA_GUARD(get_uint(rl, "burst", "rate_limit", 1, RATELIMIT_MAX, &c->rate_burst));
    }
    json_t *lg = json_object_get(j, "log");
    if (lg && !json_is_null(lg)) {
        IOTCA_ENSURE(json_is_object(lg), IOTCA_E_USAGE, "config: log must be an object");
        IOTCA_GUARD(config_only_keys(lg, "log", log_keys));
        const char *level = "info";
        IOTCA_GUARD(get_str(lg, "level", "log", false, &level));
        IOTCA_ENSURE(log_level_parse(level, &c->log_level), IOTCA_E_USAGE,
                     "config: log.level must be \"info\", \"warn\" or \"error\"");
    }
    json_t *profiles = json_object_get(j, "profiles"), *p;
    const char *name;
    IOTCA_ENSURE(json_is_object(profiles) && json_object_size(profiles) >= 1 &&
                     json_object_size(profiles) <= CONFIG_MAX_PROFILES,
                 IOTCA_E_USAGE, "config: profiles must be an object with 1 to %d profiles", CONFIG_MAX_PROFILES);
    json_object_foreach(profiles, name, p) {
        IOTCA_GUARD(load_profile(name, p, &c->profiles[c->n_profiles++]));
    }
    json_t *est = json_object_get(j, "est");
    if (est && !json_is_null(est)) IOTCA_GUARD(load_est(c, est));
    json_t *acme = json_object_get(j, "acme");
    if (acme && !json_is_null(acme)) IOTCA_GUARD(load_acme(c, acme));
    json_t *rh = json_object_get(j, "rehearsal");
    if (rh && !json_is_null(rh)) IOTCA_GUARD(load_rehearsal(c, rh));
    /* ACME's URLs are absolute (RFC 8555 §7.1.1), and each JWS signs the URL it was sent to (§6.4) */
    IOTCA_ENSURE(c->n_acme == 0 || c->base_url, IOTCA_E_USAGE, "config: acme needs base_url (the URL clients reach "
                 "iotcad at, e.g. https://ca.example.com:8443)");
    return IOTCA_OK;
}

iotca_rc config_parse(const char *path, const void *data, size_t len, config *c) {
    memset(c, 0, sizeof *c);
    json_error_t e;
    c->json = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
    IOTCA_ENSURE(c->json != NULL, IOTCA_E_PARSE, "config: %s line %d: %s", path, e.line, e.text);
    iotca_rc rc = load(c);
    if (rc != IOTCA_OK) config_free(c);
    return rc;
}

iotca_rc config_load(const char *path, config *c) {
    memset(c, 0, sizeof *c);
    iotca_buf raw = {0};
    iotca_rc rc = iotca_file_read(path, CONFIG_MAX_BYTES, &raw);
    IOTCA_ENSURE(rc == IOTCA_OK, rc, "config: %s", iotca_error_detail());
    rc = config_parse(path, raw.data, raw.len, c);
    iotca_buf_free(&raw);
    return rc;
}

static bool same_str(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

const char *config_restart_key(const config *a, const config *b) {
    if (!same_str(a->address, b->address)) return "listen.address";
    if (a->port != b->port) return "listen.port";
    if (!same_str(a->tls_cert, b->tls_cert)) return "listen.tls.cert";
    if (!same_str(a->tls_key, b->tls_key)) return "listen.tls.key";
    if (a->allow_plain_public != b->allow_plain_public) return "listen.allow_plain_http_on_public_address";
    if (!same_str(a->database, b->database)) return "database";
    if (a->db.connect_timeout_s != b->db.connect_timeout_s ||
        a->db.statement_timeout_ms != b->db.statement_timeout_ms || a->db.pool_size != b->db.pool_size ||
        !same_str(a->db.read, b->db.read))
        return "database";
    if (!same_str(a->key_dir, b->key_dir)) return "key_dir";
    if (!same_str(a->key_passphrase_file, b->key_passphrase_file)) return "key_passphrase_file";
    if (!json_equal(json_object_get(a->json, "keys"), json_object_get(b->json, "keys")) &&
        (json_object_get(a->json, "keys") || json_object_get(b->json, "keys")))
        return "keys";
    if (a->n_roots != b->n_roots) return "roots";
    for (size_t i = 0; i < a->n_roots; i++)
        if (!same_str(a->roots[i], b->roots[i])) return "roots";
    if (a->n_cross != b->n_cross) return "cross_certificates";
    /* with TLS, whether client certificates are asked for (EST) is set when the listener starts */
    if (a->tls_cert && (a->n_est > 0) != (b->n_est > 0)) return "est";
    for (size_t i = 0; i < a->n_cross; i++)
        if (!same_str(a->cross[i], b->cross[i])) return "cross_certificates";
    if (a->issuer_key_type != b->issuer_key_type) return "issuer_key_type";
    if (!same_str(a->default_group, b->default_group)) return "default_group";
    if (!same_str(a->base_url, b->base_url)) return "base_url";
    if (a->timeout_s != b->timeout_s) return "limits.request_timeout_s";
    if (a->max_connections != b->max_connections) return "limits.max_connections";
    if (a->threads != b->threads) return "limits.threads";
    if (a->workers != b->workers) return "limits.workers";
    if (a->tick_s != b->tick_s) return "tick_interval_s";
    /* the rehearsal endpoints start with the daemon, and the CA's rehearsal settings with them */
    if (!json_equal(json_object_get(a->json, "rehearsal"), json_object_get(b->json, "rehearsal")) &&
        (a->rehearsal.on || b->rehearsal.on))
        return "rehearsal";
    return NULL;
}

void config_free(config *c) {
    json_decref(c->json);
    iotca_buf_free(&c->db.owned);
    iotca_buf_free(&c->db.read_owned);
    memset(c, 0, sizeof *c);
}
