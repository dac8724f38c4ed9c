/* Unit tests for lib/issuer: keys, encrypted key files, names, certificates, CSRs and CRLs. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit_run.h"
#include "iotca/der.h"
#include "iotca/file.h"
#include "iotca/key.h"
#include "iotca/ocsp.h"
#include "iotca/oid.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())

static iotca_buf fixture(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", IOTCA_TEST_DATA, name);
    iotca_buf b = {0};
    OK(iotca_file_read(path, 1 << 20, &b));
    return b;
}

static iotca_key *fixture_key(const char *name) {
    iotca_buf pem = fixture(name), der = {0};
    iotca_key *k = NULL;
    OK(iotca_pem_or_der(iotca_buf_slice(&pem), "PRIVATE KEY", &der));
    OK(iotca_key_from_pkcs8(iotca_buf_slice(&der), &k));
    iotca_buf_free(&pem);
    iotca_buf_free(&der);
    return k;
}

/* A CA-style spec for key k, self-issued, with fixed fields the tests check. */
typedef struct fixture_cert {
    iotca_buf name, spki;
    uint8_t serial[IOTCA_SERIAL_LEN], skid[20];
    iotca_cert_spec spec;
} fixture_cert;

static void make_spec(fixture_cert *f, const iotca_key *k) {
    memset(f, 0, sizeof *f);
    OK(iotca_name_build("US", "ACME", "Fleet", "ACME Test CA", &f->name));
    OK(iotca_key_spki(k, &f->spki));
    OK(iotca_serial_random(f->serial));
    OK(iotca_skid_from_spki(iotca_buf_slice(&f->spki), f->skid));
    iotca_cert_spec *s = &f->spec;
    s->serial = iotca_slice_of(f->serial, sizeof f->serial);
    s->issuer = s->subject = iotca_buf_slice(&f->name);
    s->spki = iotca_buf_slice(&f->spki);
    s->issuer_skid = iotca_slice_of(f->skid, sizeof f->skid);
    s->not_before = 1700000000;
    s->not_after = 1700000000 + 86400 * 365;
    s->is_ca = true;
    s->path_len = 0;
    s->key_usage = IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN;
}

static void free_spec(fixture_cert *f) {
    iotca_buf_free(&f->name);
    iotca_buf_free(&f->spki);
}

/* ---- keys ---- */

static const iotca_key_type all_types[] = {IOTCA_KEY_ECDSA_P256, IOTCA_KEY_ECDSA_P384, IOTCA_KEY_RSA_3072,
                                           IOTCA_KEY_ED25519};

START_TEST(key_generate_sign_verify) {
    iotca_key_type t = all_types[_i];
    iotca_key *k = NULL, *k2 = NULL;
    iotca_buf spki = {0}, alg = {0}, sig = {0}, p8 = {.secret = true};
    OK(iotca_key_generate(t, &k));
    ck_assert_int_eq(iotca_key_get_type(k), t);
    OK(iotca_key_spki(k, &spki));
    iotca_key_type back;
    OK(iotca_spki_key_type(iotca_buf_slice(&spki), &back));
    ck_assert_int_eq(back, t);
    OK(iotca_key_sigalg(k, &alg));
    const char *msg = "the message";
    OK(iotca_key_sign(k, iotca_slice_of(msg, strlen(msg)), &sig));
    OK(iotca_verify(iotca_buf_slice(&spki), iotca_buf_slice(&alg), iotca_slice_of(msg, strlen(msg)),
                    iotca_buf_slice(&sig)));
    /* a different message, a flipped signature bit: both refused */
    ck_assert_int_eq(iotca_verify(iotca_buf_slice(&spki), iotca_buf_slice(&alg), iotca_slice_of("the messagE", 11),
                                  iotca_buf_slice(&sig)),
                     IOTCA_E_CRYPTO);
    sig.data[sig.len / 2] ^= 0x01;
    ck_assert_int_ne(iotca_verify(iotca_buf_slice(&spki), iotca_buf_slice(&alg), iotca_slice_of(msg, strlen(msg)),
                                  iotca_buf_slice(&sig)),
                     IOTCA_OK);
    /* PKCS#8 round trip keeps the same public key */
    OK(iotca_key_to_pkcs8(k, &p8));
    OK(iotca_key_from_pkcs8(iotca_buf_slice(&p8), &k2));
    ck_assert(iotca_key_matches_spki(k2, iotca_buf_slice(&spki)));
    iotca_key_free(k);
    iotca_key_free(k2);
    iotca_buf_free(&spki);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    iotca_buf_free(&p8);
}
END_TEST

START_TEST(key_wrong_key_does_not_verify) {
    iotca_key *a, *b;
    iotca_buf spki_b = {0}, alg = {0}, sig = {0};
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &a));
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &b));
    OK(iotca_key_spki(b, &spki_b));
    OK(iotca_key_sigalg(a, &alg));
    OK(iotca_key_sign(a, iotca_slice_of("m", 1), &sig));
    ck_assert_int_eq(
        iotca_verify(iotca_buf_slice(&spki_b), iotca_buf_slice(&alg), iotca_slice_of("m", 1), iotca_buf_slice(&sig)),
        IOTCA_E_CRYPTO);
    ck_assert(!iotca_key_matches_spki(a, iotca_buf_slice(&spki_b)));
    /* an ECDSA signature presented as Ed25519 is an algorithm mismatch */
    iotca_buf ed_alg = {0};
    iotca_der w;
    iotca_der_init(&w, &ed_alg);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(&w, IOTCA_OID_ED25519, sizeof IOTCA_OID_ED25519);
    iotca_der_end(&w);
    OK(iotca_der_finish(&w));
    ck_assert_int_eq(
        iotca_verify(iotca_buf_slice(&spki_b), iotca_buf_slice(&ed_alg), iotca_slice_of("m", 1), iotca_buf_slice(&sig)),
        IOTCA_E_POLICY);
    iotca_key_free(a);
    iotca_key_free(b);
    iotca_buf_free(&spki_b);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    iotca_buf_free(&ed_alg);
}
END_TEST

/* A thread that only verifies (as iotcad's lint and fleet-check handlers do) fills wolfSSL's per-thread
 * FP_ECC cache; it must be released when the thread exits without anyone calling iotca_crypto_thread_end
 * (it leaked before: ASan in CI; this test's leak shows under Valgrind and ASan, which CI runs). */
typedef struct verify_job {
    iotca_slice spki, alg, msg, sig;
    iotca_rc rc;
} verify_job;

static void *verify_only(void *arg) {
    verify_job *j = arg;
    for (int i = 0; i < 3 && (j->rc = iotca_verify(j->spki, j->alg, j->msg, j->sig)) == IOTCA_OK; i++) {}
    return NULL;
}

START_TEST(verify_thread_releases_caches) {
    iotca_key *k = NULL;
    iotca_buf spki = {0}, alg = {0}, sig = {0};
    const char *msg = "verified on another thread";
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_key_spki(k, &spki));
    OK(iotca_key_sigalg(k, &alg));
    OK(iotca_key_sign(k, iotca_slice_of(msg, strlen(msg)), &sig));
    verify_job j = {iotca_buf_slice(&spki), iotca_buf_slice(&alg), iotca_slice_of(msg, strlen(msg)),
                    iotca_buf_slice(&sig), IOTCA_E_INTERNAL};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, verify_only, &j), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(j.rc, IOTCA_OK);
    iotca_key_free(k);
    iotca_buf_free(&spki);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    iotca_crypto_thread_end();
}
END_TEST

/* RFC 4231 §4.3 (test case 2) for each HMAC iotca offers, and §4.8 (a key longer than the block); and the
 * empty key RFC 2104 allows. */
START_TEST(hmac_rfc4231) {
    iotca_slice key = iotca_slice_of("Jefe", 4), msg = iotca_slice_of("what do ya want for nothing?", 28);
    uint8_t mac[64];
    iotca_buf hex = {0}, big = {0};
    OK(iotca_hmac_sha256(key, msg, mac));
    OK(iotca_hex_encode(mac, 32, &hex));
    ck_assert_str_eq((char *)hex.data, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    iotca_buf_clear(&hex);
    OK(iotca_hmac_sha384(key, msg, mac));
    OK(iotca_hex_encode(mac, 48, &hex));
    ck_assert_str_eq((char *)hex.data, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                                       "8e2240ca5e69e2c78b3239ecfab21649");
    iotca_buf_clear(&hex);
    OK(iotca_hmac_sha512(key, msg, mac));
    OK(iotca_hex_encode(mac, 64, &hex));
    ck_assert_str_eq((char *)hex.data, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                                       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    iotca_buf_clear(&hex);
    for (int i = 0; i < 131; i++) OK(iotca_buf_append_byte(&big, 0xaa));
    const char *m = "This is a test using a larger than block-size key and a larger than block-size data. The key "
                    "needs to be hashed before being used by the HMAC algorithm.";
    OK(iotca_hmac_sha256(iotca_buf_slice(&big), iotca_slice_of(m, strlen(m)), mac));
    OK(iotca_hex_encode(mac, 32, &hex));
    ck_assert_str_eq((char *)hex.data, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    iotca_buf_clear(&hex);
    OK(iotca_hmac_sha256(iotca_slice_of(NULL, 0), iotca_slice_of(NULL, 0), mac));
    OK(iotca_hex_encode(mac, 32, &hex));
    ck_assert_str_eq((char *)hex.data, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    iotca_buf_free(&hex);
    iotca_buf_free(&big);
}
END_TEST

/* RFC 7914 §11's PBKDF2-HMAC-SHA256 vectors (P "passwd", S "salt", c 1; P "Password", S "NaCl", c 80000), and the
 * refusals. */
START_TEST(pbkdf2_rfc7914) {
    uint8_t dk[64];
    iotca_buf hex = {0};
    OK(iotca_pbkdf2_sha256(iotca_slice_of("passwd", 6), iotca_slice_of("salt", 4), 1, dk, 64));
    OK(iotca_hex_encode(dk, 64, &hex));
    ck_assert_str_eq((char *)hex.data, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                                       "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    iotca_buf_clear(&hex);
    OK(iotca_pbkdf2_sha256(iotca_slice_of("Password", 8), iotca_slice_of("NaCl", 4), 80000, dk, 64));
    OK(iotca_hex_encode(dk, 64, &hex));
    ck_assert_str_eq((char *)hex.data, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
                                       "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
    iotca_buf_free(&hex);
    ck_assert_int_eq(iotca_pbkdf2_sha256(iotca_slice_of(NULL, 0), iotca_slice_of("s", 1), 1, dk, 32), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_pbkdf2_sha256(iotca_slice_of("p", 1), iotca_slice_of("s", 1), 1, dk, 65), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_pbkdf2_sha256(iotca_slice_of("p", 1), iotca_slice_of("s", 1), 20000000, dk, 32),
                     IOTCA_E_USAGE);
}
END_TEST

START_TEST(key_type_names) {
    iotca_key_type t;
    OK(iotca_key_type_parse("rsa-4096", &t));
    ck_assert_int_eq(t, IOTCA_KEY_RSA_4096);
    ck_assert_str_eq(iotca_key_type_name(IOTCA_KEY_ECDSA_P384), "ecdsa-p384");
    const char *bad[] = {"dsa", "rsa-2048", "ECDSA-P256", "", "ecdsa-p521"};
    for (size_t i = 0; i < 5; i++) ck_assert_int_eq(iotca_key_type_parse(bad[i], &t), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_key_type_parse(NULL, &t), IOTCA_E_USAGE);
}
END_TEST

START_TEST(key_unsupported_and_malformed_pkcs8) {
    iotca_key *k = NULL;
    const char *unsupported[] = {"rsa2048.key.pem", "p521.key.pem"};
    for (size_t i = 0; i < 2; i++) {
        iotca_buf pem = fixture(unsupported[i]), der = {0};
        OK(iotca_pem_or_der(iotca_buf_slice(&pem), "PRIVATE KEY", &der));
        ck_assert_msg(iotca_key_from_pkcs8(iotca_buf_slice(&der), &k) == IOTCA_E_POLICY, "%s accepted",
                      unsupported[i]);
        /* truncated at every length: never accepted, never crashes */
        for (size_t n = 0; n < der.len; n += 7)
            ck_assert_int_ne(iotca_key_from_pkcs8(iotca_slice_of(der.data, n), &k), IOTCA_OK);
        iotca_buf_free(&pem);
        iotca_buf_free(&der);
    }
    uint8_t garbage[64];
    for (int i = 0; i < 64; i++) garbage[i] = (uint8_t)(i * 37 + 11);
    ck_assert_int_eq(iotca_key_from_pkcs8(iotca_slice_of(garbage, sizeof garbage), &k), IOTCA_E_PARSE);
    /* an OpenSSL-made P-256 and Ed25519 key load fine */
    iotca_key_free(fixture_key("p256.key.pem"));
    iotca_key_free(fixture_key("ed25519.key.pem"));
}
END_TEST

/* ---- encrypted key files ---- */

START_TEST(keyfile_roundtrip_and_wrong_passphrase) {
    iotca_key *k, *back = NULL;
    iotca_buf pem = {0}, spki = {0};
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P384, &k));
    OK(iotca_key_spki(k, &spki));
    OK(iotca_key_encrypt_pem(k, iotca_slice_of("a good passphrase", 17), 1000, &pem));
    ck_assert_ptr_nonnull(strstr((char *)pem.data, "BEGIN ENCRYPTED PRIVATE KEY"));
    OK(iotca_key_decrypt_pem(iotca_buf_slice(&pem), iotca_slice_of("a good passphrase", 17), &back));
    ck_assert(iotca_key_matches_spki(back, iotca_buf_slice(&spki)));
    iotca_key_free(back);
    ck_assert_int_eq(iotca_key_decrypt_pem(iotca_buf_slice(&pem), iotca_slice_of("a good passphrasE", 17), &back),
                     IOTCA_E_CRYPTO);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "wrong passphrase"));
    ck_assert_int_eq(iotca_key_encrypt_pem(k, iotca_slice_of("", 0), 1000, &pem), IOTCA_E_USAGE);
    iotca_key_free(k);
    iotca_buf_free(&pem);
    iotca_buf_free(&spki);
}
END_TEST

START_TEST(keyfile_opens_openssl_files) {
    const char *files[] = {"p256-enc-aes256.key.pem", "p256-enc-aes128-sha1.key.pem"};
    iotca_key *plain = fixture_key("p256.key.pem");
    iotca_buf spki = {0};
    OK(iotca_key_spki(plain, &spki));
    for (size_t i = 0; i < 2; i++) {
        iotca_buf pem = fixture(files[i]);
        iotca_key *k = NULL;
        OK(iotca_key_decrypt_pem(iotca_buf_slice(&pem), iotca_slice_of("fixture-passphrase", 18), &k));
        ck_assert(iotca_key_matches_spki(k, iotca_buf_slice(&spki)));
        iotca_key_free(k);
        iotca_buf_free(&pem);
    }
    /* legacy PKCS#12 PBE (3DES) is refused by policy, not silently accepted */
    iotca_buf legacy = fixture("p256-enc-legacy.key.pem");
    iotca_key *k = NULL;
    ck_assert_int_eq(iotca_key_decrypt_pem(iotca_buf_slice(&legacy), iotca_slice_of("fixture-passphrase", 18), &k),
                     IOTCA_E_POLICY);
    iotca_buf_free(&legacy);
    iotca_buf_free(&spki);
    iotca_key_free(plain);
}
END_TEST

START_TEST(keyfile_tampered_and_hostile) {
    iotca_key *k, *back = NULL;
    iotca_buf pem = {0}, der = {0};
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_key_encrypt_pem(k, iotca_slice_of("passphrase!!", 12), 1000, &pem));
    OK(iotca_pem_or_der(iotca_buf_slice(&pem), "ENCRYPTED PRIVATE KEY", &der));
    /* flip a ciphertext byte: refused (as a wrong passphrase or a bad key), never a key */
    der.data[der.len - 5] ^= 0x40;
    ck_assert_int_ne(iotca_key_decrypt_pem(iotca_buf_slice(&der), iotca_slice_of("passphrase!!", 12), &back),
                     IOTCA_OK);
    /* truncations */
    for (size_t n = 0; n < der.len; n += 5)
        ck_assert_int_ne(iotca_key_decrypt_pem(iotca_slice_of(der.data, n), iotca_slice_of("passphrase!!", 12), &back),
                         IOTCA_OK);
    /* an iteration count of 20 million is a denial-of-service attempt: refused before deriving */
    iotca_buf evil = {0};
    iotca_der w;
    static const uint8_t salt[16], iv[16], ct[32];
    iotca_der_init(&w, &evil);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(&w, IOTCA_OID_PBES2, sizeof IOTCA_OID_PBES2);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(&w, IOTCA_OID_PBKDF2, sizeof IOTCA_OID_PBKDF2);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, salt, sizeof salt);
    iotca_der_int(&w, 20000000);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(&w, IOTCA_OID_AES256_CBC, sizeof IOTCA_OID_AES256_CBC);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, iv, sizeof iv);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, ct, sizeof ct);
    iotca_der_end(&w);
    OK(iotca_der_finish(&w));
    ck_assert_int_eq(iotca_key_decrypt_pem(iotca_buf_slice(&evil), iotca_slice_of("x", 1), &back), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "iteration"));
    iotca_key_free(k);
    iotca_buf_free(&pem);
    iotca_buf_free(&der);
    iotca_buf_free(&evil);
}
END_TEST

/* ---- names and vocabularies ---- */

START_TEST(names_build_and_format) {
    iotca_buf n = {0}, f = {0}, cn = {0};
    OK(iotca_name_build("DE", "ACME GmbH", NULL, "Ünïcode Root", &n));
    OK(iotca_name_format(iotca_buf_slice(&n), &f));
    ck_assert_str_eq((char *)f.data, "C=DE, O=ACME GmbH, CN=Ünïcode Root");
    OK(iotca_name_cn(iotca_buf_slice(&n), &cn));
    ck_assert_str_eq((char *)cn.data, "Ünïcode Root");
    iotca_buf_clear(&n);
    char long_cn[80];
    memset(long_cn, 'a', 79);
    long_cn[79] = 0;
    ck_assert_int_eq(iotca_name_build(NULL, NULL, NULL, long_cn, &n), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_name_build(NULL, NULL, NULL, "tab\there", &n), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_name_build("USA", NULL, NULL, "x", &n), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_name_build(NULL, "", NULL, NULL, &n), IOTCA_E_USAGE);
    /* malformed name bytes are a parse error, not a crash */
    static const uint8_t bad[] = {0x30, 0x03, 0x31, 0x01, 0x00};
    ck_assert_int_eq(iotca_name_format(iotca_slice_of(bad, sizeof bad), &f), IOTCA_E_PARSE);
    iotca_buf_free(&n);
    iotca_buf_free(&f);
    iotca_buf_free(&cn);
}
END_TEST

START_TEST(vocabularies) {
    unsigned eku;
    OK(iotca_eku_parse("server,client", &eku));
    ck_assert_uint_eq(eku, IOTCA_EKU_SERVER | IOTCA_EKU_CLIENT);
    ck_assert_int_eq(iotca_eku_parse("server,email", &eku), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_eku_parse(",", &eku), IOTCA_E_USAGE);
    iotca_ip ip;
    OK(iotca_ip_parse("10.0.0.0/8", &ip));
    ck_assert_uint_eq(ip.len, 4);
    ck_assert_uint_eq(ip.mask[0], 0xff);
    ck_assert_uint_eq(ip.mask[1], 0);
    OK(iotca_ip_parse("2001:db8::/32", &ip));
    ck_assert_uint_eq(ip.len, 16);
    OK(iotca_ip_parse("192.0.2.7", &ip));
    ck_assert_uint_eq(ip.mask[3], 0xff);
    const char *bad_ips[] = {"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "host.example", "10.0.0.0/8x", "::/129"};
    for (size_t i = 0; i < 6; i++) ck_assert_msg(iotca_ip_parse(bad_ips[i], &ip) == IOTCA_E_USAGE, "%s", bad_ips[i]);
    iotca_nc_mode m;
    OK(iotca_nc_mode_parse("noncritical", &m));
    ck_assert_int_eq(m, IOTCA_NC_NONCRITICAL);
    ck_assert_int_eq(iotca_nc_mode_parse("Critical", &m), IOTCA_E_USAGE);
    iotca_reason r;
    OK(iotca_reason_parse("key-compromise", &r));
    ck_assert_int_eq(r, IOTCA_REASON_KEY_COMPROMISE);
    OK(iotca_reason_parse("superseded", &r));
    ck_assert_str_eq(iotca_reason_name(r), "superseded");
    ck_assert_int_eq(iotca_reason_parse("removeFromCRL", &r), IOTCA_E_USAGE);
}
END_TEST

/* ---- certificates ---- */

START_TEST(cert_fields_roundtrip) {
    iotca_key *k;
    fixture_cert f;
    iotca_buf der = {0};
    iotca_cert *c = NULL;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    make_spec(&f, k);
    iotca_cert_spec *s = &f.spec;
    s->eku = IOTCA_EKU_SERVER;
    s->nc_mode = IOTCA_NC_NONCRITICAL;
    s->permit_dns[s->n_permit_dns++] = ".example.com";
    OK(iotca_ip_parse("10.0.0.0/8", &s->permit_ip[s->n_permit_ip++]));
    s->ocsp_url = "http://ocsp.example.com";
    s->ca_issuers_url = "http://ca.example.com/i.crt";
    s->crl_url = "http://ca.example.com/i.crl";
    OK(iotca_cert_sign(s, k, &der));
    OK(iotca_cert_parse(iotca_buf_slice(&der), &c));
    const iotca_cert_info *ci = iotca_cert_get(c);
    ck_assert(iotca_slice_eq(ci->serial, s->serial));
    ck_assert(iotca_slice_eq(ci->subject, s->subject)); /* byte for byte */
    ck_assert(iotca_slice_eq(ci->issuer, s->issuer));
    ck_assert(iotca_slice_eq(ci->spki, s->spki));
    ck_assert(iotca_slice_eq(ci->skid, s->issuer_skid));
    ck_assert(iotca_slice_eq(ci->akid, s->issuer_skid));
    ck_assert_int_eq(ci->not_before, s->not_before);
    ck_assert_int_eq(ci->not_after, s->not_after);
    ck_assert(ci->is_ca);
    ck_assert_int_eq(ci->path_len, 0);
    ck_assert_uint_eq(ci->key_usage, IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN);
    ck_assert_uint_eq(ci->eku, IOTCA_EKU_SERVER);
    ck_assert(ci->has_name_constraints);
    ck_assert(!ci->name_constraints_critical);
    ck_assert(ci->has_aia && ci->has_crl_dp);
    ck_assert_uint_eq(ci->n_unknown_critical, 0);
    ck_assert(iotca_cert_is_self_signed(c));
    iotca_cert_free(c);
    /* critical mode is recorded as such */
    s->nc_mode = IOTCA_NC_CRITICAL;
    iotca_buf_clear(&der);
    OK(iotca_cert_sign(s, k, &der));
    OK(iotca_cert_parse(iotca_buf_slice(&der), &c));
    ck_assert(iotca_cert_get(c)->name_constraints_critical);
    iotca_cert_free(c);
    free_spec(&f);
    iotca_key_free(k);
    iotca_buf_free(&der);
}
END_TEST

START_TEST(cert_spec_refusals) {
    iotca_key *k;
    fixture_cert f;
    iotca_buf der = {0};
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    make_spec(&f, k);
    iotca_cert_spec good = f.spec, s;
#define REFUSED(mutation)                                                                                          \
    do {                                                                                                           \
        s = good;                                                                                                  \
        mutation;                                                                                                  \
        ck_assert_msg(iotca_cert_sign(&s, k, &der) == IOTCA_E_USAGE, "accepted: %s", #mutation);                   \
        ck_assert_uint_eq(der.len, 0);                                                                             \
    } while (0)
    static const uint8_t negative[] = {0x80, 0x01}, too_long[21] = {1};
    REFUSED(s.not_after = s.not_before);
    REFUSED(s.serial = iotca_slice_of(NULL, 0));
    REFUSED(s.serial = iotca_slice_of(negative, 2));
    REFUSED(s.serial = iotca_slice_of(too_long, 21));
    REFUSED(s.subject = iotca_slice_of(NULL, 0));
    REFUSED(s.nc_mode = IOTCA_NC_CRITICAL);                  /* no permitted subtrees */
    REFUSED((s.permit_dns[0] = "example.com", s.n_permit_dns = 1)); /* subtrees but mode none */
    REFUSED((s.dns[0] = "bad name.example", s.n_dns = 1));
    REFUSED((s.dns[0] = "ünicode.example", s.n_dns = 1));
    REFUSED((s.dns[0] = "", s.n_dns = 1));
    REFUSED(s.n_dns = IOTCA_SPEC_MAX_NAMES + 1);
    REFUSED(s.ocsp_url = "http://x/ y");
    REFUSED(s.not_after = (time_t)253402300800LL); /* year 10000 */
#undef REFUSED
    free_spec(&f);
    iotca_key_free(k);
}
END_TEST

START_TEST(cert_time_encoding_by_date) {
    /* a root valid past 2050 carries GeneralizedTime for notAfter, UTCTime for notBefore */
    iotca_key *k;
    fixture_cert f;
    iotca_buf der = {0};
    iotca_cert *c;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    make_spec(&f, k);
    f.spec.not_after = 2524608000 + 86400; /* 2050-01-02 */
    OK(iotca_cert_sign(&f.spec, k, &der));
    OK(iotca_cert_parse(iotca_buf_slice(&der), &c));
    ck_assert_int_eq(iotca_cert_get(c)->not_after, f.spec.not_after);
    static const uint8_t gen[] = {0x18, 0x0f, '2', '0', '5', '0', '0', '1', '0', '2'};
    static const uint8_t utc[] = {0x17, 0x0d, '2', '3', '1', '1'};
    bool saw_gen = false, saw_utc = false;
    for (size_t i = 0; i + sizeof gen <= der.len; i++) saw_gen |= memcmp(der.data + i, gen, sizeof gen) == 0;
    for (size_t i = 0; i + sizeof utc <= der.len; i++) saw_utc |= memcmp(der.data + i, utc, sizeof utc) == 0;
    ck_assert(saw_gen && saw_utc);
    iotca_cert_free(c);
    free_spec(&f);
    iotca_key_free(k);
    iotca_buf_free(&der);
}
END_TEST

START_TEST(cert_known_answer_ed25519) {
    /* Ed25519 signatures are deterministic, so a fixed key and spec give fixed
     * bytes: tests/data/kat-ed25519-ca.der (checked with openssl when made). */
    iotca_key *k = fixture_key("ed25519.key.pem");
    fixture_cert f;
    make_spec(&f, k);
    static const uint8_t serial[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    f.spec.serial = iotca_slice_of(serial, sizeof serial);
    f.spec.eku = IOTCA_EKU_SERVER | IOTCA_EKU_CLIENT;
    f.spec.nc_mode = IOTCA_NC_CRITICAL;
    f.spec.permit_dns[f.spec.n_permit_dns++] = "example.com";
    OK(iotca_ip_parse("192.0.2.0/24", &f.spec.permit_ip[f.spec.n_permit_ip++]));
    f.spec.ocsp_url = "http://ocsp.example.com";
    f.spec.ca_issuers_url = "http://ca.example.com/ca.crt";
    f.spec.crl_url = "http://ca.example.com/ca.crl";
    iotca_buf der = {0};
    OK(iotca_cert_sign(&f.spec, k, &der));
    if (getenv("IOTCA_WRITE_KAT")) iotca_file_create(getenv("IOTCA_WRITE_KAT"), der.data, der.len, 0644);
    iotca_buf want = fixture("kat-ed25519-ca.der");
    ck_assert_uint_eq(der.len, want.len);
    ck_assert_mem_eq(der.data, want.data, want.len);
    free_spec(&f);
    iotca_key_free(k);
    iotca_buf_free(&der);
    iotca_buf_free(&want);
}
END_TEST

START_TEST(cert_parse_rejects_malformed) {
    iotca_key *k;
    fixture_cert f;
    iotca_buf der = {0};
    iotca_cert *c = NULL;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    make_spec(&f, k);
    OK(iotca_cert_sign(&f.spec, k, &der));
    for (size_t n = 0; n < der.len; n++) /* every truncation */
        ck_assert_msg(iotca_cert_parse(iotca_slice_of(der.data, n), &c) != IOTCA_OK, "truncated at %zu accepted", n);
    iotca_buf longer = {0};
    OK(iotca_buf_append(&longer, der.data, der.len));
    OK(iotca_buf_append_byte(&longer, 0));
    ck_assert_int_eq(iotca_cert_parse(iotca_buf_slice(&longer), &c), IOTCA_E_PARSE); /* trailing byte */
    uint8_t *big = calloc(1, 1 << 20); /* oversized garbage */
    big[0] = 0x30;
    ck_assert_int_eq(iotca_cert_parse(iotca_slice_of(big, 1 << 20), &c), IOTCA_E_PARSE);
    free(big);
    /* a flipped signature byte still parses but no longer verifies */
    der.data[der.len - 3] ^= 0x01;
    iotca_cert *tampered;
    OK(iotca_cert_parse(iotca_buf_slice(&der), &tampered));
    ck_assert(!iotca_cert_is_self_signed(tampered));
    iotca_slice anchor = iotca_cert_get(tampered)->der;
    ck_assert_int_eq(iotca_chain_verify_wolfssl(&anchor, 1, NULL, 0, anchor), IOTCA_E_CRYPTO);
    iotca_cert_free(tampered);
    free_spec(&f);
    iotca_key_free(k);
    iotca_buf_free(&der);
    iotca_buf_free(&longer);
}
END_TEST

START_TEST(cert_chain_and_wrong_issuer) {
    iotca_key *root_key, *int_key, *other;
    fixture_cert rf, inf;
    iotca_buf root_der = {0}, int_der = {0};
    iotca_cert *root, *inter;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P384, &root_key));
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &int_key));
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &other));
    make_spec(&rf, root_key);
    rf.spec.path_len = -1;
    rf.spec.not_before = time(NULL) - 60;
    rf.spec.not_after = time(NULL) + 86400;
    OK(iotca_cert_sign(&rf.spec, root_key, &root_der));
    make_spec(&inf, int_key);
    iotca_buf_clear(&inf.name);
    OK(iotca_name_build(NULL, "ACME", NULL, "Issuing CA", &inf.name));
    inf.spec.subject = iotca_buf_slice(&inf.name);
    inf.spec.issuer = iotca_buf_slice(&rf.name);
    inf.spec.issuer_skid = iotca_slice_of(rf.skid, 20);
    inf.spec.not_before = rf.spec.not_before;
    inf.spec.not_after = rf.spec.not_after;
    OK(iotca_cert_sign(&inf.spec, root_key, &int_der));
    OK(iotca_cert_parse(iotca_buf_slice(&root_der), &root));
    OK(iotca_cert_parse(iotca_buf_slice(&int_der), &inter));
    OK(iotca_cert_verify_signed_by(inter, root));
    ck_assert_int_eq(iotca_cert_verify_signed_by(root, inter), IOTCA_E_CRYPTO);
    iotca_slice anchor = iotca_buf_slice(&root_der), leafish = iotca_buf_slice(&int_der);
    OK(iotca_chain_verify_wolfssl(&anchor, 1, NULL, 0, leafish));
    /* signed by a key that is not the root's: wolfSSL refuses the chain too */
    iotca_buf forged = {0};
    OK(iotca_cert_sign(&inf.spec, other, &forged));
    ck_assert_int_eq(iotca_chain_verify_wolfssl(&anchor, 1, NULL, 0, iotca_buf_slice(&forged)), IOTCA_E_CRYPTO);
    iotca_cert *forged_c;
    OK(iotca_cert_parse(iotca_buf_slice(&forged), &forged_c));
    ck_assert_int_eq(iotca_cert_verify_signed_by(forged_c, root), IOTCA_E_CRYPTO);
    iotca_cert_free(forged_c);
    /* name constraints on the intermediate: wolfSSL enforces them on leaves */
    iotca_buf nc_int = {0}, leaf_ok = {0}, leaf_bad = {0};
    inf.spec.nc_mode = IOTCA_NC_NONCRITICAL;
    inf.spec.permit_dns[inf.spec.n_permit_dns++] = "example.com";
    OK(iotca_cert_sign(&inf.spec, root_key, &nc_int));
    fixture_cert lf;
    make_spec(&lf, other);
    iotca_buf_clear(&lf.name);
    OK(iotca_name_build(NULL, NULL, NULL, "device-1", &lf.name));
    lf.spec.subject = iotca_buf_slice(&lf.name);
    lf.spec.issuer = iotca_buf_slice(&inf.name);
    lf.spec.issuer_skid = iotca_slice_of(inf.skid, 20);
    lf.spec.is_ca = false;
    lf.spec.path_len = -1;
    lf.spec.key_usage = IOTCA_KU_DIGITAL_SIGNATURE;
    lf.spec.not_before = rf.spec.not_before;
    lf.spec.not_after = rf.spec.not_after;
    lf.spec.dns[lf.spec.n_dns++] = "device-1.example.com";
    OK(iotca_cert_sign(&lf.spec, int_key, &leaf_ok));
    lf.spec.dns[0] = "device-1.evil.org";
    OK(iotca_cert_sign(&lf.spec, int_key, &leaf_bad));
    iotca_slice inter_s = iotca_buf_slice(&nc_int);
    OK(iotca_chain_verify_wolfssl(&anchor, 1, &inter_s, 1, iotca_buf_slice(&leaf_ok)));
    ck_assert_int_eq(iotca_chain_verify_wolfssl(&anchor, 1, &inter_s, 1, iotca_buf_slice(&leaf_bad)), IOTCA_E_CRYPTO);
    /* an untrusted intermediate that names the root as issuer but was signed by another key must not become
     * an anchor of its own: wolfSSL loads a CA certificate whose signer it does not know without complaint */
    iotca_buf orphan = {0};
    OK(iotca_cert_sign(&inf.spec, other, &orphan));
    iotca_slice orphan_s = iotca_buf_slice(&orphan);
    ck_assert_int_eq(iotca_chain_verify_wolfssl(&anchor, 1, &orphan_s, 1, iotca_buf_slice(&leaf_ok)), IOTCA_E_CRYPTO);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "intermediate 0"));
    /* nor one below it in a longer chain: [leaf's issuer, orphan] */
    iotca_slice two[2] = {inter_s, orphan_s};
    ck_assert_int_eq(iotca_chain_verify_wolfssl(&anchor, 1, two, 2, iotca_buf_slice(&leaf_ok)), IOTCA_E_CRYPTO);
    iotca_buf_free(&orphan);
    free_spec(&lf);
    iotca_buf_free(&nc_int);
    iotca_buf_free(&leaf_ok);
    iotca_buf_free(&leaf_bad);
    iotca_cert_free(root);
    iotca_cert_free(inter);
    free_spec(&rf);
    free_spec(&inf);
    iotca_key_free(root_key);
    iotca_key_free(int_key);
    iotca_key_free(other);
    iotca_buf_free(&root_der);
    iotca_buf_free(&int_der);
    iotca_buf_free(&forged);
}
END_TEST

START_TEST(cert_parses_openssl_root) {
    iotca_buf pem = fixture("openssl-root.pem");
    iotca_cert *c;
    OK(iotca_cert_parse(iotca_buf_slice(&pem), &c));
    const iotca_cert_info *ci = iotca_cert_get(c);
    ck_assert(ci->is_ca && ci->has_key_usage && ci->skid.len == 20);
    ck_assert_int_eq(ci->key_type, IOTCA_KEY_ECDSA_P256);
    ck_assert(iotca_cert_is_self_signed(c));
    iotca_buf cn = {0};
    OK(iotca_name_cn(ci->subject, &cn));
    ck_assert_str_eq((char *)cn.data, "OpenSSL Test Root");
    iotca_buf_free(&cn);
    iotca_cert_free(c);
    iotca_buf_free(&pem);
}
END_TEST

/* ---- CSRs ---- */

START_TEST(csr_parse_openssl_and_build) {
    iotca_buf pem = fixture("csr-p256.pem");
    iotca_csr *c;
    OK(iotca_csr_parse(iotca_buf_slice(&pem), &c));
    const iotca_csr_info *ci = iotca_csr_get(c);
    ck_assert_int_eq(ci->key_type, IOTCA_KEY_ECDSA_P256);
    ck_assert_uint_gt(ci->extensions.len, 0); /* the SAN request */
    iotca_buf f = {0};
    OK(iotca_name_format(ci->subject, &f));
    ck_assert_str_eq((char *)f.data, "C=US, O=ACME, CN=device-0001");
    iotca_csr_free(c);
    /* our own builder, every key type */
    for (size_t i = 0; i < sizeof all_types / sizeof all_types[0]; i++) {
        if (all_types[i] == IOTCA_KEY_RSA_3072) continue; /* slow to generate; covered above */
        iotca_key *k;
        iotca_buf name = {0}, csr = {0};
        OK(iotca_key_generate(all_types[i], &k));
        OK(iotca_name_build(NULL, NULL, NULL, "built", &name));
        OK(iotca_csr_build(k, iotca_buf_slice(&name), &csr));
        OK(iotca_csr_parse(iotca_buf_slice(&csr), &c));
        ck_assert(iotca_slice_eq(iotca_csr_get(c)->subject, iotca_buf_slice(&name)));
        iotca_csr_free(c);
        iotca_key_free(k);
        iotca_buf_free(&name);
        iotca_buf_free(&csr);
    }
    iotca_buf_free(&pem);
    iotca_buf_free(&f);
}
END_TEST

START_TEST(csr_refusals) {
    iotca_csr *c = NULL;
    iotca_buf bad = fixture("csr-badsig.der");
    ck_assert_int_eq(iotca_csr_parse(iotca_buf_slice(&bad), &c), IOTCA_E_CRYPTO);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "signature"));
    const char *weak[] = {"csr-rsa2048.pem", "csr-p521.pem"};
    for (size_t i = 0; i < 2; i++) {
        iotca_buf w = fixture(weak[i]);
        ck_assert_msg(iotca_csr_parse(iotca_buf_slice(&w), &c) == IOTCA_E_POLICY, "%s accepted", weak[i]);
        iotca_buf_free(&w);
    }
    iotca_buf good = fixture("csr-p256.pem"), der = {0};
    OK(iotca_pem_or_der(iotca_buf_slice(&good), "CERTIFICATE REQUEST", &der));
    for (size_t n = 0; n < der.len; n++)
        ck_assert_msg(iotca_csr_parse(iotca_slice_of(der.data, n), &c) != IOTCA_OK, "truncated at %zu accepted", n);
    const char *garbage = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    ck_assert_int_eq(iotca_csr_parse(iotca_slice_of(garbage, strlen(garbage)), &c), IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_csr_parse(iotca_slice_of("hello", 5), &c), IOTCA_E_PARSE);
    /* a certificate is not a CSR */
    iotca_buf cert = fixture("openssl-root.pem");
    ck_assert_int_eq(iotca_csr_parse(iotca_buf_slice(&cert), &c), IOTCA_E_PARSE);
    iotca_buf_free(&bad);
    iotca_buf_free(&good);
    iotca_buf_free(&der);
    iotca_buf_free(&cert);
}
END_TEST

/* ---- CRLs ---- */

START_TEST(crl_structure) {
    iotca_key *k;
    fixture_cert f;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    make_spec(&f, k);
    static const uint8_t s1[] = {0x11, 0x22}, s2[] = {0x7f, 0x01, 0x02};
    iotca_crl_entry e[2] = {{iotca_slice_of(s1, 2), 1700000100, IOTCA_REASON_KEY_COMPROMISE},
                            {iotca_slice_of(s2, 3), 1700000200, IOTCA_REASON_UNSPECIFIED}};
    iotca_crl_spec cs = {iotca_buf_slice(&f.name), iotca_slice_of(f.skid, 20), 1700000000, 1700086400, 42, e, 2};
    iotca_buf crl = {0}, spki = {0};
    OK(iotca_crl_sign(&cs, k, &crl));
    /* walk it: CertificateList { tbs { version 1, alg, issuer, this, next, revoked, [0] exts }, alg, sig } */
    iotca_tlv list, tbs, alg, sig, ver, talg, iss, tu, nu, revoked, exts, entry;
    OK(iotca_der_single(iotca_buf_slice(&crl), IOTCA_DER_SEQUENCE, &list));
    iotca_slice l = list.val;
    OK(iotca_der_expect(&l, IOTCA_DER_SEQUENCE, &tbs));
    OK(iotca_der_expect(&l, IOTCA_DER_SEQUENCE, &alg));
    OK(iotca_der_expect(&l, IOTCA_DER_BIT_STRING, &sig));
    OK(iotca_key_spki(k, &spki));
    OK(iotca_verify(iotca_buf_slice(&spki), alg.tlv, tbs.tlv, iotca_slice_of(sig.val.p + 1, sig.val.len - 1)));
    iotca_slice t = tbs.val;
    uint64_t v;
    OK(iotca_der_expect(&t, IOTCA_DER_INTEGER, &ver));
    OK(iotca_der_read_uint(&ver, &v));
    ck_assert_uint_eq(v, 1);
    OK(iotca_der_expect(&t, IOTCA_DER_SEQUENCE, &talg));
    OK(iotca_der_expect(&t, IOTCA_DER_SEQUENCE, &iss));
    ck_assert(iotca_slice_eq(iss.tlv, iotca_buf_slice(&f.name)));
    OK(iotca_der_expect(&t, IOTCA_DER_UTCTIME, &tu));
    OK(iotca_der_expect(&t, IOTCA_DER_UTCTIME, &nu));
    OK(iotca_der_expect(&t, IOTCA_DER_SEQUENCE, &revoked));
    OK(iotca_der_expect(&t, IOTCA_DER_CTX_CONS(0), &exts));
    ck_assert_uint_eq(t.len, 0);
    iotca_slice r = revoked.val;
    OK(iotca_der_expect(&r, IOTCA_DER_SEQUENCE, &entry));
    ck_assert_uint_gt(entry.val.len, 20); /* serial, date and a reasonCode extension */
    OK(iotca_der_expect(&r, IOTCA_DER_SEQUENCE, &entry));
    iotca_slice e2 = entry.val;
    iotca_tlv ser, date;
    OK(iotca_der_expect(&e2, IOTCA_DER_INTEGER, &ser));
    OK(iotca_der_next(&e2, &date));
    ck_assert_uint_eq(e2.len, 0); /* unspecified: no reasonCode (RFC 5280 §5.3.1) */
    /* crlNumber 42 is in the extensions */
    static const uint8_t num[] = {0x06, 0x03, 0x55, 0x1d, 0x14, 0x04, 0x03, 0x02, 0x01, 42};
    bool found = false;
    for (size_t i = 0; i + sizeof num <= exts.val.len; i++) found |= memcmp(exts.val.p + i, num, sizeof num) == 0;
    ck_assert(found);
    /* empty CRL: revokedCertificates absent */
    cs.n_entries = 0;
    iotca_buf_clear(&crl);
    OK(iotca_crl_sign(&cs, k, &crl));
    OK(iotca_der_single(iotca_buf_slice(&crl), IOTCA_DER_SEQUENCE, &list));
    l = list.val;
    OK(iotca_der_expect(&l, IOTCA_DER_SEQUENCE, &tbs));
    t = tbs.val;
    for (int i = 0; i < 5; i++) OK(iotca_der_next(&t, &ver));
    OK(iotca_der_expect(&t, IOTCA_DER_CTX_CONS(0), &exts));
    /* refusals */
    cs.next_update = cs.this_update;
    ck_assert_int_eq(iotca_crl_sign(&cs, k, &crl), IOTCA_E_USAGE);
    free_spec(&f);
    iotca_key_free(k);
    iotca_buf_free(&crl);
    iotca_buf_free(&spki);
}
END_TEST

/* ---- OCSP ---- */

/* An OCSPRequest with n Request entries for the given hash OID and 20/32-byte hashes. */
static void ocsp_request(iotca_buf *out, int n, const uint8_t *hash_oid, size_t oid_len, size_t hlen) {
    static const uint8_t zeros[32], serial[] = {0x12, 0x34};
    iotca_der w;
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    for (int i = 0; i < n; i++) {
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
        iotca_der_oid(&w, hash_oid, oid_len);
        iotca_der_null(&w);
        iotca_der_end(&w);
        iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, zeros, hlen);
        iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, zeros, hlen);
        iotca_der_uint(&w, serial, sizeof serial);
        iotca_der_end(&w);
        iotca_der_end(&w);
    }
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    OK(iotca_der_finish(&w));
}

START_TEST(ocsp_request_parsing) {
    static const uint8_t sha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a}, md5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05};
    iotca_buf one = {0}, two = {0}, bad = {0}, shortlen = {0};
    iotca_ocsp_certid id;
    ocsp_request(&one, 1, sha1, sizeof sha1, 20);
    OK(iotca_ocsp_request_parse(iotca_buf_slice(&one), &id));
    ck_assert_int_eq(id.hash, IOTCA_OCSP_SHA1);
    ck_assert_uint_eq(id.serial_len, 2);
    ck_assert_uint_eq(id.serial[0], 0x12);
    ocsp_request(&two, 2, sha1, sizeof sha1, 20);
    ck_assert_int_eq(iotca_ocsp_request_parse(iotca_buf_slice(&two), &id), IOTCA_E_PARSE);
    ocsp_request(&bad, 1, md5, sizeof md5, 16);
    ck_assert_int_eq(iotca_ocsp_request_parse(iotca_buf_slice(&bad), &id), IOTCA_E_POLICY);
    ocsp_request(&shortlen, 1, sha1, sizeof sha1, 19); /* hash length does not match SHA-1 */
    ck_assert_int_eq(iotca_ocsp_request_parse(iotca_buf_slice(&shortlen), &id), IOTCA_E_PARSE);
    for (size_t n = 0; n < one.len; n++)
        ck_assert_msg(iotca_ocsp_request_parse(iotca_slice_of(one.data, n), &id) != IOTCA_OK, "truncated at %zu", n);
    uint8_t *big = calloc(1, IOTCA_OCSP_MAX_REQUEST + 1);
    ck_assert_int_eq(iotca_ocsp_request_parse(iotca_slice_of(big, IOTCA_OCSP_MAX_REQUEST + 1), &id), IOTCA_E_PARSE);
    free(big);
    iotca_buf e = {0};
    OK(iotca_ocsp_response_error(IOTCA_OCSP_UNAUTHORIZED, &e));
    static const uint8_t want[] = {0x30, 0x03, 0x0a, 0x01, 0x06};
    ck_assert_uint_eq(e.len, sizeof want);
    ck_assert_mem_eq(e.data, want, sizeof want);
    iotca_buf_free(&one);
    iotca_buf_free(&two);
    iotca_buf_free(&bad);
    iotca_buf_free(&shortlen);
    iotca_buf_free(&e);
}
END_TEST

START_TEST(ocsp_response_signed_and_structured) {
    iotca_key *k;
    fixture_cert f;
    iotca_buf der = {0}, resp = {0};
    iotca_cert *signer;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    make_spec(&f, k);
    f.spec.is_ca = false;
    f.spec.path_len = -1;
    f.spec.key_usage = IOTCA_KU_DIGITAL_SIGNATURE;
    f.spec.eku = IOTCA_EKU_OCSP_SIGNING;
    f.spec.ocsp_nocheck = true;
    OK(iotca_cert_sign(&f.spec, k, &der));
    OK(iotca_cert_parse(iotca_buf_slice(&der), &signer));
    ck_assert_uint_eq(iotca_cert_get(signer)->eku, IOTCA_EKU_OCSP_SIGNING);
    iotca_ocsp_certid id = {.hash = IOTCA_OCSP_SHA1, .hash_len = 20, .serial = {0x42}, .serial_len = 1};
    iotca_ocsp_answer a = {&id, IOTCA_CERT_REVOKED, 1700000000, IOTCA_REASON_KEY_COMPROMISE, 1700000100, 1700345700};
    OK(iotca_ocsp_response_sign(&a, signer, k, 1700000100, &resp));
    /* OCSPResponse { ENUMERATED 0, [0] { SEQ { OID basic, OCTET BasicOCSPResponse } } } */
    iotca_tlv top, st, rb, seq, oid, os, basic, tbs, alg, sig;
    OK(iotca_der_single(iotca_buf_slice(&resp), IOTCA_DER_SEQUENCE, &top));
    iotca_slice t = top.val;
    OK(iotca_der_expect(&t, IOTCA_DER_ENUMERATED, &st));
    ck_assert_uint_eq(st.val.p[0], 0);
    OK(iotca_der_expect(&t, IOTCA_DER_CTX_CONS(0), &rb));
    OK(iotca_der_single(rb.val, IOTCA_DER_SEQUENCE, &seq));
    t = seq.val;
    OK(iotca_der_expect(&t, IOTCA_DER_OID, &oid));
    OK(iotca_der_expect(&t, IOTCA_DER_OCTET_STRING, &os));
    OK(iotca_der_single(os.val, IOTCA_DER_SEQUENCE, &basic));
    t = basic.val;
    OK(iotca_der_expect(&t, IOTCA_DER_SEQUENCE, &tbs));
    OK(iotca_der_expect(&t, IOTCA_DER_SEQUENCE, &alg));
    OK(iotca_der_expect(&t, IOTCA_DER_BIT_STRING, &sig));
    OK(iotca_verify(iotca_cert_get(signer)->spki, alg.tlv, tbs.tlv, iotca_slice_of(sig.val.p + 1, sig.val.len - 1)));
    /* the revoked status with its reason: A1 { GeneralizedTime, A0 { ENUMERATED 1 } } */
    static const uint8_t reason[] = {0xa0, 0x03, 0x0a, 0x01, 0x01};
    bool found = false;
    for (size_t i = 0; i + sizeof reason <= tbs.tlv.len; i++) found |= memcmp(tbs.tlv.p + i, reason, sizeof reason) == 0;
    ck_assert(found);
    /* a signer key that does not match the certificate is refused */
    iotca_key *other;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &other));
    iotca_buf_clear(&resp);
    ck_assert_int_eq(iotca_ocsp_response_sign(&a, signer, other, 1700000100, &resp), IOTCA_E_USAGE);
    a.next_update = a.this_update;
    ck_assert_int_eq(iotca_ocsp_response_sign(&a, signer, k, 1700000100, &resp), IOTCA_E_USAGE);
    iotca_key_free(other);
    iotca_cert_free(signer);
    free_spec(&f);
    iotca_key_free(k);
    iotca_buf_free(&der);
    iotca_buf_free(&resp);
}
END_TEST

/* Ordered serials: 16 octets, positive with a non-zero first octet, later milliseconds sort later, 80 random bits
 * that differ between two draws of the same millisecond; a time outside 1970..4200 is refused. */
START_TEST(serial_ordered_shape_and_order) {
    uint8_t a[IOTCA_SERIAL_LEN], b[IOTCA_SERIAL_LEN], c[IOTCA_SERIAL_LEN];
    int64_t ms = INT64_C(1796601600123); /* 2026-12-07 */
    OK(iotca_serial_ordered(ms, a));
    OK(iotca_serial_ordered(ms, b));
    OK(iotca_serial_ordered(ms + 1, c));
    ck_assert_uint_eq(a[0] & 0xc0, 0x40); /* positive, first octet non-zero: exactly 16 octets in DER */
    uint64_t t = 0;
    for (int i = 0; i < 6; i++) t = t << 8 | a[i];
    ck_assert(t == ((uint64_t)ms | ((uint64_t)0x40 << 40)));
    ck_assert_int_eq(memcmp(a, b, 6), 0);
    ck_assert_int_ne(memcmp(a + 6, b + 6, 10), 0);
    ck_assert_int_lt(memcmp(a, c, sizeof a), 0);
    ck_assert_int_lt(memcmp(b, c, sizeof b), 0);
    /* the last representable millisecond still gives a positive 16-octet serial */
    OK(iotca_serial_ordered(((int64_t)1 << 46) - 1, c));
    ck_assert_uint_eq(c[0], 0x7f);
    ck_assert_int_eq(iotca_serial_ordered(-1, c), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_serial_ordered((int64_t)1 << 46, c), IOTCA_E_USAGE);
}
END_TEST

int main(void) {
    Suite *s = suite_create("issuer");
    TCase *tc = tcase_create("issuer");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, key_generate_sign_verify, 0, sizeof all_types / sizeof all_types[0]);
    tcase_add_test(tc, key_wrong_key_does_not_verify);
    tcase_add_test(tc, key_type_names);
    tcase_add_test(tc, serial_ordered_shape_and_order);
    tcase_add_test(tc, hmac_rfc4231);
    tcase_add_test(tc, pbkdf2_rfc7914);
    tcase_add_test(tc, verify_thread_releases_caches);
    tcase_add_test(tc, key_unsupported_and_malformed_pkcs8);
    tcase_add_test(tc, keyfile_roundtrip_and_wrong_passphrase);
    tcase_add_test(tc, keyfile_opens_openssl_files);
    tcase_add_test(tc, keyfile_tampered_and_hostile);
    tcase_add_test(tc, names_build_and_format);
    tcase_add_test(tc, vocabularies);
    tcase_add_test(tc, cert_fields_roundtrip);
    tcase_add_test(tc, cert_spec_refusals);
    tcase_add_test(tc, cert_time_encoding_by_date);
    tcase_add_test(tc, cert_known_answer_ed25519);
    tcase_add_test(tc, cert_parse_rejects_malformed);
    tcase_add_test(tc, cert_chain_and_wrong_issuer);
    tcase_add_test(tc, cert_parses_openssl_root);
    tcase_add_test(tc, csr_parse_openssl_and_build);
    tcase_add_test(tc, csr_refusals);
    tcase_add_test(tc, crl_structure);
    tcase_add_test(tc, ocsp_request_parsing);
    tcase_add_test(tc, ocsp_response_signed_and_structured);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    return status;
}
