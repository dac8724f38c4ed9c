/* Where issuer keys live (SPEC §12, issue 26): encrypted PKCS#8 files in key_dir, or a PKCS#11 token. An issuer
 * record's key_ref says which: a file path, or an RFC 7512 PKCS#11 URI "pkcs11:token=LABEL;id=%xx..." */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca_internal.h"
#include "iotca/file.h"

#define URI_PREFIX "pkcs11:"
#define KEY_ID_LEN 16 /* random CKA_ID bytes of a new issuer key */

iotca_rc ca_keys_open(iotca_ca *ca, const iotca_ca_config *cfg) {
    if (cfg->pkcs11_module == NULL) return IOTCA_OK;
    IOTCA_ENSURE(ca->issuer_key_type == IOTCA_KEY_ECDSA_P256 || ca->issuer_key_type == IOTCA_KEY_ECDSA_P384,
                 IOTCA_E_USAGE, "issuer keys on a PKCS#11 token are ecdsa-p256 or ecdsa-p384, not %s",
                 iotca_key_type_name(ca->issuer_key_type));
    IOTCA_ENSURE((cfg->pkcs11_token_label != NULL) != (cfg->pkcs11_token_serial != NULL), IOTCA_E_USAGE,
                 "a PKCS#11 token is named by its label or by its serial number (one of them)");
    ca->ocsp_on_token = cfg->ocsp_keys_on_token;
    return cfg->pkcs11_token_label
               ? iotca_token_open(cfg->pkcs11_module, cfg->pkcs11_token_label, cfg->pkcs11_pin, &ca->token)
               : iotca_token_open_serial(cfg->pkcs11_module, cfg->pkcs11_token_serial, cfg->pkcs11_pin, &ca->token);
}

int iotca_ca_token_up(iotca_ca *ca, unsigned long *reopened) {
    if (ca->token == NULL) return -1;
    if (reopened) *reopened = iotca_token_reopened(ca->token);
    return iotca_token_ok(ca->token) ? 1 : 0;
}

/* The URI of the key with id on the token: the label percent-encoded but for RFC 3986's unreserved characters,
 * the id every byte (RFC 7512 §2.3). */
static iotca_rc uri(const char *label, const uint8_t *id, size_t n, char *out, size_t cap) {
    iotca_buf b = {0};
    iotca_rc rc = iotca_buf_printf(&b, URI_PREFIX "token=");
    for (const unsigned char *p = (const unsigned char *)label; rc == IOTCA_OK && *p; p++)
        rc = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~", *p)
                 ? iotca_buf_printf(&b, "%c", *p)
                 : iotca_buf_printf(&b, "%%%02X", *p);
    if (rc == IOTCA_OK) rc = iotca_buf_printf(&b, ";id=");
    for (size_t i = 0; rc == IOTCA_OK && i < n; i++) rc = iotca_buf_printf(&b, "%%%02X", id[i]);
    if (rc == IOTCA_OK && b.len >= cap) rc = iotca_error_set(IOTCA_E_USAGE, "the key's PKCS#11 URI is too long");
    if (rc == IOTCA_OK) snprintf(out, cap, "%.*s", (int)b.len, (const char *)b.data);
    iotca_buf_free(&b);
    return rc;
}

static int hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes a percent-encoded attribute value v[0..n) into out (cap bytes). */
static iotca_rc pct_decode(const char *v, size_t n, uint8_t *out, size_t cap, size_t *len) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        IOTCA_ENSURE(k < cap, IOTCA_E_PARSE, "PKCS#11 URI: a value is too long");
        if (v[i] != '%') {
            out[k++] = (uint8_t)v[i];
            continue;
        }
        IOTCA_ENSURE(i + 2 < n, IOTCA_E_PARSE, "PKCS#11 URI: a %% escape is cut short");
        int hi = hexval(v[i + 1]), lo = hexval(v[i + 2]);
        IOTCA_ENSURE(hi >= 0 && lo >= 0, IOTCA_E_PARSE, "PKCS#11 URI: a %% escape is not two hex digits");
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    *len = k;
    return IOTCA_OK;
}

iotca_rc ca_key_uri_parse(const char *ref, char label[33], uint8_t id[IOTCA_TOKEN_ID_MAX], size_t *id_len) {
    IOTCA_ENSURE(strncmp(ref, URI_PREFIX, strlen(URI_PREFIX)) == 0, IOTCA_E_PARSE, "not a PKCS#11 URI");
    bool have_token = false;
    *id_len = 0;
    for (const char *p = ref + strlen(URI_PREFIX); *p;) {
        size_t n = strcspn(p, ";");
        const char *eq = memchr(p, '=', n);
        IOTCA_ENSURE(eq != NULL, IOTCA_E_PARSE, "PKCS#11 URI: an attribute without '='");
        size_t kn = (size_t)(eq - p), vn = n - kn - 1;
        size_t len = 0;
        if (kn == 5 && memcmp(p, "token", 5) == 0) {
            IOTCA_GUARD(pct_decode(eq + 1, vn, (uint8_t *)label, 32, &len));
            label[len] = '\0';
            IOTCA_ENSURE(len > 0 && strlen(label) == len, IOTCA_E_PARSE, "PKCS#11 URI: a bad token label");
            have_token = true;
        } else if (kn == 2 && memcmp(p, "id", 2) == 0) {
            IOTCA_GUARD(pct_decode(eq + 1, vn, id, IOTCA_TOKEN_ID_MAX, id_len));
        }
        p += n;
        if (*p == ';') p++;
    }
    IOTCA_ENSURE(have_token && *id_len > 0, IOTCA_E_PARSE, "PKCS#11 URI: token and id are required");
    return IOTCA_OK;
}

iotca_rc ca_key_new(iotca_ca *ca, const char *file, const char *label, iotca_key_type type, bool on_token,
                    iotca_key **key, char *ref, size_t cap) {
    if (!on_token || ca->token == NULL) { /* an encrypted PKCS#8 file, 0600, never overwritten */
        iotca_buf pem = {0};
        iotca_rc rc = IOTCA_OK;
        IOTCA_CHECK(snprintf(ref, cap, "%s/%s.key", ca->key_dir, file) < (int)cap, IOTCA_E_USAGE,
                    "key directory path too long");
        IOTCA_TRY(iotca_key_generate(type, key));
        IOTCA_TRY(iotca_key_encrypt_pem(*key, iotca_buf_slice(&ca->pass), ca->kdf_iterations, &pem));
        IOTCA_TRY(iotca_file_create(ref, pem.data, pem.len, 0600));
    out:
        iotca_buf_free(&pem);
        if (rc != IOTCA_OK) {
            iotca_key_free(*key);
            *key = NULL;
        }
        return rc;
    }
    uint8_t id[KEY_ID_LEN];
    IOTCA_GUARD(iotca_random(id, sizeof id));
    IOTCA_GUARD(uri(iotca_token_label(ca->token), id, sizeof id, ref, cap));
    return iotca_token_generate(ca->token, type, iotca_slice_of(id, sizeof id), label, key);
}

iotca_rc ca_key_new_issuer(iotca_ca *ca, const char *name, iotca_key **key, char *ref, size_t cap) {
    char file[96], label[64];
    snprintf(file, sizeof file, "issuer-%.80s", name);
    snprintf(label, sizeof label, "iotca issuer %.40s", name);
    return ca_key_new(ca, file, label, ca->issuer_key_type, true, key, ref, cap);
}

/* Overwrites the key file at path with zeros, syncs it and removes it. A file already gone is no failure. The
 * key is encrypted at rest; the zeros make sure its bytes do not outlive the file on a file system that keeps
 * freed blocks readable (the best a file can do: copy-on-write and flash may keep older blocks). */
static iotca_rc wipe(const char *path) {
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return IOTCA_OK;
    IOTCA_ENSURE(fd >= 0, IOTCA_E_STORAGE, "opening key file %s to wipe it: %s", path, strerror(errno));
    struct stat st;
    iotca_rc rc = IOTCA_OK;
    static const uint8_t zeros[4096];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = iotca_error_set(IOTCA_E_STORAGE, "key file %s is not a regular file; not wiped", path);
    } else {
        for (off_t done = 0; done < st.st_size && rc == IOTCA_OK;) {
            size_t n = (size_t)(st.st_size - done) < sizeof zeros ? (size_t)(st.st_size - done) : sizeof zeros;
            ssize_t w = write(fd, zeros, n);
            if (w <= 0) rc = iotca_error_set(IOTCA_E_STORAGE, "wiping key file %s: %s", path, strerror(errno));
            else done += w;
        }
        if (rc == IOTCA_OK && fsync(fd) != 0)
            rc = iotca_error_set(IOTCA_E_STORAGE, "syncing the wiped key file %s: %s", path, strerror(errno));
    }
    close(fd);
    if (rc == IOTCA_OK && unlink(path) != 0)
        rc = iotca_error_set(IOTCA_E_STORAGE, "removing the wiped key file %s: %s", path, strerror(errno));
    return rc;
}

bool ca_key_ref_on_token(const char *ref) { return strncmp(ref, URI_PREFIX, strlen(URI_PREFIX)) == 0; }

iotca_rc ca_key_discard(iotca_ca *ca, const char *ref) {
    if (!ca_key_ref_on_token(ref)) return wipe(ref);
    char label[33];
    uint8_t id[IOTCA_TOKEN_ID_MAX];
    size_t n = 0;
    IOTCA_GUARD(ca_key_uri_parse(ref, label, id, &n));
    IOTCA_ENSURE(ca->token != NULL && strcmp(label, iotca_token_label(ca->token)) == 0, IOTCA_E_USAGE,
                 "the key is on PKCS#11 token '%s', which this CA has not opened", label);
    return iotca_token_destroy(ca->token, iotca_slice_of(id, n));
}

iotca_rc ca_key_load(iotca_ca *ca, const char *ref, iotca_slice spki, iotca_key **out) {
    if (ca_key_ref_on_token(ref)) {
        char label[33];
        uint8_t id[IOTCA_TOKEN_ID_MAX];
        size_t n = 0;
        IOTCA_GUARD(ca_key_uri_parse(ref, label, id, &n));
        IOTCA_ENSURE(ca->token != NULL, IOTCA_E_USAGE,
                     "the key is on PKCS#11 token '%s', and this CA has no token configured (keys.store)", label);
        IOTCA_ENSURE(strcmp(label, iotca_token_label(ca->token)) == 0, IOTCA_E_USAGE,
                     "the key is on PKCS#11 token '%s', not on the configured token '%s'", label,
                     iotca_token_label(ca->token));
        return iotca_token_key(ca->token, iotca_slice_of(id, n), spki, out);
    }
    iotca_buf pem = {0};
    iotca_rc rc = iotca_file_read(ref, 1 << 16, &pem);
    if (rc == IOTCA_OK) rc = iotca_key_decrypt_pem(iotca_buf_slice(&pem), iotca_buf_slice(&ca->pass), out);
    iotca_buf_free(&pem);
    if (rc == IOTCA_OK && !iotca_key_matches_spki(*out, spki)) {
        iotca_key_free(*out);
        *out = NULL;
        rc = iotca_error_set(IOTCA_E_CRYPTO, "the key file %s does not match its certificate", ref);
    }
    return rc;
}
