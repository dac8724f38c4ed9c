/* iotca-root init: create a vault holding one new self-signed root, its encrypted key and a fresh ledger. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "iotca/file.h"
#include "iotca/pem.h"
#include "root.h"

/* The vault directory must be new or empty: one vault, one root. */
static iotca_rc prepare_dir(const char *dir) {
    char state[PATH_MAX];
    snprintf(state, sizeof state, "%s/%s", dir, VAULT_STATE);
    struct stat st;
    IOTCA_ENSURE(lstat(state, &st) != 0, IOTCA_E_USAGE,
                 "%s already holds a root; a vault holds exactly one (use another directory for a second root)", dir);
    if (mkdir(dir, 0700) == 0) return IOTCA_OK;
    IOTCA_ENSURE(errno == EEXIST, IOTCA_E_STORAGE, "cannot create %s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    IOTCA_ENSURE(d != NULL, IOTCA_E_STORAGE, "cannot open %s: %s", dir, strerror(errno));
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) entries++;
    closedir(d);
    IOTCA_ENSURE(entries == 0, IOTCA_E_USAGE, "%s is not empty; a new vault needs an empty or new directory", dir);
    return IOTCA_OK;
}

static iotca_rc do_init(const root_opts *o) {
    IOTCA_ENSURE(o->vault && o->name, IOTCA_E_USAGE, "init needs --vault DIR and --name NAME");
    IOTCA_ENSURE((o->shares == 0) == (o->threshold == 0), IOTCA_E_USAGE, "--shares and --threshold go together");
    IOTCA_ENSURE(o->threshold <= o->shares, IOTCA_E_USAGE, "--threshold %ld exceeds --shares %ld", o->threshold,
                 o->shares);
    /* with shares, a file key's passphrase is drawn at random; a token's PIN is the operator's, then split */
    IOTCA_ENSURE(o->passphrase_file == NULL || o->shares == 0 || o->pkcs11_module, IOTCA_E_USAGE,
                 "--passphrase-file and --shares exclude each other");
    IOTCA_ENSURE(o->pkcs11_module || (!o->token_label && !o->token_serial), IOTCA_E_USAGE,
                 "--token-label and --token-serial go with --pkcs11 MODULE");
    IOTCA_ENSURE(!o->pkcs11_module || (o->token_label != NULL) != (o->token_serial != NULL), IOTCA_E_USAGE,
                 "--pkcs11 needs --token-label or --token-serial (one of them) to name the token");
    iotca_key_type kt = IOTCA_KEY_ECDSA_P384;
    if (o->key) IOTCA_GUARD(iotca_key_type_parse(o->key, &kt));
    long years = o->years ? o->years : 25;

    iotca_rc rc = IOTCA_OK;
    iotca_key *key = NULL;
    iotca_buf pass = {.secret = true}, name = {0}, spki = {0}, der = {0}, pem = {0}, keypem = {0}, hex = {0};
    iotca_cert *cert = NULL;
    json_t *p11 = NULL;
    vault v;
    memset(&v, 0, sizeof v);
    uint8_t secret[32], serial[IOTCA_SERIAL_LEN], fp[32], pin[32];

    IOTCA_TRY(iotca_name_build(o->country, o->org, NULL, o->name, &name));
    IOTCA_CHECK(!o->pkcs11_module || kt == IOTCA_KEY_ECDSA_P256 || kt == IOTCA_KEY_ECDSA_P384, IOTCA_E_USAGE,
                "a root key on a PKCS#11 token is ecdsa-p384 or ecdsa-p256, not %s", iotca_key_type_name(kt));
    if (o->pkcs11_module) {
        IOTCA_TRY(secret_passphrase(o->passphrase_file, false, &pass)); /* the token's user PIN */
    } else if (o->shares) {
        IOTCA_TRY(iotca_random(secret, sizeof secret));
        IOTCA_TRY(iotca_hex_encode(secret, sizeof secret, &pass));
    } else {
        IOTCA_TRY(secret_passphrase(o->passphrase_file, true, &pass));
    }
    IOTCA_TRY(prepare_dir(o->vault));
    strcpy(v.dir, o->vault);

    uint8_t key_id[16];
    if (o->pkcs11_module) { /* on the token: sensitive, never extractable; no key file */
        char label[64];
        IOTCA_TRY(iotca_random(key_id, sizeof key_id));
        snprintf(label, sizeof label, "iotca root %.48s", o->name);
        IOTCA_TRY(o->token_label ? iotca_token_open(o->pkcs11_module, o->token_label, iotca_buf_slice(&pass), &v.token)
                                 : iotca_token_open_serial(o->pkcs11_module, o->token_serial, iotca_buf_slice(&pass),
                                                           &v.token));
        IOTCA_TRY(iotca_token_generate(v.token, kt, iotca_slice_of(key_id, sizeof key_id), label, &key));
    } else {
        IOTCA_TRY(iotca_key_generate(kt, &key));
    }
    IOTCA_TRY(iotca_key_spki(key, &spki));
    IOTCA_TRY(iotca_serial_random(serial));
    time_t now = time(NULL);
    iotca_cert_spec s = {0};
    s.serial = iotca_slice_of(serial, sizeof serial);
    s.issuer = s.subject = iotca_buf_slice(&name);
    s.spki = iotca_buf_slice(&spki);
    uint8_t skid[20];
    IOTCA_TRY(iotca_skid_from_spki(s.spki, skid));
    s.issuer_skid = iotca_slice_of(skid, sizeof skid);
    s.not_before = now - 300; /* tolerate small clock skew on verifiers */
    s.not_after = now + (time_t)(years * 36525 / 100) * 86400;
    s.is_ca = true;
    s.path_len = -1; /* roots carry no path length: cross-signs add a level */
    s.key_usage = IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN;
    IOTCA_TRY(iotca_cert_sign(&s, key, &der));
    IOTCA_TRY(iotca_cert_parse(iotca_buf_slice(&der), &cert));
    iotca_cert_fingerprint(cert, fp);
    iotca_cert_spki_pin(cert, pin);

    char path[PATH_MAX];
    if (!o->pkcs11_module) {
        IOTCA_TRY(iotca_key_encrypt_pem(key, iotca_buf_slice(&pass), 0, &keypem));
        IOTCA_TRY(vault_path(&v, VAULT_ROOT_KEY, path, sizeof path));
        IOTCA_TRY(iotca_file_create(path, keypem.data, keypem.len, 0600));
    }
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE", der.data, der.len, &pem));
    IOTCA_TRY(vault_path(&v, VAULT_ROOT_CERT, path, sizeof path));
    IOTCA_TRY(iotca_file_create(path, pem.data, pem.len, 0644));
    IOTCA_TRY(vault_path(&v, VAULT_LEDGER, path, sizeof path));
    IOTCA_TRY(iotca_file_create(path, "", 0, 0600));

    char fp_hex[65], pin_hex[65], na[32];
    for (int i = 0; i < 32; i++) {
        snprintf(fp_hex + 2 * i, 3, "%02x", fp[i]);
        snprintf(pin_hex + 2 * i, 3, "%02x", pin[i]);
    }
    fmt_time(s.not_after, na);
    if (o->shares) {
        char dir[PATH_MAX];
        IOTCA_TRY(vault_path(&v, VAULT_SHARES, dir, sizeof dir));
        if (o->pkcs11_module) /* the PIN itself is split */
            IOTCA_TRY(shares_split(pass.data, pass.len, (unsigned)o->shares, (unsigned)o->threshold, dir, fp_hex));
        else
            IOTCA_TRY(shares_split(secret, sizeof secret, (unsigned)o->shares, (unsigned)o->threshold, dir, fp_hex));
    }
    IOTCA_TRY(hex_of(iotca_slice_of(serial, sizeof serial), &hex));
    v.state = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:i}", "format", 1, "name", o->name,
                        "key_type", iotca_key_type_name(kt), "root_serial", (const char *)hex.data, "root_sha256",
                        fp_hex, "root_spki_sha256", pin_hex, "not_after", na, "shares", (int)o->shares, "threshold",
                        (int)o->threshold, "crl_number", 0, "ledger_head", LEDGER_GENESIS, "ledger_records", 0);
    IOTCA_CHECK(v.state != NULL, IOTCA_E_INTERNAL, "cannot build vault state");
    if (o->pkcs11_module) { /* where the key is: what later commands open (the public key checks it is the same) */
        iotca_buf idhex = {0};
        IOTCA_TRY(hex_of(iotca_slice_of(key_id, sizeof key_id), &idhex));
        p11 = json_pack("{s:s, s:s, s:s, s:s}", "module", o->pkcs11_module, "token_label", iotca_token_label(v.token),
                        "key_id", (const char *)idhex.data, "public_key_sha256", pin_hex);
        iotca_buf_free(&idhex);
        IOTCA_CHECK(p11 != NULL, IOTCA_E_INTERNAL, "cannot build vault state");
        if (o->token_serial) json_object_set_new(p11, "token_serial", json_string(o->token_serial));
        json_object_set_new(v.state, "key_store", json_string("pkcs11"));
        json_object_set(v.state, "pkcs11", p11);
    }
    IOTCA_TRY(vault_save(&v));
    iotca_buf full = {0};
    IOTCA_TRY(iotca_name_format(iotca_buf_slice(&name), &full));
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "op", "init", "subject", (const char *)full.data, "serial",
                            (const char *)hex.data, "sha256", fp_hex, "not_after", na, "key_type",
                            iotca_key_type_name(kt));
    iotca_buf_free(&full);
    if (o->note) json_object_set_new(rec, "note", json_string(o->note));
    if (p11) {
        json_object_set_new(rec, "key_store", json_string("pkcs11"));
        json_object_set(rec, "pkcs11", p11); /* the token, key id and public key fingerprint, in the ledger too */
    }
    IOTCA_TRY(ledger_append(&v, rec));

    printf("Created root vault %s\n", o->vault);
    iotca_buf subj = {0};
    IOTCA_TRY(iotca_name_format(iotca_buf_slice(&name), &subj));
    printf("  subject      %s\n", (const char *)subj.data);
    iotca_buf_free(&subj);
    if (o->pkcs11_module)
        printf("  key          %s on PKCS#11 token '%s' (sensitive, not extractable; no key file)\n",
               iotca_key_type_name(kt), iotca_token_label(v.token));
    else
        printf("  key          %s (encrypted: %s/%s)\n", iotca_key_type_name(kt), o->vault, VAULT_ROOT_KEY);
    printf("  serial       %s\n", (const char *)hex.data);
    printf("  not after    %s\n", na);
    printf("  SHA-256      %s\n", fp_hex);
    printf("  SPKI pin     %s\n", pin_hex);
    if (o->shares)
        printf("  protection   %ld shares, any %ld unlock the %s: %s/%s/ (hand one file to each custodian,\n"
               "               then remove them from this machine)\n",
               o->shares, o->threshold, o->pkcs11_module ? "token's PIN" : "key", o->vault, VAULT_SHARES);
    printf("  ledger head  %s\n", json_string_value(json_object_get(v.state, "ledger_head")));
    printf("\nWARNING: this is one root. Devices must trust at least two independent roots (a primary and\n"
           "an offline backup) so that one can replace the other without a firmware update. Create the\n"
           "backup in a separate vault, e.g. iotca-root init --vault BACKUP_DIR --name \"%s (backup)\".\n",
           o->name);
out:
    iotca_wipe(secret, sizeof secret);
    iotca_key_free(key); /* before vault_close closes the token it is on */
    json_decref(p11);
    iotca_cert_free(cert);
    vault_close(&v);
    iotca_buf_free(&pass);
    iotca_buf_free(&name);
    iotca_buf_free(&spki);
    iotca_buf_free(&der);
    iotca_buf_free(&pem);
    iotca_buf_free(&keypem);
    iotca_buf_free(&hex);
    return rc;
}

int cmd_init(const root_opts *o) { return report(do_init(o)); }
