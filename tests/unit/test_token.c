/* Unit tests for lib/issuer/token: keys generated on a PKCS#11 token, sensitive and never extractable, signing there
 * through wolfSSL (issue 26). Run on SoftHSM2 by tests/unit/with_softhsm.sh, which makes the tokens iotca-a (PIN
 * 1234), iotca-b (PIN 2345) and iotca-a0 (PIN 3456) and names the module in IOTCA_TEST_P11_MODULE. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "iotca/key.h"
#include "iotca/token.h"
#include "unit_run.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
/* x fails with rc (and says why) */
#define REFUSED(x, rc) ck_assert_msg((x) == (rc), "%s: expected %s, detail: %s", #x, iotca_rc_name(rc), iotca_error_detail())

static const char *module;  /* IOTCA_TEST_P11_MODULE */
static const char *p11_dir; /* IOTCA_TEST_P11_DIR */

/* A PIN or id from a string literal: read-only memory, so anything writing to it (wolfSSL 5.5.4 wipes the PIN it
 * was given at finalisation) crashes the test. */
static iotca_slice lit(const char *s) { return iotca_slice_of(s, strlen(s)); }

/* Makes a key of type with id and label on t, keeping only its SPKI (appended to spki). */
static void made(iotca_token *t, iotca_key_type type, const char *id, const char *label, iotca_buf *spki) {
    iotca_key *k = NULL;
    ck_assert_msg(iotca_token_generate(t, type, lit(id), label, &k) == IOTCA_OK, "generate %s: %s", id,
                  iotca_error_detail());
    ck_assert_msg(iotca_key_spki(k, spki) == IOTCA_OK, "spki of %s: %s", id, iotca_error_detail());
    iotca_key_free(k);
}

static iotca_token *open_token(const char *label, const char *pin) {
    iotca_token *t = NULL;
    OK(iotca_token_open(module, label, lit(pin), &t));
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(iotca_token_label(t), label);
    return t;
}

/* The digest iotca_key_sign takes of msg, computed outside wolfSSL (sha256sum, sha384sum). */
static void digest_of(const char *msg, size_t n, uint8_t *out) {
    char cmd[256], hex[200] = "";
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | sha%zusum | cut -d' ' -f1", msg, n == 48 ? (size_t)384 : (size_t)256);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(hex, sizeof hex, p));
    ck_assert_int_eq(pclose(p), 0);
    hex[strcspn(hex, "\n")] = 0;
    ck_assert_uint_eq(strlen(hex), 2 * n);
    iotca_buf raw = {0};
    OK(iotca_hex_decode(hex, &raw));
    ck_assert_uint_eq(raw.len, n);
    memcpy(out, raw.data, n);
    iotca_buf_free(&raw);
}

/* k signs a message and a digest, and both verify in software under spki and k's algorithm (a changed message
 * does not). */
static void signs_verifiably(const iotca_key *k, iotca_slice spki) {
    static const char msg[] = "to be signed on the token";
    iotca_buf alg = {0}, sig = {0};
    OK(iotca_key_sigalg(k, &alg));
    OK(iotca_key_sign(k, lit(msg), &sig));
    ck_assert_uint_gt(sig.len, 0);
    OK(iotca_verify(spki, iotca_buf_slice(&alg), lit(msg), iotca_buf_slice(&sig)));
    REFUSED(iotca_verify(spki, iotca_buf_slice(&alg), lit("to be signed on the tokeN"), iotca_buf_slice(&sig)),
            IOTCA_E_CRYPTO);
    size_t n = iotca_key_digest_len(k);
    ck_assert_uint_eq(n, iotca_key_get_type(k) == IOTCA_KEY_ECDSA_P384 ? 48 : 32);
    uint8_t d[48];
    digest_of(msg, n, d);
    iotca_buf_clear(&sig);
    OK(iotca_key_sign_digest(k, d, n, &sig));
    OK(iotca_verify(spki, iotca_buf_slice(&alg), lit(msg), iotca_buf_slice(&sig)));
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
}

/* ---- opening ---- */

START_TEST(open_by_label_not_by_index_nor_prefix) {
    /* SoftHSM's slot IDs are large numbers, not 0..2: each token is found by its label */
    iotca_token *a = open_token("iotca-a", "1234");
    iotca_token_close(a);
    iotca_token *b = open_token("iotca-b", "2345");
    iotca_token_close(b);
    /* a key on iotca-a0 is not on iotca-a, whose label is a prefix of iotca-a0's */
    iotca_token *a0 = open_token("iotca-a0", "3456");
    iotca_key *k = NULL;
    iotca_buf spki = {0};
    made(a0, IOTCA_KEY_ECDSA_P256, "prefix-x", "on a0", &spki);
    iotca_token_close(a0);
    a = open_token("iotca-a", "1234");
    k = NULL;
    REFUSED(iotca_token_key(a, lit("prefix-x"), iotca_buf_slice(&spki), &k), IOTCA_E_UNAVAILABLE);
    ck_assert_ptr_null(k);
    iotca_token_close(a);
    /* and on iotca-a0 it is */
    a0 = open_token("iotca-a0", "3456");
    OK(iotca_token_key(a0, lit("prefix-x"), iotca_buf_slice(&spki), &k));
    ck_assert(iotca_key_on_token(k));
    signs_verifiably(k, iotca_buf_slice(&spki));
    iotca_key_free(k);
    iotca_token_close(a0);
    iotca_buf_free(&spki);
}
END_TEST

START_TEST(open_refusals) {
    iotca_token *t = NULL;
    /* wrong PINs: another token's, and iotca-a's on iotca-a0 */
    REFUSED(iotca_token_open(module, "iotca-a", lit("2345"), &t), IOTCA_E_CRYPTO);
    ck_assert_msg(strstr(iotca_error_detail(), "PIN") != NULL, "%s", iotca_error_detail());
    ck_assert_ptr_null(t);
    REFUSED(iotca_token_open(module, "iotca-a0", lit("1234"), &t), IOTCA_E_CRYPTO);
    ck_assert_ptr_null(t);
    /* after a refused PIN the module opens again with the right one */
    iotca_token_close(open_token("iotca-a", "1234"));
    /* no token with that label: a prefix of all three, an unknown one, an over-long one */
    REFUSED(iotca_token_open(module, "iotca", lit("1234"), &t), IOTCA_E_USAGE);
    REFUSED(iotca_token_open(module, "iotca-c", lit("1234"), &t), IOTCA_E_USAGE);
    REFUSED(iotca_token_open(module, "", lit("1234"), &t), IOTCA_E_USAGE);
    REFUSED(iotca_token_open(module, "iotca-a-label-of-thirty-three-by", lit("1234"), &t), IOTCA_E_USAGE);
    ck_assert_uint_eq(strlen("iotca-a-label-of-thirty-three-by"), 32);
    REFUSED(iotca_token_open(module, "iotca-a-label-of-thirty-three-byt", lit("1234"), &t), IOTCA_E_USAGE);
    ck_assert_ptr_null(t);
    /* modules: missing, not a PKCS#11 module */
    REFUSED(iotca_token_open("/nonexistent/libnope-pkcs11.so", "iotca-a", lit("1234"), &t), IOTCA_E_USAGE);
    REFUSED(iotca_token_open("/lib/x86_64-linux-gnu/libm.so.6", "iotca-a", lit("1234"), &t), IOTCA_E_USAGE);
    ck_assert_ptr_null(t);
    /* NULL arguments */
    REFUSED(iotca_token_open(NULL, "iotca-a", lit("1234"), &t), IOTCA_E_USAGE);
    REFUSED(iotca_token_open(module, NULL, lit("1234"), &t), IOTCA_E_USAGE);
    REFUSED(iotca_token_open(module, "iotca-a", lit("1234"), NULL), IOTCA_E_USAGE);
    ck_assert_ptr_null(t);
    iotca_token_close(NULL); /* ignored */
}
END_TEST

START_TEST(literal_pin_survives_close) {
    /* the PIN is a slice of a string literal (read-only): closing must not write to it, twice in one process */
    for (int i = 0; i < 2; i++) {
        iotca_token *t = NULL;
        OK(iotca_token_open(module, "iotca-b", iotca_slice_of("2345", 4), &t));
        ck_assert_str_eq(iotca_token_label(t), "iotca-b");
        iotca_token_close(t);
    }
    /* a caller's writable PIN buffer is copied, not wiped: it still holds the PIN after close */
    char pin[] = "1234";
    iotca_token *t = NULL;
    OK(iotca_token_open(module, "iotca-a", iotca_slice_of(pin, 4), &t));
    iotca_token_close(t);
    ck_assert_str_eq(pin, "1234");
    /* and the token opens again after that */
    iotca_token_close(open_token("iotca-a", "1234"));
}
END_TEST

/* ---- generating and signing ---- */

static void generate_and_sign(iotca_key_type type, const char *id) {
    iotca_token *t = open_token("iotca-a", "1234");
    iotca_key *k = NULL;
    OK(iotca_token_generate(t, type, lit(id), "iotca test key", &k));
    ck_assert(iotca_key_on_token(k));
    ck_assert_int_eq(iotca_key_get_type(k), type);
    /* not extractable */
    iotca_buf p8 = {.secret = true};
    ck_assert_int_ne(iotca_key_to_pkcs8(k, &p8), IOTCA_OK);
    ck_assert_uint_eq(p8.len, 0);
    /* its public key, an SPKI of the right type */
    iotca_buf spki = {0};
    OK(iotca_key_spki(k, &spki));
    iotca_key_type back;
    OK(iotca_spki_key_type(iotca_buf_slice(&spki), &back));
    ck_assert_int_eq(back, type);
    ck_assert(iotca_key_matches_spki(k, iotca_buf_slice(&spki)));
    signs_verifiably(k, iotca_buf_slice(&spki));
    iotca_key_free(k);
    iotca_token_close(t);
    iotca_buf_free(&p8);
    iotca_buf_free(&spki);
}

START_TEST(generate_p256_signs) { generate_and_sign(IOTCA_KEY_ECDSA_P256, "gen-p256"); }
END_TEST

START_TEST(generate_p384_signs) { generate_and_sign(IOTCA_KEY_ECDSA_P384, "gen-p384"); }
END_TEST

START_TEST(file_key_is_not_on_token) {
    iotca_key *k = NULL;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    ck_assert(!iotca_key_on_token(k));
    iotca_buf p8 = {.secret = true};
    OK(iotca_key_to_pkcs8(k, &p8));
    iotca_key_free(k);
    iotca_buf_free(&p8);
}
END_TEST

/* ---- reloading a key ---- */

START_TEST(reload_after_reopen) {
    iotca_token *t = open_token("iotca-a", "1234");
    iotca_key *k = NULL, *other = NULL, *ed = NULL;
    iotca_buf spki = {0}, spki384 = {0}, other_spki = {0}, ed_spki = {0};
    made(t, IOTCA_KEY_ECDSA_P256, "reload-256", "reload", &spki);
    k = NULL;
    made(t, IOTCA_KEY_ECDSA_P384, "reload-384", "reload", &spki384);
    k = NULL;
    iotca_token_close(t);

    t = open_token("iotca-a", "1234");
    OK(iotca_token_key(t, lit("reload-256"), iotca_buf_slice(&spki), &k));
    ck_assert(iotca_key_on_token(k));
    ck_assert_int_eq(iotca_key_get_type(k), IOTCA_KEY_ECDSA_P256);
    ck_assert(iotca_key_matches_spki(k, iotca_buf_slice(&spki)));
    signs_verifiably(k, iotca_buf_slice(&spki));
    iotca_key_free(k);
    k = NULL;
    OK(iotca_token_key(t, lit("reload-384"), iotca_buf_slice(&spki384), &k));
    ck_assert_int_eq(iotca_key_get_type(k), IOTCA_KEY_ECDSA_P384);
    signs_verifiably(k, iotca_buf_slice(&spki384));
    iotca_key_free(k);
    k = NULL;

    /* another key's SPKI: of the same curve, and of the other one */
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &other));
    OK(iotca_key_spki(other, &other_spki));
    REFUSED(iotca_token_key(t, lit("reload-256"), iotca_buf_slice(&other_spki), &k), IOTCA_E_CRYPTO);
    ck_assert_ptr_null(k);
    REFUSED(iotca_token_key(t, lit("reload-256"), iotca_buf_slice(&spki384), &k), IOTCA_E_CRYPTO);
    ck_assert_ptr_null(k);
    /* an SPKI that is not ECDSA */
    OK(iotca_key_generate(IOTCA_KEY_ED25519, &ed));
    OK(iotca_key_spki(ed, &ed_spki));
    REFUSED(iotca_token_key(t, lit("reload-256"), iotca_buf_slice(&ed_spki), &k), IOTCA_E_POLICY);
    ck_assert_ptr_null(k);
    /* no key with that id */
    REFUSED(iotca_token_key(t, lit("reload-none"), iotca_buf_slice(&spki), &k), IOTCA_E_UNAVAILABLE);
    ck_assert_ptr_null(k);
    /* bad ids: empty, 33 bytes (32 is the most) */
    static const char id33[] = "0123456789abcdef0123456789abcdef0";
    ck_assert_uint_eq(strlen(id33), IOTCA_TOKEN_ID_MAX + 1);
    REFUSED(iotca_token_key(t, iotca_slice_of("", 0), iotca_buf_slice(&spki), &k), IOTCA_E_USAGE);
    REFUSED(iotca_token_key(t, lit(id33), iotca_buf_slice(&spki), &k), IOTCA_E_USAGE);
    REFUSED(iotca_token_generate(t, IOTCA_KEY_ECDSA_P256, iotca_slice_of("", 0), "bad", &k), IOTCA_E_USAGE);
    REFUSED(iotca_token_generate(t, IOTCA_KEY_ECDSA_P256, lit(id33), "bad", &k), IOTCA_E_USAGE);
    ck_assert_ptr_null(k);
    /* a 32-byte id is fine */
    OK(iotca_token_generate(t, IOTCA_KEY_ECDSA_P256, iotca_slice_of(id33, IOTCA_TOKEN_ID_MAX), "id32", &k));
    iotca_key_free(k);
    k = NULL;
    /* key types the token does not make */
    REFUSED(iotca_token_generate(t, IOTCA_KEY_RSA_3072, lit("reload-rsa"), "bad", &k), IOTCA_E_USAGE);
    REFUSED(iotca_token_generate(t, IOTCA_KEY_RSA_4096, lit("reload-rsa"), "bad", &k), IOTCA_E_USAGE);
    REFUSED(iotca_token_generate(t, IOTCA_KEY_ED25519, lit("reload-ed"), "bad", &k), IOTCA_E_USAGE);
    ck_assert_ptr_null(k);
    iotca_token_close(t);
    iotca_key_free(other);
    iotca_key_free(ed);
    iotca_buf_free(&spki);
    iotca_buf_free(&spki384);
    iotca_buf_free(&other_spki);
    iotca_buf_free(&ed_spki);
}
END_TEST

/* ---- the key as another PKCS#11 client sees it (OpenSC's pkcs11-tool) ---- */

/* Runs cmd (stderr too), returns its output (caller frees) and its exit status. */
static char *run(const char *cmd, int *status) {
    char full[1024];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            out = realloc(out, cap);
            ck_assert_ptr_nonnull(out);
        }
    }
    out[len] = 0;
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* The value of line "  <field>:" in block, copied into out (empty if none). */
static void field(const char *block, const char *name, char *out, size_t n) {
    char key[64];
    snprintf(key, sizeof key, "\n  %s:", name);
    out[0] = 0;
    const char *f = strstr(block, key);
    if (f == NULL) return;
    f += strlen(key);
    f += strspn(f, " ");
    size_t l = strcspn(f, "\n");
    snprintf(out, n, "%.*s", (int)l, f);
}

/* Whether item is one of the comma-separated items of list. */
static bool has_item(const char *list, const char *item) {
    const char *p = list;
    while (*p) {
        p += strspn(p, " ,");
        size_t l = strcspn(p, ",");
        while (l > 0 && p[l - 1] == ' ') l--;
        if (l == strlen(item) && strncmp(p, item, l) == 0) return true;
        p += strcspn(p, ",");
    }
    return false;
}

/* The "Private Key Object" block of pkcs11-tool --list-objects whose ID is hex, copied (caller frees); NULL if
 * none. */
static char *privkey_block(const char *listing, const char *hex) {
    const char *p = listing;
    while ((p = strstr(p, "Private Key Object")) != NULL) {
        /* the block's lines are indented: it ends at the next line that is not */
        const char *end = p;
        while ((end = strchr(end, '\n')) != NULL && end[1] == ' ') end++;
        size_t l = end ? (size_t)(end - p) : strlen(p);
        char *block = malloc(l + 2);
        ck_assert_ptr_nonnull(block);
        memcpy(block, p, l);
        block[l] = '\n';
        block[l + 1] = 0;
        char id[128];
        field(block, "ID", id, sizeof id);
        if (strcmp(id, hex) == 0) return block;
        free(block);
        p += l;
    }
    return NULL;
}

/* Generates a P-256 key with id on iotca-b, closes the token, and returns pkcs11-tool's listing of the token's
 * objects (caller frees), the key's SPKI in *spki and the id's hex in hex. */
static char *generate_and_list(const char *id, const char *label, iotca_buf *spki, char *hex, size_t hexn) {
    iotca_token *t = open_token("iotca-b", "2345");
    made(t, IOTCA_KEY_ECDSA_P256, id, label, spki);
    iotca_token_close(t);
    iotca_buf h = {0};
    OK(iotca_hex_encode((const uint8_t *)id, strlen(id), &h));
    OK(iotca_buf_cstr(&h));
    snprintf(hex, hexn, "%s", (const char *)h.data);
    iotca_buf_free(&h);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "pkcs11-tool --module '%s' --token-label iotca-b --pin 2345 --list-objects", module);
    int st;
    char *out = run(cmd, &st);
    ck_assert_msg(st == 0, "pkcs11-tool --list-objects exited %d:\n%s", st, out);
    return out;
}

START_TEST(private_key_sensitive_never_extractable) {
    iotca_buf spki = {0};
    char hex[80], access[256], label[128], cmd[1024];
    char *listing = generate_and_list("p11tool-access", "iotca access key", &spki, hex, sizeof hex);
    char *block = privkey_block(listing, hex);
    ck_assert_msg(block != NULL, "no private key with ID %s in:\n%s", hex, listing);
    field(block, "label", label, sizeof label);
    ck_assert_str_eq(label, "iotca access key");
    field(block, "Access", access, sizeof access);
    ck_assert_msg(has_item(access, "sensitive"), "Access: %s", access);
    ck_assert_msg(has_item(access, "always sensitive"), "Access: %s", access);
    ck_assert_msg(has_item(access, "never extractable"), "Access: %s", access);
    ck_assert_msg(has_item(access, "local"), "Access: %s", access);
    ck_assert_msg(!has_item(access, "extractable"), "Access: %s", access);
    /* "extractable" only as part of "never extractable" */
    int n = 0;
    for (const char *p = access; (p = strstr(p, "extractable")) != NULL; p++, n++)
        ck_assert_msg(p - access >= 6 && strncmp(p - 6, "never ", 6) == 0, "Access: %s", access);
    ck_assert_msg(n == 1, "Access: %s", access);

    /* (reading the private key's value with pkcs11-tool proves nothing: OpenSC 0.23 reads no EC private key at all,
     * extractable or not; the Access line above is the token's own answer, and iotca_key_to_pkcs8's refusal is
     * checked in generate_and_sign) */

    /* the public key object is there, and it is the key's SPKI */
    char pub[512];
    snprintf(pub, sizeof pub, "%s/pubkey-%s.der", p11_dir, hex);
    snprintf(cmd, sizeof cmd,
             "pkcs11-tool --module '%s' --token-label iotca-b --pin 2345 --read-object --type pubkey --id %s -o '%s'",
             module, hex, pub);
    int st;
    char *out = run(cmd, &st);
    ck_assert_msg(st == 0, "pkcs11-tool --read-object --type pubkey exited %d:\n%s", st, out);
    free(out);
    FILE *f = fopen(pub, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t der[512];
    size_t dl = fread(der, 1, sizeof der, f);
    fclose(f);
    remove(pub);
    ck_assert_msg(iotca_slice_eq(iotca_slice_of(der, dl), iotca_buf_slice(&spki)),
                  "the token's public key object (%zu bytes) is not the key's SPKI (%zu bytes)", dl, spki.len);
    free(block);
    free(listing);
    iotca_buf_free(&spki);
}
END_TEST

/* The serial number softhsm2-util shows for the token labelled label. */
static void serial_of(const char *label, char *out, size_t n) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "softhsm2-util --show-slots | awk '/Serial number:/ { s = $3 } /Label:/ && $2 == \"%s\" "
             "{ print s; exit }'", label);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(out, (int)n, p));
    pclose(p);
    out[strcspn(out, "\n")] = 0;
    ck_assert_uint_gt(strlen(out), 0);
}

START_TEST(open_by_serial_and_destroy) {
    char serial[64];
    serial_of("iotca-b", serial, sizeof serial);
    iotca_token *t = NULL;
    OK(iotca_token_open_serial(module, serial, lit("2345"), &t));
    ck_assert_str_eq(iotca_token_label(t), "iotca-b"); /* the token's own label */
    iotca_key *k = NULL;
    iotca_buf spki = {0};
    made(t, IOTCA_KEY_ECDSA_P256, "doomed", "doomed", &spki);
    OK(iotca_token_destroy(t, lit("doomed")));
    REFUSED(iotca_token_key(t, lit("doomed"), iotca_buf_slice(&spki), &k), IOTCA_E_UNAVAILABLE);
    OK(iotca_token_destroy(t, lit("doomed"))); /* nothing left: nothing to do */
    REFUSED(iotca_token_destroy(t, lit("")), IOTCA_E_USAGE);
    iotca_token_close(t);
    REFUSED(iotca_token_open_serial(module, "0000000000000000", lit("2345"), &t), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "no token has serial number"));
    REFUSED(iotca_token_open_serial(module, "12345678901234567", lit("2345"), &t), IOTCA_E_USAGE); /* 17 bytes */
    REFUSED(iotca_token_open_serial(module, serial, lit("1234"), &t), IOTCA_E_CRYPTO); /* iotca-a's PIN */
    iotca_buf_free(&spki);
}
END_TEST

START_TEST(private_key_signs_only) {
    /* "for signing only" (token.h): no decrypt, unwrap or derive on the private key */
    iotca_buf spki = {0};
    char hex[80], usage[256];
    char *listing = generate_and_list("p11tool-usage", "iotca usage key", &spki, hex, sizeof hex);
    char *block = privkey_block(listing, hex);
    ck_assert_msg(block != NULL, "no private key with ID %s in:\n%s", hex, listing);
    field(block, "Usage", usage, sizeof usage);
    ck_assert_msg(has_item(usage, "sign"), "Usage: %s", usage);
    ck_assert_msg(!has_item(usage, "decrypt") && !has_item(usage, "unwrap") && !has_item(usage, "derive"),
                  "Usage: %s", usage);
    free(block);
    free(listing);
    iotca_buf_free(&spki);
}
END_TEST

/* ---- threads ---- */

#define THREADS 4
#define SIGNATURES 50

typedef struct signer {
    iotca_token *t;
    iotca_slice id, spki;
    int signed_ok, failed;
    char detail[256]; /* the first failure's (the error detail is the thread's own) */
} signer;

static void *sign_many(void *arg) {
    signer *s = arg;
    iotca_key *k = NULL;
    iotca_buf alg = {0}, sig = {0};
    char msg[64];
    if (iotca_token_key(s->t, s->id, s->spki, &k) != IOTCA_OK || iotca_key_sigalg(k, &alg) != IOTCA_OK) {
        s->failed++;
        snprintf(s->detail, sizeof s->detail, "key: %s", iotca_error_detail());
        goto out;
    }
    for (int i = 0; i < SIGNATURES; i++) {
        snprintf(msg, sizeof msg, "message %d of thread %p", i, (void *)s);
        iotca_buf_clear(&sig);
        iotca_rc rc = iotca_key_sign(k, lit(msg), &sig);
        if (rc == IOTCA_OK) rc = iotca_verify(s->spki, iotca_buf_slice(&alg), lit(msg), iotca_buf_slice(&sig));
        if (rc == IOTCA_OK) {
            s->signed_ok++;
        } else if (s->failed++ == 0) {
            snprintf(s->detail, sizeof s->detail, "signature %d: %s", i, iotca_error_detail());
        }
    }
out:
    iotca_key_free(k);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    iotca_crypto_thread_end();
    return NULL;
}

START_TEST(threads_sign_with_one_token_key) {
    iotca_token *t = open_token("iotca-b", "2345");
    iotca_buf spki = {0};
    made(t, IOTCA_KEY_ECDSA_P256, "threads", "threads", &spki);
    signer s[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        s[i] = (signer){.t = t, .id = lit("threads"), .spki = iotca_buf_slice(&spki)};
        ck_assert_int_eq(pthread_create(&th[i], NULL, sign_many, &s[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(s[i].failed == 0, "thread %d: %d failures, first %s", i, s[i].failed, s[i].detail);
        ck_assert_int_eq(s[i].signed_ok, SIGNATURES);
    }
    iotca_token_close(t);
    iotca_buf_free(&spki);
}
END_TEST

int main(void) {
    module = getenv("IOTCA_TEST_P11_MODULE");
    p11_dir = getenv("IOTCA_TEST_P11_DIR");
    if (module == NULL || *module == 0 || p11_dir == NULL || *p11_dir == 0) {
        fprintf(stderr, "FAIL - IOTCA_TEST_P11_MODULE and IOTCA_TEST_P11_DIR are not set: run this test through "
                        "tests/unit/with_softhsm.sh (ctest -R unit_token does), which makes its SoftHSM2 tokens\n");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("token");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, open_by_label_not_by_index_nor_prefix);
    tcase_add_test(tc, open_refusals);
    tcase_add_test(tc, literal_pin_survives_close);
    tcase_add_test(tc, generate_p256_signs);
    tcase_add_test(tc, generate_p384_signs);
    tcase_add_test(tc, file_key_is_not_on_token);
    tcase_add_test(tc, reload_after_reopen);
    tcase_add_test(tc, private_key_sensitive_never_extractable);
    tcase_add_test(tc, private_key_signs_only);
    tcase_add_test(tc, open_by_serial_and_destroy);
    tcase_add_test(tc, threads_sign_with_one_token_key);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
