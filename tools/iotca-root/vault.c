/* The root vault directory: state file, root certificate, encrypted root key, ledger, issued copies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "iotca/file.h"
#include "iotca/pem.h"
#include "root.h"

iotca_rc vault_path(const vault *v, const char *name, char *out, size_t n) {
    IOTCA_ENSURE(snprintf(out, n, "%s/%s", v->dir, name) < (int)n, IOTCA_E_USAGE, "vault path too long");
    return IOTCA_OK;
}

void fmt_time(time_t t, char out[32]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

iotca_rc hex_of(iotca_slice s, iotca_buf *out) {
    iotca_buf_clear(out);
    return iotca_hex_encode(s.p, s.len, out);
}

iotca_rc vault_save(vault *v) {
    char path[PATH_MAX];
    IOTCA_GUARD(vault_path(v, VAULT_STATE, path, sizeof path));
    char *text = json_dumps(v->state, JSON_INDENT(2) | JSON_SORT_KEYS);
    IOTCA_ENSURE(text != NULL, IOTCA_E_INTERNAL, "cannot serialise vault state");
    iotca_rc rc = iotca_file_replace(path, text, strlen(text), 0600);
    free(text);
    return rc;
}

iotca_rc vault_open(const char *dir, vault *v) {
    memset(v, 0, sizeof *v);
    IOTCA_ENSURE(dir != NULL, IOTCA_E_USAGE, "--vault DIR is required");
    IOTCA_ENSURE(strlen(dir) < sizeof v->dir - 64, IOTCA_E_USAGE, "vault path too long");
    strcpy(v->dir, dir);
    char path[PATH_MAX], head[65];
    iotca_buf raw = {0};
    size_t count = 0;
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(vault_path(v, VAULT_STATE, path, sizeof path));
    rc = iotca_file_read(path, 1 << 20, &raw);
    IOTCA_CHECK(rc == IOTCA_OK, rc, "%s is not an iotca-root vault (%s)", dir, iotca_error_detail());
    json_error_t e;
    v->state = json_loadb((const char *)raw.data, raw.len, JSON_REJECT_DUPLICATES, &e);
    IOTCA_CHECK(json_is_object(v->state), IOTCA_E_PARSE, "vault state %s is not valid JSON: %s", path, e.text);
    IOTCA_CHECK(json_integer_value(json_object_get(v->state, "format")) == 1, IOTCA_E_PARSE,
                "vault state has an unknown format version");
    iotca_buf_clear(&raw);
    IOTCA_TRY(vault_path(v, VAULT_ROOT_CERT, path, sizeof path));
    IOTCA_TRY(iotca_file_read(path, 1 << 16, &raw));
    IOTCA_TRY(iotca_cert_parse(iotca_buf_slice(&raw), &v->root));
    IOTCA_TRY(vault_path(v, VAULT_LEDGER, path, sizeof path));
    IOTCA_TRY(ledger_verify(path, NULL, head, &count));
    const char *want = json_string_value(json_object_get(v->state, "ledger_head"));
    json_int_t want_n = json_integer_value(json_object_get(v->state, "ledger_records"));
    IOTCA_CHECK(want && strcmp(want, head) == 0 && want_n == (json_int_t)count, IOTCA_E_PARSE,
                "ledger has %zu records ending in %.16s..., but the vault recorded %lld ending in %.16s... "
                "(records were removed or appended outside iotca-root)",
                count, head, (long long)want_n, want ? want : "?");
out:
    iotca_buf_free(&raw);
    if (rc != IOTCA_OK) vault_close(v);
    return rc;
}

void vault_close(vault *v) {
    iotca_token_close(v->token); /* its keys were freed by the caller */
    v->token = NULL;
    json_decref(v->state);
    iotca_cert_free(v->root);
    v->state = NULL;
    v->root = NULL;
}

/* The vault's key on its PKCS#11 token: the module and token from vault.json unless the options name others,
 * the key by its id, checked against the root certificate's public key. */
static iotca_rc token_key(vault *v, const root_opts *o, iotca_slice pin, iotca_key **key) {
    json_t *p = json_object_get(v->state, "pkcs11");
    const char *module = o->pkcs11_module ? o->pkcs11_module : json_string_value(json_object_get(p, "module"));
    const char *label = o->token_label, *serial = o->token_serial;
    if (!label && !serial) {
        serial = json_string_value(json_object_get(p, "token_serial"));
        label = serial ? NULL : json_string_value(json_object_get(p, "token_label"));
    }
    const char *idhex = json_string_value(json_object_get(p, "key_id"));
    IOTCA_ENSURE(module && (label || serial) && idhex, IOTCA_E_PARSE,
                 "vault.json says the key is on a PKCS#11 token but lacks its module, token or key_id");
    iotca_buf id = {0};
    iotca_rc rc = iotca_hex_decode(idhex, &id);
    IOTCA_CHECK(rc == IOTCA_OK && id.len >= 1 && id.len <= IOTCA_TOKEN_ID_MAX, IOTCA_E_PARSE,
                "vault.json: key_id is not 1 to %d bytes of hex", IOTCA_TOKEN_ID_MAX);
    rc = label ? iotca_token_open(module, label, pin, &v->token) : iotca_token_open_serial(module, serial, pin, &v->token);
    if (rc == IOTCA_OK) rc = iotca_token_key(v->token, iotca_buf_slice(&id), iotca_cert_get(v->root)->spki, key);
out:
    iotca_buf_free(&id);
    return rc;
}

iotca_rc vault_unlock(vault *v, const root_opts *o, iotca_key **key) {
    char path[PATH_MAX];
    iotca_buf pem = {0}, pass = {.secret = true}, combined = {.secret = true};
    iotca_rc rc = IOTCA_OK;
    const char *store = json_string_value(json_object_get(v->state, "key_store"));
    bool on_token = store && strcmp(store, "pkcs11") == 0;
    if (!on_token) {
        IOTCA_TRY(vault_path(v, VAULT_ROOT_KEY, path, sizeof path));
        IOTCA_TRY(iotca_file_read(path, 1 << 16, &pem));
    }
    if (json_integer_value(json_object_get(v->state, "shares")) > 0) {
        IOTCA_CHECK(o->passphrase_file == NULL, IOTCA_E_USAGE,
                    "this vault's key is protected by custodian shares; give them with --share FILE");
        const char *fp = json_string_value(json_object_get(v->state, "root_sha256"));
        json_int_t need = json_integer_value(json_object_get(v->state, "threshold"));
        IOTCA_CHECK((json_int_t)o->n_share_files >= need, IOTCA_E_USAGE, "%zu share(s) given; this vault needs %lld",
                    o->n_share_files, (long long)need);
        IOTCA_TRY(shares_combine(o->shares_file, o->n_share_files, fp ? fp : "", &combined));
        /* a file key's passphrase is the hex of the secret; a token's PIN is the secret itself */
        if (on_token) IOTCA_TRY(iotca_buf_append(&pass, combined.data, combined.len));
        else IOTCA_TRY(iotca_hex_encode(combined.data, combined.len, &pass));
    } else {
        IOTCA_CHECK(o->n_share_files == 0, IOTCA_E_USAGE, "this vault uses a passphrase, not shares");
        IOTCA_TRY(secret_passphrase(o->passphrase_file, false, &pass));
    }
    rc = on_token ? token_key(v, o, iotca_buf_slice(&pass), key)
                  : iotca_key_decrypt_pem(iotca_buf_slice(&pem), iotca_buf_slice(&pass), key);
    if (rc == IOTCA_E_CRYPTO && json_integer_value(json_object_get(v->state, "shares")) > 0)
        rc = iotca_error_set(rc, "the shares do not reconstruct the root key%s (wrong or altered shares)",
                             on_token ? "'s PIN" : "");
    if (rc != IOTCA_OK) goto out;
    if (!iotca_key_matches_spki(*key, iotca_cert_get(v->root)->spki)) {
        iotca_key_free(*key);
        *key = NULL;
        IOTCA_CHECK(false, IOTCA_E_CRYPTO, "the vault's key does not match its root certificate");
    }
out:
    iotca_buf_free(&pem);
    iotca_buf_free(&pass);
    iotca_buf_free(&combined);
    return rc;
}

iotca_rc vault_write_cert(vault *v, const iotca_cert *c, const char *out_path) {
    const iotca_cert_info *ci = iotca_cert_get(c);
    iotca_buf pem = {0}, serial = {0};
    char path[PATH_MAX], dir[PATH_MAX];
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE", ci->der.p, ci->der.len, &pem));
    IOTCA_TRY(hex_of(ci->serial, &serial));
    IOTCA_TRY(vault_path(v, VAULT_ISSUED, dir, sizeof dir));
    IOTCA_CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST, IOTCA_E_STORAGE, "cannot create %s", dir);
    IOTCA_CHECK(snprintf(path, sizeof path, "%s/%s.pem", dir, (const char *)serial.data) < (int)sizeof path,
                IOTCA_E_USAGE, "path too long");
    IOTCA_TRY(iotca_file_create(path, pem.data, pem.len, 0644));
    IOTCA_TRY(iotca_file_create(out_path, pem.data, pem.len, 0644));
out:
    iotca_buf_free(&pem);
    iotca_buf_free(&serial);
    return rc;
}
