/* What iotcad's commands share: the CA a config describes, opened with its roots and key passphrase; the
 * local operator's name for the audit trail; failures as exit statuses. */
#include <jansson.h>
#include <microhttpd.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "iotca/file.h"
#include "iotca/pem.h"
#include "log.h"

/* Every PEM certificate of files[0..n) into der/s from *count on (at most CONFIG_MAX_ROOTS in all). */
static iotca_rc load_pems(const char *const *files, size_t n, iotca_buf *der, iotca_slice *s, size_t *count) {
    for (size_t i = 0; i < n; i++) {
        iotca_buf text = {0};
        iotca_rc rc = iotca_file_read(files[i], 1 << 20, &text);
        iotca_slice in = iotca_buf_slice(&text);
        size_t before = *count;
        while (rc == IOTCA_OK && *count < CONFIG_MAX_ROOTS &&
               iotca_pem_next(&in, "CERTIFICATE", &der[*count], NULL) == IOTCA_OK) {
            s[*count] = iotca_buf_slice(&der[*count]);
            (*count)++;
        }
        iotca_buf_free(&text);
        IOTCA_GUARD(rc);
        IOTCA_ENSURE(*count > before, IOTCA_E_PARSE, "%s holds no PEM certificate", files[i]);
    }
    return IOTCA_OK;
}

iotca_rc load_roots(const config *c, roots *r) {
    memset(r, 0, sizeof *r);
    IOTCA_GUARD(load_pems(c->roots, c->n_roots, r->der, r->s, &r->n));
    return load_pems(c->cross, c->n_cross, r->xder, r->xs, &r->nx);
}

void free_roots(roots *r) {
    for (size_t i = 0; i < r->n; i++) iotca_buf_free(&r->der[i]);
    for (size_t i = 0; i < r->nx; i++) iotca_buf_free(&r->xder[i]);
}

bool cli_allow_readable_secrets;

/* A secret file (at most max bytes; refused if group or others can reach it, unless allowed, with a log line),
 * without its trailing line ends; an empty one is refused, naming the config key. */
static iotca_rc read_secret_line(const char *path, size_t max, const char *key, iotca_buf *out) {
    bool loose = false;
    IOTCA_GUARD(iotca_file_read_secret(path, max, cli_allow_readable_secrets, out, &loose));
    if (loose) log_readable_secret(path);
    while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r')) out->len--;
    IOTCA_ENSURE(out->len > 0, IOTCA_E_USAGE, "%s %s is empty", key, path);
    return IOTCA_OK;
}

iotca_rc cli_read_key_passphrase(const config *c, iotca_buf *pass) {
    return read_secret_line(c->key_passphrase_file, 4096, "key_passphrase_file", pass);
}

iotca_rc cli_check_key_dir(const config *c) {
    struct stat st;
    IOTCA_ENSURE(stat(c->key_dir, &st) == 0, IOTCA_E_USAGE, "key_dir %s: %s (iotcad init creates it)", c->key_dir,
                 strerror(errno));
    IOTCA_ENSURE(S_ISDIR(st.st_mode), IOTCA_E_USAGE, "key_dir %s is not a directory", c->key_dir);
    IOTCA_ENSURE((st.st_mode & 077) == 0 || cli_allow_readable_secrets, IOTCA_E_USAGE,
                 "key_dir %s has mode %04o: group or others can reach the issuer keys; chmod 700 it (or use "
                 IOTCA_ALLOW_READABLE_SECRETS " to start anyway)", c->key_dir, (unsigned)(st.st_mode & 07777));
    return IOTCA_OK;
}

iotca_rc open_ca(const config *c, roots *r, iotca_ca **ca) {
    memset(r, 0, sizeof *r);
    IOTCA_GUARD(cli_check_key_dir(c));
    iotca_buf pass = {.secret = true};
    iotca_rc rc = cli_read_key_passphrase(c, &pass);
    if (rc == IOTCA_OK) rc = load_roots(c, r);
    iotca_buf pin = {.secret = true};
    if (rc == IOTCA_OK && c->keys.module) /* the token's PIN: a secret file like the passphrase */
        rc = read_secret_line(c->keys.pin_file, 256, "keys.pin_file", &pin);
    if (rc == IOTCA_OK) {
        iotca_ca_config cc = {.db_path = c->database,
                              .key_dir = c->key_dir,
                              .key_passphrase = iotca_buf_slice(&pass),
                              .issuer_key_type = c->issuer_key_type,
                              .default_group = c->default_group,
                              .roots = r->s,
                              .n_roots = r->n,
                              .cross = r->xs,
                              .n_cross = r->nx,
                              .profiles = c->profiles,
                              .n_profiles = c->n_profiles,
                              .base_url = c->base_url,
                              .db_connect_timeout_s = c->db.connect_timeout_s,
                              .db_statement_timeout_ms = c->db.statement_timeout_ms,
                              .db_pool_size = c->db.pool_size,
                              .db_read_path = c->db.read,
                              .pkcs11_module = c->keys.module,
                              .pkcs11_token_label = c->keys.token_label,
                              .pkcs11_token_serial = c->keys.token_serial,
                              .pkcs11_pin = iotca_buf_slice(&pin),
                              .ocsp_keys_on_token = c->keys.ocsp_on_token};
        rc = iotca_ca_open(&cc, ca);
    }
    /* one crypto thread a serving thread (one a core by default): the serving threads start issuances and
     * these sign them, so wolfSSL's per-thread tables stay this many and no serving thread stalls on them */
    if (rc == IOTCA_OK && (rc = iotca_ca_set_crypto_threads(*ca, c->threads)) != IOTCA_OK) {
        iotca_ca_close(*ca);
        *ca = NULL;
    }
    iotca_buf_free(&pass);
    iotca_buf_free(&pin);
    return rc;
}

void cli_print_version(void) {
    printf("iotcad %s\n  crypto: %s\n  store: %s (schema %d)\n  http: libmicrohttpd %s\n  json: Jansson %s\n",
           IOTCA_VERSION, iotca_ca_crypto_version(), iotca_ca_store_engine(), iotca_ca_schema_version(),
           MHD_get_version(), jansson_version_str());
}

int cli_fail(iotca_rc rc) {
    fprintf(stderr, "iotcad: %s\n", iotca_error_detail());
    return rc == IOTCA_E_USAGE ? 2 : 1;
}

/* A login name as it may appear in an audit field: printable, no spaces, at most 32 characters. */
static bool plain_name(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 32) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

void cli_actor(char out[128]) {
    uid_t uid = geteuid();
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res && plain_name(res->pw_name))
        snprintf(out, 128, "local:%s", res->pw_name);
    else
        snprintf(out, 128, "local:uid%u", (unsigned)uid);
    /* who ran sudo: set by sudo itself; the effective user above is what the system vouches for */
    const char *sudo = getenv("SUDO_USER");
    size_t n = strlen(out);
    if (plain_name(sudo) && n < 64) snprintf(out + n, 128 - n, " via sudo from %s", sudo);
}

int cli_config(const char *path, const char *usage, config *c) {
    if (path == NULL) {
        fprintf(stderr, "iotcad: --config FILE is required\n%s", usage);
        return 2;
    }
    iotca_rc rc = config_load(path, c);
    return rc == IOTCA_OK ? 0 : cli_fail(rc);
}

int cli_usage_error(const char *usage, const char *fmt, const char *arg) {
    fputs("iotcad: ", stderr);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    return 2;
}
