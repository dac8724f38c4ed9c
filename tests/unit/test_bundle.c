/* Unit tests for lib/bundle: known answers for every encoding against OpenSSL- and GNU tar-made fixtures, and refusals. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_run.h"
#include "iotca/bundle.h"
#include "iotca/file.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define NB(name) "bundle/" name

/* openssl x509 -noout -startdate / -enddate of the fixtures, as Unix time and RFC 3339 */
#define P256_NOT_BEFORE 1795443466
#define ROOTS_NOT_AFTER "2051-11-23T14:17:46Z"
#define REISSUED_NOT_AFTER "2052-11-26T14:17:47Z"
/* openssl x509 -fingerprint -sha256 */
#define FP_P256 "2B:0D:A2:11:CB:B2:CB:42:C6:BA:68:3E:6B:BB:B9:82:5C:1A:81:83:1F:82:D4:30:CA:88:C7:8E:31:49:D8:BA"
#define FP_P384 "CB:51:B5:AC:92:7B:E8:40:DE:89:87:91:19:CC:1C:53:48:D2:A2:5F:84:B4:6F:60:67:D8:D4:4F:71:21:03:9B"
/* openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64 */
#define PIN_P256 "sha256/Sjl9oKCml1bPkwM8VpcgE5Z5JpTMkJfR38YOTE3r8HY="
#define PIN_P384 "sha256/39j6i7RfKsbVeEQ7WslVFnkLd7dNdfqZfUXHot0I0WQ="
#define PIN_RSA "sha256/7j7V5z0LXtkq69oDJoQD0hP5ush2gN1MxC6o1z1hMXc="

static iotca_buf fixture(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", IOTCA_TEST_DATA, name);
    iotca_buf b = {0};
    OK(iotca_file_read(path, 1 << 20, &b));
    return b;
}

/* The DER of a PEM or DER fixture. */
static iotca_buf fixture_der(const char *name) {
    iotca_buf raw = fixture(name), der = {0};
    OK(iotca_pem_or_der(iotca_buf_slice(&raw), "CERTIFICATE", &der));
    iotca_buf_free(&raw);
    return der;
}

/* A bundle of the named fixtures (at most 8). */
static iotca_bundle *bundle_of(const char *const *names, size_t n) {
    iotca_buf der[8];
    iotca_slice s[8];
    for (size_t i = 0; i < n; i++) {
        der[i] = fixture_der(names[i]);
        s[i] = iotca_buf_slice(&der[i]);
    }
    iotca_bundle *b = NULL;
    OK(iotca_bundle_new(s, n, &b));
    for (size_t i = 0; i < n; i++) iotca_buf_free(&der[i]);
    return b;
}

static iotca_rc try_bundle(const char *const *names, size_t n) {
    iotca_buf der[8];
    iotca_slice s[8];
    for (size_t i = 0; i < n; i++) {
        der[i] = fixture_der(names[i]);
        s[i] = iotca_buf_slice(&der[i]);
    }
    iotca_bundle *b = NULL;
    iotca_rc rc = iotca_bundle_new(s, n, &b);
    iotca_bundle_free(b);
    for (size_t i = 0; i < n; i++) iotca_buf_free(&der[i]);
    return rc;
}

static iotca_buf encode(const iotca_bundle *b, iotca_bundle_format f) {
    iotca_buf out = {0};
    OK(iotca_bundle_encode(b, f, 0, &out, NULL));
    return out;
}

/* Reads back the initialiser of `const unsigned char NAME[...] = { 0x.., ... };` from generated C. */
static iotca_buf c_array(const iotca_buf *text, const char *name) {
    iotca_buf src = {0}, out = {0};
    iotca_buf_append(&src, text->data, text->len);
    iotca_buf_cstr(&src);
    char key[64];
    snprintf(key, sizeof key, " %s[", name);
    const char *p = strstr((const char *)src.data, key);
    ck_assert_msg(p != NULL, "no array %s", name);
    p = strchr(p, '{');
    ck_assert_ptr_nonnull(p);
    const char *end = strstr(p, "};");
    ck_assert_ptr_nonnull(end);
    for (p++; p < end;) {
        const char *x = strstr(p, "0x");
        if (x == NULL || x >= end) break;
        unsigned v;
        ck_assert_int_eq(sscanf(x, "0x%2x", &v), 1);
        iotca_buf_append_byte(&out, (uint8_t)v);
        p = x + 4;
    }
    iotca_buf_free(&src);
    return out;
}

static bool contains(const iotca_buf *b, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, s, n) == 0) return true;
    return false;
}

static size_t count(const iotca_buf *b, const char *s) {
    size_t n = strlen(s), c = 0;
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, s, n) == 0) c++;
    return c;
}

static void assert_eq_buf(const iotca_buf *got, const iotca_buf *want, const char *what) {
    ck_assert_msg(got->len == want->len, "%s: %zu bytes, expected %zu", what, got->len, want->len);
    ck_assert_msg(memcmp(got->data, want->data, want->len) == 0, "%s: bytes differ", what);
}

/* A self-signed CA made here (for names and key types no fixture has). */
static iotca_buf make_root(iotca_key_type kt, const char *cn) {
    iotca_key *k = NULL;
    iotca_buf name = {0}, spki = {0}, der = {0};
    OK(iotca_key_generate(kt, &k));
    OK(iotca_name_build(NULL, NULL, NULL, cn, &name));
    OK(iotca_key_spki(k, &spki));
    uint8_t serial[IOTCA_SERIAL_LEN];
    OK(iotca_serial_random(serial));
    iotca_cert_spec s = {0};
    s.serial = iotca_slice_of(serial, sizeof serial);
    s.subject = s.issuer = iotca_buf_slice(&name);
    s.spki = iotca_buf_slice(&spki);
    s.not_before = 1800000000;
    s.not_after = 1800000000 + 86400L * 3650;
    s.is_ca = true;
    s.path_len = -1;
    s.key_usage = IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN;
    OK(iotca_cert_sign(&s, k, &der));
    iotca_key_free(k);
    iotca_buf_free(&name);
    iotca_buf_free(&spki);
    return der;
}

static const char *const THREE[] = {NB("root-p256.pem"), NB("root-p384.pem"), NB("root-rsa3072.pem")};

/* ---- names, refusals ---- */

START_TEST(format_names) {
    const char *names[] = {"pem", "pem0", "der", "c", "bearssl", "esp", "esp-legacy", "pins"};
    for (int i = 0; i < IOTCA_BUNDLE_FORMAT_COUNT; i++) {
        iotca_bundle_format f;
        OK(iotca_bundle_format_parse(names[i], &f));
        ck_assert_int_eq((int)f, i);
        ck_assert_str_eq(iotca_bundle_format_name(f), names[i]);
    }
    iotca_bundle_format f;
    ck_assert_int_eq(iotca_bundle_format_parse("zip", &f), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "esp-legacy"));
    ck_assert_int_eq(iotca_bundle_format_parse("PEM", &f), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_bundle_format_parse("", &f), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_bundle_format_parse(NULL, &f), IOTCA_E_USAGE);
    iotca_bundle *b = bundle_of(THREE, 1);
    iotca_buf out = {0};
    ck_assert_int_eq(iotca_bundle_encode(b, (iotca_bundle_format)IOTCA_BUNDLE_FORMAT_COUNT, 0, &out, NULL),
                     IOTCA_E_USAGE);
    ck_assert_uint_eq(out.len, 0);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(refuses_zero_and_too_many_roots) {
    iotca_bundle *b = NULL;
    ck_assert_int_eq(iotca_bundle_new(NULL, 0, &b), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "at least one root"));
    iotca_buf der = fixture_der(NB("root-p256.pem"));
    iotca_slice many[IOTCA_BUNDLE_MAX_ROOTS + 1];
    for (size_t i = 0; i <= IOTCA_BUNDLE_MAX_ROOTS; i++) many[i] = iotca_buf_slice(&der);
    ck_assert_int_eq(iotca_bundle_new(many, 0, &b), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_bundle_new(many, IOTCA_BUNDLE_MAX_ROOTS + 1, &b), IOTCA_E_USAGE);
    ck_assert_ptr_null(b);
    iotca_buf_free(&der);
}
END_TEST

START_TEST(refuses_intermediate_and_leaf) {
    const char *inter[] = {NB("root-p256.pem"), NB("intermediate.pem")};
    ck_assert_int_eq(try_bundle(inter, 2), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "certificate 2 (O=ACME, CN=ACME Issuing CA 1)"));
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "not a self-signed root"));
    const char *leaf[] = {NB("selfsigned-leaf.pem"), NB("root-p256.pem")};
    ck_assert_int_eq(try_bundle(leaf, 2), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "certificate 1 (CN=device-1.example.com) is not a CA"));
}
END_TEST

START_TEST(refuses_malformed) {
    iotca_buf good = fixture_der(NB("root-p256.pem"));
    iotca_buf bad = {0};
    iotca_buf_append(&bad, good.data, good.len);
    bad.data[bad.len - 5] ^= 0x5a; /* inside the signature: parses, does not verify */
    iotca_slice s[] = {iotca_buf_slice(&good), iotca_buf_slice(&bad)};
    iotca_bundle *b = NULL;
    ck_assert_int_eq(iotca_bundle_new(s, 2, &b), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "not a self-signed root"));
    s[1] = iotca_slice_of(good.data, good.len - 1); /* truncated */
    ck_assert_int_eq(iotca_bundle_new(s, 2, &b), IOTCA_E_PARSE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "root 2:"));
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    s[0] = iotca_slice_of(junk, sizeof junk);
    ck_assert_int_eq(iotca_bundle_new(s, 1, &b), IOTCA_E_PARSE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "root 1:"));
    ck_assert_ptr_null(b);
    iotca_buf_free(&good);
    iotca_buf_free(&bad);
}
END_TEST

START_TEST(deduplicates_the_same_certificate) {
    const char *names[] = {NB("root-p256.pem"), NB("root-p384.pem"), NB("root-p256.pem"), NB("root-p384.pem")};
    iotca_bundle *b = bundle_of(names, 4);
    ck_assert_uint_eq(iotca_bundle_root_count(b), 2);
    ck_assert_str_eq(iotca_bundle_root_get(b, 0)->cn, "ACME IoT Root R1");
    ck_assert_str_eq(iotca_bundle_root_get(b, 1)->cn, "ACME IoT Root R2 (backup)");
    ck_assert_ptr_null(iotca_bundle_root_get(b, 2));
    iotca_buf pem = encode(b, IOTCA_BUNDLE_PEM);
    ck_assert_uint_eq(count(&pem, "BEGIN CERTIFICATE"), 2);
    iotca_buf_free(&pem);
    iotca_bundle_free(b);
}
END_TEST

/* ---- pem, pem0, pins ---- */

START_TEST(pem_known_answer) {
    iotca_bundle *b = bundle_of(THREE, 2);
    iotca_buf got = encode(b, IOTCA_BUNDLE_PEM), want = {0};
    iotca_buf p1 = fixture(NB("root-p256.pem")), p2 = fixture(NB("root-p384.pem"));
    iotca_buf_printf(&want, "# Subject:   O=ACME, CN=ACME IoT Root R1\n# Not after: %s\n# SHA-256:   %s\n",
                     ROOTS_NOT_AFTER, FP_P256);
    iotca_buf_append(&want, p1.data, p1.len); /* OpenSSL's PEM: 64-column base64 */
    iotca_buf_printf(&want, "\n# Subject:   O=ACME, CN=ACME IoT Root R2 (backup)\n# Not after: %s\n# SHA-256:   %s\n",
                     ROOTS_NOT_AFTER, FP_P384);
    iotca_buf_append(&want, p2.data, p2.len);
    assert_eq_buf(&got, &want, "pem");
    /* and it reads back as the same certificates */
    iotca_slice text = iotca_buf_slice(&got);
    iotca_buf d1 = {0}, d2 = {0}, f1 = fixture_der(NB("root-p256.pem"));
    OK(iotca_pem_next(&text, "CERTIFICATE", &d1, NULL));
    OK(iotca_pem_next(&text, "CERTIFICATE", &d2, NULL));
    assert_eq_buf(&d1, &f1, "first certificate");
    ck_assert_int_eq(iotca_pem_next(&text, "CERTIFICATE", &d2, NULL), IOTCA_E_PARSE);
    iotca_buf bufs[] = {got, want, p1, p2, d1, d2, f1};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) iotca_buf_free(&bufs[i]);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(pem0_is_pem_with_one_counted_nul) {
    iotca_bundle *b = bundle_of(THREE, 3);
    iotca_buf pem = encode(b, IOTCA_BUNDLE_PEM), pem0 = encode(b, IOTCA_BUNDLE_PEM0);
    ck_assert_uint_eq(pem0.len, pem.len + 1);
    ck_assert_mem_eq(pem0.data, pem.data, pem.len);
    ck_assert_uint_eq(pem0.data[pem0.len - 1], 0);
    ck_assert_ptr_eq(memchr(pem0.data, 0, pem0.len), pem0.data + pem0.len - 1);
    ck_assert_uint_eq(pem0.data[pem0.len - 2], '\n');
    iotca_buf_free(&pem);
    iotca_buf_free(&pem0);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(pins_known_answer) {
    iotca_bundle *b = bundle_of(THREE, 3);
    iotca_buf got = encode(b, IOTCA_BUNDLE_PINS), want = {0};
    iotca_buf_printf(&want,
                     "%s %s O=ACME, CN=ACME IoT Root R1\n"
                     "%s %s O=ACME, CN=ACME IoT Root R2 (backup)\n"
                     "%s %s C=DE, O=ACME, CN=ACME IoT Root R3 RSA\n",
                     PIN_P256, ROOTS_NOT_AFTER, PIN_P384, ROOTS_NOT_AFTER, PIN_RSA, ROOTS_NOT_AFTER);
    assert_eq_buf(&got, &want, "pins");
    ck_assert_str_eq(iotca_bundle_root_get(b, 2)->pin, PIN_RSA);
    iotca_buf_free(&got);
    iotca_buf_free(&want);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(pins_one_line_per_key) {
    /* a root re-issued with the same key: one pin, valid until the later notAfter */
    const char *names[] = {NB("root-p256.pem"), NB("root-p384.pem"), NB("root-p256-reissued.pem")};
    iotca_bundle *b = bundle_of(names, 3);
    ck_assert_uint_eq(iotca_bundle_root_count(b), 3);
    iotca_buf got = encode(b, IOTCA_BUNDLE_PINS), want = {0};
    iotca_buf_printf(&want, "%s %s O=ACME, CN=ACME IoT Root R1\n%s %s O=ACME, CN=ACME IoT Root R2 (backup)\n",
                     PIN_P256, REISSUED_NOT_AFTER, PIN_P384, ROOTS_NOT_AFTER);
    assert_eq_buf(&got, &want, "pins");
    iotca_buf_free(&got);
    iotca_buf_free(&want);
    iotca_bundle_free(b);
}
END_TEST

/* ---- tar and der ---- */

START_TEST(tar_matches_gnu_tar) {
    iotca_buf got = {0}, want = fixture(NB("kat-ustar.tar"));
    OK(iotca_tar_add(&got, "a.txt", (const uint8_t *)"hi\n", 3, 1700000000));
    OK(iotca_tar_finish(&got));
    assert_eq_buf(&got, &want, "ustar");
    iotca_buf_free(&got);
    iotca_buf_free(&want);
}
END_TEST

START_TEST(tar_refuses_bad_members) {
    iotca_buf out = {0};
    char longname[101];
    memset(longname, 'a', 100);
    longname[100] = 0;
    const char *bad[] = {"", "a/b", "a b", "tab\there", longname, "nl\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(iotca_tar_add(&out, bad[i], (const uint8_t *)"x", 1, 0), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_tar_add(&out, NULL, (const uint8_t *)"x", 1, 0), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_tar_add(&out, "x", NULL, 1, 0), IOTCA_E_USAGE);
    longname[99] = 0;
    OK(iotca_tar_add(&out, longname, NULL, 0, -5)); /* 99 bytes, empty, a negative time becomes 0 */
    ck_assert_uint_eq(out.len, 512);
    ck_assert_mem_eq(out.data + 136, "00000000000", 12);
    iotca_buf_free(&out);
}
END_TEST

/* Checks one ustar header (independently of the writer): its checksum, name, size; returns the size. */
static size_t check_header(const uint8_t *h, const char *name) {
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    ck_assert_uint_eq(strtoul((const char *)h + 148, NULL, 8), sum);
    ck_assert_str_eq((const char *)h, name);
    ck_assert_mem_eq(h + 257, "ustar\0" "00", 8);
    ck_assert_uint_eq(h[156], '0');
    return strtoul((const char *)h + 124, NULL, 8);
}

START_TEST(der_is_a_tar_of_the_roots) {
    const char *names[] = {NB("root-p256.pem"), NB("root-p384.pem"), NB("root-rsa3072.pem")};
    const char *members[] = {"01-acme-iot-root-r1.der", "02-acme-iot-root-r2-backup.der", "03-acme-iot-root-r3-rsa.der"};
    const char *ders[] = {NB("root-p256.der"), NB("root-p384.der"), NB("root-rsa3072.der")};
    iotca_bundle *b = bundle_of(names, 3);
    iotca_buf tar = encode(b, IOTCA_BUNDLE_DER);
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        iotca_buf want = fixture(ders[i]);
        ck_assert_uint_le(off + 512, tar.len);
        size_t n = check_header(tar.data + off, members[i]);
        ck_assert_uint_eq(n, want.len);
        ck_assert_uint_eq(strtoul((const char *)tar.data + off + 136, NULL, 8), P256_NOT_BEFORE);
        ck_assert_mem_eq(tar.data + off + 512, want.data, want.len);
        off += 512 + (n + 511) / 512 * 512;
        iotca_buf_free(&want);
    }
    ck_assert_uint_eq(tar.len, off + 1024);
    for (size_t i = off; i < tar.len; i++) ck_assert_uint_eq(tar.data[i], 0);
    iotca_buf_free(&tar);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(der_member_names_are_sanitised) {
    iotca_buf r1 = make_root(IOTCA_KEY_ECDSA_P256, "--Acme/../ Root*R9 ÜBER--"), r2 = make_root(IOTCA_KEY_ECDSA_P256, "***");
    iotca_slice s[] = {iotca_buf_slice(&r1), iotca_buf_slice(&r2)};
    iotca_bundle *b = NULL;
    OK(iotca_bundle_new(s, 2, &b));
    iotca_buf tar = encode(b, IOTCA_BUNDLE_DER);
    size_t n = check_header(tar.data, "01-acme-root-r9-ber.der");
    check_header(tar.data + 512 + (n + 511) / 512 * 512, "02-root.der");
    iotca_buf_free(&tar);
    iotca_buf_free(&r1);
    iotca_buf_free(&r2);
    iotca_bundle_free(b);
}
END_TEST

/* ---- c and bearssl headers ---- */

START_TEST(c_header_known_answer) {
    iotca_bundle *b = bundle_of(THREE, 3);
    iotca_buf h = encode(b, IOTCA_BUNDLE_C);
    const char *ders[] = {NB("root-p256.der"), NB("root-p384.der"), NB("root-rsa3072.der")};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "iotca_root_%d", i + 1);
        iotca_buf got = c_array(&h, name), want = fixture(ders[i]);
        assert_eq_buf(&got, &want, name);
        iotca_buf_free(&got);
        iotca_buf_free(&want);
    }
    ck_assert(contains(&h, "#ifndef IOTCA_TRUST_ANCHORS_H\n#define IOTCA_TRUST_ANCHORS_H\n"));
    ck_assert(contains(&h, "#define IOTCA_TRUST_ANCHOR_COUNT 3\n"));
    ck_assert(contains(&h, "    {iotca_root_3, sizeof iotca_root_3},\n};"));
    ck_assert(contains(&h, "/* Root 1: O=ACME, CN=ACME IoT Root R1\n *   not after  " ROOTS_NOT_AFTER "\n *   SHA-256    " FP_P256
                           "\n *   SPKI pin   " PIN_P256 "\n */\n"));
    ck_assert(contains(&h, "static const unsigned char iotca_root_1[396] = {\n    0x30, 0x82, 0x01, 0x88,"));
    ck_assert_uint_eq(h.data[h.len - 1], '\n');
    iotca_buf_free(&h);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(c_comments_cannot_be_closed_by_a_name) {
    iotca_buf r = make_root(IOTCA_KEY_ECDSA_P256, "Evil */ #error x /* \\ Wurzel \xc3\x9c");
    iotca_slice s[] = {iotca_buf_slice(&r)};
    iotca_bundle *b = NULL;
    OK(iotca_bundle_new(s, 1, &b));
    iotca_buf c = encode(b, IOTCA_BUNDLE_C), br = encode(b, IOTCA_BUNDLE_BEARSSL);
    ck_assert(contains(&c, "CN=Evil * / #error x / * \\x5c Wurzel \\xc3\\x9c\n"));
    ck_assert(!contains(&c, "Evil */") && !contains(&c, "x /*"));
    ck_assert(contains(&br, "CN=Evil * / #error"));
    /* every "*" "/" left is a comment the encoder closed itself: the file header and one per root */
    ck_assert_uint_eq(count(&c, "*/"), 3);
    for (size_t i = 0; i < c.len; i++) ck_assert_msg(c.data[i] < 0x80, "non-ASCII byte in the C header");
    iotca_buf_free(&c);
    iotca_buf_free(&br);
    iotca_buf_free(&r);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(subjects_are_valid_utf8) {
    /* the one-line subject goes into JSON: bytes that are not UTF-8 become '?', UTF-8 stays */
    iotca_buf r1 = make_root(IOTCA_KEY_ECDSA_P256, "Caf\xe9 \xc3\x9c \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82\xac Root");
    iotca_slice s[] = {iotca_buf_slice(&r1)};
    iotca_bundle *b = NULL;
    OK(iotca_bundle_new(s, 1, &b));
    ck_assert_str_eq(iotca_bundle_root_get(b, 0)->subject, "CN=Caf? \xc3\x9c ??? ???? \xe2\x82\xac Root");
    iotca_buf_free(&r1);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(bearssl_known_answer) {
    iotca_bundle *b = bundle_of(THREE, 3);
    iotca_buf h = encode(b, IOTCA_BUNDLE_BEARSSL);
    const char *subjects[] = {NB("root-p256.subject.der"), NB("root-p384.subject.der"), NB("root-rsa3072.subject.der")};
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "TA%d_DN", i);
        iotca_buf got = c_array(&h, name), want = fixture(subjects[i]);
        assert_eq_buf(&got, &want, name);
        iotca_buf_free(&got);
        iotca_buf_free(&want);
    }
    /* EC: the uncompressed point is the SPKI's last 65 / 97 bytes */
    iotca_buf q0 = c_array(&h, "TA0_EC_Q"), s0 = fixture(NB("root-p256.spki.der"));
    ck_assert_uint_eq(q0.len, 65);
    ck_assert_mem_eq(q0.data, s0.data + s0.len - 65, 65);
    iotca_buf q1 = c_array(&h, "TA1_EC_Q"), s1 = fixture(NB("root-p384.spki.der"));
    ck_assert_uint_eq(q1.len, 97);
    ck_assert_mem_eq(q1.data, s1.data + s1.len - 97, 97);
    /* RSA: modulus as `openssl x509 -modulus` prints it, exponent 65537 */
    iotca_buf n2 = c_array(&h, "TA2_RSA_N"), e2 = c_array(&h, "TA2_RSA_E"), hex = {0}, mod = fixture(NB("root-rsa3072.modulus.txt"));
    ck_assert_uint_eq(n2.len, 384);
    OK(iotca_hex_encode(n2.data, n2.len, &hex));
    for (size_t i = 0; i < hex.len; i++) ck_assert_int_eq(hex.data[i], mod.data[i] >= 'A' ? mod.data[i] + 32 : mod.data[i]);
    ck_assert_uint_eq(e2.len, 3);
    ck_assert_mem_eq(e2.data, "\x01\x00\x01", 3);
    ck_assert(contains(&h, "\t\t\tBR_KEYTYPE_EC,\n\t\t\t{ .ec = {\n\t\t\t\tBR_EC_secp256r1,\n"
                           "\t\t\t\t(unsigned char *)TA0_EC_Q, sizeof TA0_EC_Q,\n\t\t\t} }\n"));
    ck_assert(contains(&h, "BR_EC_secp384r1,\n\t\t\t\t(unsigned char *)TA1_EC_Q"));
    ck_assert(contains(&h, "\t\t\tBR_KEYTYPE_RSA,\n\t\t\t{ .rsa = {\n\t\t\t\t(unsigned char *)TA2_RSA_N, sizeof TA2_RSA_N,\n"
                           "\t\t\t\t(unsigned char *)TA2_RSA_E, sizeof TA2_RSA_E,\n\t\t\t} }\n"));
    ck_assert(contains(&h, "\t{\n\t\t{ (unsigned char *)TA1_DN, sizeof TA1_DN },\n\t\tBR_X509_TA_CA,\n"));
    ck_assert(contains(&h, "\nstatic const br_x509_trust_anchor TAs[3] = {\n\t{\n"));
    ck_assert(contains(&h, "\n};\n\n#define TAs_NUM   3\n"));
    ck_assert(contains(&h, "static const unsigned char TA0_DN[] = {\n\t0x30, 0x2A, 0x31, 0x0D,"));
    iotca_buf bufs[] = {h, q0, s0, q1, s1, n2, e2, hex, mod};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) iotca_buf_free(&bufs[i]);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(anchor_formats_refuse_ed25519) {
    iotca_buf ed = fixture("kat-ed25519-ca.der"), p = fixture_der(NB("root-p256.pem"));
    iotca_slice s[] = {iotca_buf_slice(&p), iotca_buf_slice(&ed)};
    iotca_bundle *b = NULL;
    OK(iotca_bundle_new(s, 2, &b));
    iotca_buf out = {0};
    iotca_buf_append_str(&out, "keep");
    iotca_bundle_format no[] = {IOTCA_BUNDLE_BEARSSL, IOTCA_BUNDLE_ESP, IOTCA_BUNDLE_ESP_LEGACY};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(iotca_bundle_encode(b, no[i], 0, &out, NULL), IOTCA_E_POLICY);
        ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "Ed25519 key"));
        ck_assert_ptr_nonnull(strstr(iotca_error_detail(), i == 0 ? "BearSSL cannot use" : "ESP-IDF (mbedTLS) cannot use"));
        ck_assert_uint_eq(out.len, 4); /* nothing half-written */
    }
    iotca_bundle_format yes[] = {IOTCA_BUNDLE_PEM, IOTCA_BUNDLE_PEM0, IOTCA_BUNDLE_DER, IOTCA_BUNDLE_C, IOTCA_BUNDLE_PINS};
    for (size_t i = 0; i < 5; i++) OK(iotca_bundle_encode(b, yes[i], 0, &out, NULL));
    iotca_buf_free(&out);
    iotca_buf_free(&ed);
    iotca_buf_free(&p);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(anchor_formats_and_subjects) {
    /* the same name under two keys: stacks that pick an anchor by name alone would use only one */
    const char *clash[] = {NB("root-p256.pem"), NB("root-p256-same-dn.pem")};
    iotca_bundle *b = bundle_of(clash, 2);
    iotca_buf out = {0};
    iotca_bundle_format no[] = {IOTCA_BUNDLE_BEARSSL, IOTCA_BUNDLE_ESP, IOTCA_BUNDLE_ESP_LEGACY};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(iotca_bundle_encode(b, no[i], 0, &out, NULL), IOTCA_E_POLICY);
        ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "two roots named O=ACME, CN=ACME IoT Root R1 carry different keys"));
    }
    OK(iotca_bundle_encode(b, IOTCA_BUNDLE_C, 0, &out, NULL));
    iotca_buf_free(&out);
    iotca_bundle_free(b);
    /* the same name and key (a re-issued root) is one anchor */
    const char *same[] = {NB("root-p256.pem"), NB("root-p256-reissued.pem"), NB("root-p384.pem")};
    b = bundle_of(same, 3);
    iotca_buf h = encode(b, IOTCA_BUNDLE_BEARSSL), esp = encode(b, IOTCA_BUNDLE_ESP_LEGACY), c = encode(b, IOTCA_BUNDLE_C);
    ck_assert(contains(&h, "#define TAs_NUM   2\n"));
    ck_assert_uint_eq(esp.data[0] << 8 | esp.data[1], 2);
    ck_assert(contains(&c, "#define IOTCA_TRUST_ANCHOR_COUNT 3\n")); /* mbedTLS and wolfSSL take both certificates */
    iotca_buf_free(&h);
    iotca_buf_free(&esp);
    iotca_buf_free(&c);
    iotca_bundle_free(b);
}
END_TEST

/* ---- esp ---- */

typedef struct esp_want {
    iotca_buf subject, spki;
} esp_want;

/* The fixtures' subject and SPKI DER (cut out by OpenSSL), sorted as ESP-IDF's binary search needs. */
static void esp_fixtures(esp_want w[3]) {
    const char *base[] = {"root-p256", "root-p384", "root-rsa3072"};
    for (int i = 0; i < 3; i++) {
        char p[64];
        snprintf(p, sizeof p, "bundle/%s.subject.der", base[i]);
        w[i].subject = fixture(p);
        snprintf(p, sizeof p, "bundle/%s.spki.der", base[i]);
        w[i].spki = fixture(p);
    }
    for (int i = 1; i < 3; i++) /* insertion sort, memcmp order, shorter first on a common prefix */
        for (int j = i; j > 0; j--) {
            iotca_buf *a = &w[j - 1].subject, *b = &w[j].subject;
            size_t m = a->len < b->len ? a->len : b->len;
            int c = memcmp(a->data, b->data, m);
            if (c < 0 || (c == 0 && a->len <= b->len)) break;
            esp_want t = w[j - 1];
            w[j - 1] = w[j];
            w[j] = t;
        }
}

START_TEST(esp_known_answer) {
    /* given out of order: rsa, p384, p256 */
    const char *names[] = {NB("root-rsa3072.pem"), NB("root-p384.pem"), NB("root-p256.pem")};
    iotca_bundle *b = bundle_of(names, 3);
    esp_want w[3];
    esp_fixtures(w);
    iotca_buf got = encode(b, IOTCA_BUNDLE_ESP), want = {0};
    /* >= 5.4: u32 LE offsets from the blob's start, the first = 4 * count; entries u16 LE lengths */
    size_t off = 12;
    for (int i = 0; i < 3; i++) {
        uint8_t o[4] = {(uint8_t)off, (uint8_t)(off >> 8), (uint8_t)(off >> 16), (uint8_t)(off >> 24)};
        iotca_buf_append(&want, o, 4);
        off += 4 + w[i].subject.len + w[i].spki.len;
    }
    for (int i = 0; i < 3; i++) {
        uint8_t l[4] = {(uint8_t)w[i].subject.len, (uint8_t)(w[i].subject.len >> 8), (uint8_t)w[i].spki.len,
                        (uint8_t)(w[i].spki.len >> 8)};
        iotca_buf_append(&want, l, 4);
        iotca_buf_append(&want, w[i].subject.data, w[i].subject.len);
        iotca_buf_append(&want, w[i].spki.data, w[i].spki.len);
    }
    assert_eq_buf(&got, &want, "esp");
    ck_assert_uint_eq(got.data[0], 12); /* what esp_crt_get_certcount() divides by 4 */
    ck_assert_uint_eq(got.len, off);
    /* <= 5.3: u16 BE count; entries u16 BE lengths */
    iotca_buf legacy = encode(b, IOTCA_BUNDLE_ESP_LEGACY), lwant = {0};
    iotca_buf_append(&lwant, "\x00\x03", 2);
    for (int i = 0; i < 3; i++) {
        uint8_t l[4] = {(uint8_t)(w[i].subject.len >> 8), (uint8_t)w[i].subject.len, (uint8_t)(w[i].spki.len >> 8),
                        (uint8_t)w[i].spki.len};
        iotca_buf_append(&lwant, l, 4);
        iotca_buf_append(&lwant, w[i].subject.data, w[i].subject.len);
        iotca_buf_append(&lwant, w[i].spki.data, w[i].spki.len);
    }
    assert_eq_buf(&legacy, &lwant, "esp-legacy");
    for (int i = 0; i < 3; i++) {
        iotca_buf_free(&w[i].subject);
        iotca_buf_free(&w[i].spki);
    }
    iotca_buf_free(&got);
    iotca_buf_free(&want);
    iotca_buf_free(&legacy);
    iotca_buf_free(&lwant);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(esp_single_root) {
    iotca_bundle *b = bundle_of(THREE, 1);
    iotca_buf got = encode(b, IOTCA_BUNDLE_ESP), spki = fixture(NB("root-p256.spki.der")), subj = fixture(NB("root-p256.subject.der"));
    ck_assert_uint_eq(got.len, 4 + 4 + subj.len + spki.len);
    ck_assert_mem_eq(got.data, "\x04\x00\x00\x00", 4);
    ck_assert_uint_eq(got.data[4] | got.data[5] << 8, subj.len);
    ck_assert_uint_eq(got.data[6] | got.data[7] << 8, spki.len);
    ck_assert_mem_eq(got.data + 8 + subj.len, spki.data, spki.len);
    iotca_buf_free(&got);
    iotca_buf_free(&spki);
    iotca_buf_free(&subj);
    iotca_bundle_free(b);
}
END_TEST

/* ---- manifest, determinism ---- */

START_TEST(manifest_describes_the_bytes) {
    iotca_bundle *b = bundle_of(THREE, 3);
    iotca_buf out = {0};
    iotca_buf_append_str(&out, "prefix");
    iotca_bundle_manifest m;
    OK(iotca_bundle_encode(b, IOTCA_BUNDLE_C, 1800000000, &out, &m));
    ck_assert_str_eq(m.format, "c");
    ck_assert_uint_eq(m.format_version, 1);
    ck_assert_int_eq(m.generated_at, 1800000000);
    ck_assert_uint_eq(m.bundle_len, out.len - 6);
    uint8_t h[32];
    iotca_sha256(iotca_slice_of(out.data + 6, out.len - 6), h);
    ck_assert_mem_eq(m.bundle_sha256, h, 32);
    ck_assert_uint_eq(m.n_roots, 3);
    iotca_buf fp = {0};
    OK(iotca_hex_encode(m.roots[0].sha256, 32, &fp));
    ck_assert_str_eq((const char *)fp.data, "2b0da211cbb2cb42c6ba683e6bbbb9825c1a81831f82d430ca88c78e3149d8ba");
    ck_assert_str_eq(m.roots[1].pin, PIN_P384);
    ck_assert_str_eq(m.roots[2].subject, "C=DE, O=ACME, CN=ACME IoT Root R3 RSA");
    ck_assert_int_eq(m.roots[2].key_type, IOTCA_KEY_RSA_3072);
    ck_assert_int_eq(m.roots[0].not_before, P256_NOT_BEFORE);
    ck_assert_int_eq(m.roots[0].not_after, P256_NOT_BEFORE + 9131L * 86400);
    iotca_buf_free(&fp);
    iotca_buf_free(&out);
    iotca_bundle_free(b);
}
END_TEST

START_TEST(every_format_is_deterministic) {
    iotca_bundle *a = bundle_of(THREE, 3), *b = bundle_of(THREE, 3);
    for (int f = 0; f < IOTCA_BUNDLE_FORMAT_COUNT; f++) {
        iotca_buf x = {0}, y = {0};
        OK(iotca_bundle_encode(a, (iotca_bundle_format)f, 1, &x, NULL));
        OK(iotca_bundle_encode(b, (iotca_bundle_format)f, 999999, &y, NULL));
        assert_eq_buf(&x, &y, iotca_bundle_format_name((iotca_bundle_format)f));
        ck_assert_uint_gt(x.len, 0);
        iotca_buf_free(&x);
        iotca_buf_free(&y);
    }
    iotca_bundle_free(a);
    iotca_bundle_free(b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("bundle");
    TCase *tc = tcase_create("bundle");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, format_names);
    tcase_add_test(tc, refuses_zero_and_too_many_roots);
    tcase_add_test(tc, refuses_intermediate_and_leaf);
    tcase_add_test(tc, refuses_malformed);
    tcase_add_test(tc, deduplicates_the_same_certificate);
    tcase_add_test(tc, pem_known_answer);
    tcase_add_test(tc, pem0_is_pem_with_one_counted_nul);
    tcase_add_test(tc, pins_known_answer);
    tcase_add_test(tc, pins_one_line_per_key);
    tcase_add_test(tc, tar_matches_gnu_tar);
    tcase_add_test(tc, tar_refuses_bad_members);
    tcase_add_test(tc, der_is_a_tar_of_the_roots);
    tcase_add_test(tc, der_member_names_are_sanitised);
    tcase_add_test(tc, c_header_known_answer);
    tcase_add_test(tc, c_comments_cannot_be_closed_by_a_name);
    tcase_add_test(tc, subjects_are_valid_utf8);
    tcase_add_test(tc, bearssl_known_answer);
    tcase_add_test(tc, anchor_formats_refuse_ed25519);
    tcase_add_test(tc, anchor_formats_and_subjects);
    tcase_add_test(tc, esp_known_answer);
    tcase_add_test(tc, esp_single_root);
    tcase_add_test(tc, manifest_describes_the_bytes);
    tcase_add_test(tc, every_format_is_deterministic);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    iotca_crypto_thread_end();
    return status;
}
