/* Unit tests for lib/acme: JWS parsing and verification, JWK thumbprints, base64url and External Account Binding. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_run.h"
#include "iotca/der.h"
#include "iotca/file.h"
#include "iotca/jws.h"
#include "iotca/key.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
/* x fails with category rc_ and a detail containing what_ */
#define FAILS(x, rc_, what_)                                                                                       \
    do {                                                                                                           \
        iotca_rc r_ = (x);                                                                                         \
        ck_assert_msg(r_ == (rc_), "%s: got %s (%s), want %s", #x, iotca_rc_name(r_), iotca_error_detail(),         \
                      iotca_rc_name(rc_));                                                                         \
        ck_assert_msg(strstr(iotca_error_detail(), (what_)) != NULL, "%s: detail '%s' lacks '%s'", #x,              \
                      iotca_error_detail(), (what_));                                                              \
    } while (0)

#define URL "https://acme.example/acme/new-account"
#define FIXTURE_NONCE "aW90Y2EtdGVzdC1ub25jZS0wMTIz" /* base64url("iotca-test-nonce-0123"), as make.py sends it */

static iotca_slice str(const char *s) { return iotca_slice_of(s, strlen(s)); }

static void b64(const void *p, size_t n, iotca_buf *out) { OK(iotca_b64url_encode(iotca_slice_of(p, n), out)); }

/* base64url of p as a C string, in one of four rotating static buffers (so up to four can be live at once) */
static const char *b64s(const void *p, size_t n) {
    static char s[4][20000];
    static int next;
    iotca_buf b = {0};
    b64(p, n, &b);
    char *d = s[next++ % 4];
    ck_assert_uint_lt(b.len, sizeof s[0]);
    memcpy(d, b.data, b.len + 1);
    iotca_buf_free(&b);
    return d;
}

static iotca_buf fixture(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/jws/%s", IOTCA_TEST_DATA, name);
    iotca_buf b = {0};
    OK(iotca_file_read(path, 1 << 20, &b));
    OK(iotca_buf_cstr(&b));
    while (b.len > 0 && b.data[b.len - 1] == '\n') b.data[--b.len] = '\0';
    return b;
}

/* ---- JWS made with iotca keys ---- */

static const iotca_key_type key_types[] = {IOTCA_KEY_ECDSA_P256, IOTCA_KEY_ECDSA_P384, IOTCA_KEY_RSA_3072,
                                           IOTCA_KEY_RSA_4096, IOTCA_KEY_ED25519};
static const char *alg_of(iotca_key_type t) {
    switch (t) {
    case IOTCA_KEY_ECDSA_P256: return "ES256";
    case IOTCA_KEY_ECDSA_P384: return "ES384";
    case IOTCA_KEY_ED25519: return "EdDSA";
    default: return "RS256";
    }
}

/* The JWS form of iotca's signature: R || S, each the coordinate size, for ECDSA (RFC 7518 §3.4). */
static void jws_sign(const iotca_key *k, iotca_slice input, iotca_buf *out) {
    iotca_buf der = {0};
    OK(iotca_key_sign(k, input, &der));
    iotca_key_type t = iotca_key_get_type(k);
    if (t != IOTCA_KEY_ECDSA_P256 && t != IOTCA_KEY_ECDSA_P384) {
        OK(iotca_buf_append(out, der.data, der.len));
        iotca_buf_free(&der);
        return;
    }
    size_t n = t == IOTCA_KEY_ECDSA_P256 ? 32 : 48;
    iotca_tlv seq, r, s;
    iotca_slice rm, sm;
    OK(iotca_der_single(iotca_buf_slice(&der), IOTCA_DER_SEQUENCE, &seq));
    OK(iotca_der_expect(&seq.val, IOTCA_DER_INTEGER, &r));
    OK(iotca_der_expect(&seq.val, IOTCA_DER_INTEGER, &s));
    OK(iotca_der_int_magnitude(&r, &rm));
    OK(iotca_der_int_magnitude(&s, &sm));
    uint8_t rs[96] = {0};
    ck_assert(rm.len <= n && sm.len <= n);
    memcpy(rs + n - rm.len, rm.p, rm.len);
    memcpy(rs + 2 * n - sm.len, sm.p, sm.len);
    OK(iotca_buf_append(out, rs, 2 * n));
    iotca_buf_free(&der);
}

enum flip { FLIP_NONE, FLIP_PAYLOAD, FLIP_PROTECTED, FLIP_SIGNATURE, FLIP_TRUNCATE, FLIP_PAD };

/* A flattened JWS of payload signed by k under the protected header hdr (JSON text); then, where asked, one
 * bit flipped in the payload, in the header's url, or in the signature (each re-encoded, so it still parses). */
static void make_jws(const iotca_key *k, const char *hdr, const char *payload, enum flip f, iotca_buf *body) {
    char h[8192], p[1024];
    snprintf(h, sizeof h, "%s", hdr);
    snprintf(p, sizeof p, "%s", payload);
    iotca_buf input = {0}, sig = {0};
    OK(iotca_buf_printf(&input, "%s.%s", b64s(h, strlen(h)), b64s(p, strlen(p))));
    jws_sign(k, iotca_buf_slice(&input), &sig);
    if (f == FLIP_PAYLOAD) p[strlen(p) - 2] ^= 0x01;
    if (f == FLIP_PROTECTED) {
        char *u = strstr(h, "\"url\":\"");
        ck_assert_ptr_nonnull(u);
        char *end = strchr(u + 7, '"');
        end[-1] ^= 0x02; /* the url's last letter: still valid JSON */
    }
    if (f == FLIP_SIGNATURE) sig.data[sig.len / 3] ^= 0x10;
    if (f == FLIP_TRUNCATE) sig.len--;
    if (f == FLIP_PAD) { /* a zero byte more: for ECDSA, 00 || R || 00 || S, the same integers at the wrong length */
        iotca_buf padded = {0};
        size_t half = sig.len / 2;
        bool ec = iotca_key_get_type(k) == IOTCA_KEY_ECDSA_P256 || iotca_key_get_type(k) == IOTCA_KEY_ECDSA_P384;
        OK(iotca_buf_append_byte(&padded, 0));
        OK(iotca_buf_append(&padded, sig.data, ec ? half : sig.len));
        if (ec) OK(iotca_buf_append_byte(&padded, 0));
        if (ec) OK(iotca_buf_append(&padded, sig.data + half, half));
        iotca_buf_free(&sig);
        sig = padded;
    }
    OK(iotca_buf_printf(body, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", b64s(h, strlen(h)),
                        b64s(p, strlen(p)), b64s(sig.data, sig.len)));
    iotca_buf_free(&input);
    iotca_buf_free(&sig);
}

/* The protected header of a newAccount-style request carrying k's jwk (from iotca_jwk_from_spki). */
static void jwk_header(const iotca_key *k, const char *alg, iotca_buf *hdr) {
    iotca_buf spki = {0}, jwk = {0};
    uint8_t thumb[32];
    OK(iotca_key_spki(k, &spki));
    OK(iotca_jwk_from_spki(iotca_buf_slice(&spki), &jwk, thumb));
    OK(iotca_buf_printf(hdr, "{\"alg\":\"%s\",\"jwk\":%s,\"nonce\":\"n0nce\",\"url\":\"" URL "\"}", alg, jwk.data));
    iotca_buf_free(&spki);
    iotca_buf_free(&jwk);
}

static iotca_rc parse_str(const char *body, iotca_jws *j) { return iotca_jws_parse(str(body), j); }

START_TEST(sign_verify_each_alg) {
    iotca_key *k = NULL;
    OK(iotca_key_generate(key_types[_i], &k));
    const char *alg = alg_of(key_types[_i]);
    iotca_buf spki = {0}, hdr = {0}, body = {0}, from_spki = {0}, kid_hdr = {0};
    uint8_t thumb[32], expect_thumb[32];
    OK(iotca_key_spki(k, &spki));
    jwk_header(k, alg, &hdr);
    make_jws(k, (char *)hdr.data, "{\"a\":1}", FLIP_NONE, &body);
    iotca_jws j;
    OK(parse_str((char *)body.data, &j));
    ck_assert_str_eq(j.url, URL);
    ck_assert_str_eq(j.nonce, "n0nce");
    ck_assert_str_eq(j.kid, "");
    static const char *const names[] = {"ES256", "ES384", "RS256", "EdDSA"};
    ck_assert_str_eq(alg, names[j.alg]);
    ck_assert(!j.post_as_get);
    ck_assert(iotca_slice_eq(iotca_buf_slice(&j.payload), str("{\"a\":1}")));
    /* the jwk read back is exactly the key's SPKI, and iotca_jwk_from_spki gives the same canonical JSON */
    ck_assert(iotca_slice_eq(iotca_buf_slice(&j.jwk_spki), iotca_buf_slice(&spki)));
    OK(iotca_jwk_from_spki(iotca_buf_slice(&spki), &from_spki, thumb));
    ck_assert_str_eq((char *)j.jwk_json.data, (char *)from_spki.data);
    ck_assert_uint_eq(strlen((char *)j.jwk_json.data), j.jwk_json.len);
    iotca_sha256(iotca_buf_slice(&j.jwk_json), expect_thumb);
    ck_assert_mem_eq(j.thumbprint, expect_thumb, 32);
    ck_assert_mem_eq(thumb, expect_thumb, 32);
    OK(iotca_jws_verify(&j, iotca_buf_slice(&j.jwk_spki)));
    iotca_jws_free(&j);
    /* the same account by kid, verified with its stored key */
    OK(iotca_buf_printf(&kid_hdr, "{\"alg\":\"%s\",\"kid\":\"https://acme.example/acct/7\",\"url\":\"" URL "\"}", alg));
    iotca_buf_clear(&body);
    make_jws(k, (char *)kid_hdr.data, "", FLIP_NONE, &body);
    OK(parse_str((char *)body.data, &j));
    ck_assert_str_eq(j.kid, "https://acme.example/acct/7");
    ck_assert_str_eq(j.nonce, "");
    ck_assert(j.post_as_get && j.payload.len == 0 && j.jwk_spki.len == 0 && j.jwk_json.len == 0);
    OK(iotca_jws_verify(&j, iotca_buf_slice(&spki)));
    iotca_jws_free(&j);
    /* one bit anywhere, a signature one byte short, or zero-padded (RFC 7518 §3.4: R and S exactly the
     * coordinate size): does not verify */
    for (enum flip f = FLIP_PAYLOAD; f <= FLIP_PAD; f++) {
        iotca_buf_clear(&body);
        make_jws(k, (char *)hdr.data, "{\"a\":1}", f, &body);
        OK(parse_str((char *)body.data, &j));
        FAILS(iotca_jws_verify(&j, iotca_buf_slice(&j.jwk_spki)), IOTCA_E_CRYPTO, "signature does not verify");
        iotca_jws_free(&j);
    }
    iotca_buf_free(&spki);
    iotca_buf_free(&hdr);
    iotca_buf_free(&kid_hdr);
    iotca_buf_free(&body);
    iotca_buf_free(&from_spki);
    iotca_key_free(k);
}
END_TEST

START_TEST(alg_must_fit_key) {
    iotca_key *p256 = NULL, *ed = NULL;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &p256));
    OK(iotca_key_generate(IOTCA_KEY_ED25519, &ed));
    const struct {
        iotca_key *k;
        const char *alg;
    } bad[] = {{p256, "ES384"}, {p256, "RS256"}, {p256, "EdDSA"}, {ed, "ES256"}, {ed, "RS256"}};
    iotca_jws j;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        iotca_buf hdr = {0}, body = {0};
        jwk_header(bad[i].k, bad[i].alg, &hdr);
        make_jws(bad[i].k, (char *)hdr.data, "{}", FLIP_NONE, &body);
        FAILS(parse_str((char *)body.data, &j), IOTCA_E_POLICY, "badSignatureAlgorithm");
        iotca_buf_free(&hdr);
        iotca_buf_free(&body);
    }
    /* by kid, the stored key decides: an ES256 request checked against an Ed25519 account key */
    iotca_buf body = {0}, edspki = {0};
    make_jws(p256, "{\"alg\":\"ES256\",\"kid\":\"a\",\"url\":\"" URL "\"}", "{}", FLIP_NONE, &body);
    OK(iotca_key_spki(ed, &edspki));
    OK(parse_str((char *)body.data, &j));
    FAILS(iotca_jws_verify(&j, iotca_buf_slice(&edspki)), IOTCA_E_POLICY, "badSignatureAlgorithm");
    iotca_jws_free(&j);
    iotca_buf_free(&body);
    iotca_buf_free(&edspki);
    iotca_key_free(p256);
    iotca_key_free(ed);
}
END_TEST

/* A body with protected header hdr (JSON text), payload "{}" and a dummy signature. */
static iotca_rc parse_header(const char *hdr) {
    char body[8192];
    snprintf(body, sizeof body, "{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"AAAA\"}",
             b64s(hdr, strlen(hdr)));
    iotca_jws j;
    iotca_rc rc = parse_str(body, &j);
    iotca_jws_free(&j);
    return rc;
}

#define P256_JWK                                                                                                   \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\","                       \
    "\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\"}"

START_TEST(header_refusals) {
    OK(parse_header("{\"alg\":\"ES256\",\"jwk\":" P256_JWK ",\"url\":\"" URL "\"}"));
    const char *algs[] = {"none", "HS256", "HS512", "ES512", "PS256", "RS384", "Ed25519", ""};
    char h[512];
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        snprintf(h, sizeof h, "{\"alg\":\"%s\",\"kid\":\"a\",\"url\":\"" URL "\"}", algs[i]);
        FAILS(parse_header(h), IOTCA_E_POLICY, "badSignatureAlgorithm");
    }
    FAILS(parse_header("{\"kid\":\"a\",\"url\":\"" URL "\"}"), IOTCA_E_PARSE, "\"alg\"");
    FAILS(parse_header("{\"alg\":\"ES256\",\"jwk\":" P256_JWK ",\"kid\":\"a\",\"url\":\"" URL "\"}"), IOTCA_E_PARSE,
          "both \"jwk\" and \"kid\"");
    FAILS(parse_header("{\"alg\":\"ES256\",\"url\":\"" URL "\"}"), IOTCA_E_PARSE, "neither");
    FAILS(parse_header("{\"alg\":\"ES256\",\"kid\":\"a\"}"), IOTCA_E_PARSE, "\"url\"");
    FAILS(parse_header("{\"alg\":\"ES256\",\"kid\":\"a\",\"url\":\"\"}"), IOTCA_E_PARSE, "\"url\" is empty");
    FAILS(parse_header("{\"alg\":\"ES256\",\"kid\":\"a\",\"url\":\"" URL "\",\"nonce\":5}"), IOTCA_E_PARSE,
          "\"nonce\" is not a string");
    FAILS(parse_header("{\"alg\":\"ES256\",\"kid\":\"a\",\"url\":\"" URL "\",\"crit\":[\"b64\"],\"b64\":false}"),
          IOTCA_E_PARSE, "crit");
    FAILS(parse_header("{\"alg\":\"ES256\",\"kid\":\"a\",\"url\":\"" URL "\",\"url\":\"https://evil\"}"), IOTCA_E_PARSE,
          "duplicate");
    FAILS(parse_header("{\"alg\":\"ES256\",\"kid\":7,\"url\":\"" URL "\"}"), IOTCA_E_PARSE, "\"kid\" is not a string");
    FAILS(parse_header("[\"ES256\"]"), IOTCA_E_PARSE, "not a JSON object");
    FAILS(parse_header("{\"alg\":\"ES256\",\"kid\":\"a\",\"url\":\"" URL "\"} x"), IOTCA_E_PARSE, "not JSON");
}
END_TEST

START_TEST(jwk_refusals) {
    char h[4096];
#define JWK_HDR(alg, jwk) (snprintf(h, sizeof h, "{\"alg\":\"" alg "\",\"jwk\":%s,\"url\":\"" URL "\"}", jwk), h)
    FAILS(parse_header(JWK_HDR("ES256", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6"
                                        "KPAqv7D4\",\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\",\"d\":\"AAAA\"}")),
          IOTCA_E_PARSE, "private member \"d\"");
    FAILS(parse_header(JWK_HDR("ES256", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6"
                                        "KPAqv7D4\",\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4I\"}")),
          IOTCA_E_PARSE, "32 bytes");
    FAILS(parse_header(JWK_HDR("ES256", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6"
                                        "KPAqv7D4\"}")),
          IOTCA_E_PARSE, "\"y\" is missing");
    FAILS(parse_header(JWK_HDR("ES256", "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}")), IOTCA_E_POLICY,
          "badPublicKey");
    FAILS(parse_header(JWK_HDR("ES256", "{\"kty\":\"oct\",\"k\":\"AAAA\"}")), IOTCA_E_PARSE, "private member \"k\"");
    FAILS(parse_header(JWK_HDR("ES256", "{\"kty\":\"oct\"}")), IOTCA_E_POLICY, "badPublicKey");
    FAILS(parse_header(JWK_HDR("EdDSA", "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}")), IOTCA_E_POLICY,
          "badPublicKey");
    FAILS(parse_header(JWK_HDR("EdDSA", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}")), IOTCA_E_PARSE,
          "32 bytes");
    FAILS(parse_header(JWK_HDR("ES256", "\"jwk\"")), IOTCA_E_PARSE, "not a JSON object");
    /* RSA: n of 2047, 2048, 4096 and 4104 bits; a leading zero; a private prime */
    uint8_t n[520];
    char jwk[2048];
    const struct {
        size_t len;
        uint8_t top;
        iotca_rc want;
        const char *what;
    } sizes[] = {{256, 0x7f, IOTCA_E_POLICY, "RSA-2047"}, {256, 0x80, IOTCA_OK, ""},
                 {512, 0xff, IOTCA_OK, ""},               {513, 0xff, IOTCA_E_POLICY, "RSA-4104"},
                 {128, 0xc1, IOTCA_E_POLICY, "RSA-1024"}, {257, 0x00, IOTCA_E_PARSE, "leading zero"}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(n, 0xa5, sizeof n);
        n[0] = sizes[i].top;
        n[sizes[i].len - 1] |= 1;
        snprintf(jwk, sizeof jwk, "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"%s\"}", b64s(n, sizes[i].len));
        if (sizes[i].want == IOTCA_OK) OK(parse_header(JWK_HDR("RS256", jwk)));
        else FAILS(parse_header(JWK_HDR("RS256", jwk)), sizes[i].want, sizes[i].what);
    }
    n[0] = 0xc0; /* a 2048-bit n again */
    snprintf(jwk, sizeof jwk, "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"%s\",\"p\":\"AQAB\"}", b64s(n, 256));
    FAILS(parse_header(JWK_HDR("RS256", jwk)), IOTCA_E_PARSE, "private member \"p\"");
    snprintf(jwk, sizeof jwk, "{\"kty\":\"RSA\",\"e\":\"AQAA\",\"n\":\"%s\"}", b64s(n, 256));
    FAILS(parse_header(JWK_HDR("RS256", jwk)), IOTCA_E_POLICY, "exponent");
#undef JWK_HDR
}
END_TEST

START_TEST(body_refusals) {
    const char *plain = "{\"alg\":\"ES256\",\"kid\":\"a\",\"url\":\"" URL "\"}";
    const char *hdr = b64s(plain, strlen(plain));
    char body[1024];
    const struct {
        const char *fmt;
        iotca_rc want;
        const char *what;
    } cases[] = {
        {"{\"protected\":\"%s\",\"payload\":\"e30=\",\"signature\":\"AAAA\"}", IOTCA_E_PARSE, "padding"},
        {"{\"protected\":\"%s=\",\"payload\":\"e30\",\"signature\":\"AAAA\"}", IOTCA_E_PARSE, "padding"},
        {"{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"AAA=\"}", IOTCA_E_PARSE, "padding"},
        {"{\"protected\":\"%s\",\"payload\":\"e3+\",\"signature\":\"AAAA\"}", IOTCA_E_PARSE, "outside the alphabet"},
        {"{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"AA/A\"}", IOTCA_E_PARSE, "outside the alphabet"},
        {"{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"AAAAA\"}", IOTCA_E_PARSE, "length"},
        {"{\"protected\":\"%s\",\"payload\":\"e31\",\"signature\":\"AAAA\"}", IOTCA_E_PARSE, "unused bits"},
        {"{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"AAAA\"}x", IOTCA_E_PARSE, "not JSON"},
        {"{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"AAAA\",\"header\":{}}", IOTCA_E_PARSE, "\"header\""},
        {"{\"protected\":\"%s\",\"payload\":\"e30\"}", IOTCA_E_PARSE, "\"signature\" is missing"},
        {"{\"protected\":\"%s\",\"payload\":{},\"signature\":\"AAAA\"}", IOTCA_E_PARSE, "\"payload\" is not a string"},
        {"{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"\"}", IOTCA_E_PARSE, "signature is empty"},
        {"{\"protected\":\"%s\",\"payload\":\"e30\",\"payload\":\"\",\"signature\":\"AAAA\"}", IOTCA_E_PARSE,
         "duplicate"},
        {"{\"payload\":\"e30\",\"signature\":\"AAAA\",\"protected\":\"e30\",\"x\":\"%s\"}", IOTCA_E_PARSE, "\"x\""},
        {"[\"%s\"]", IOTCA_E_PARSE, "not a JSON object"},
    };
    iotca_jws j;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(body, sizeof body, cases[i].fmt, hdr);
        FAILS(parse_str(body, &j), cases[i].want, cases[i].what);
    }
    FAILS(parse_str("", &j), IOTCA_E_PARSE, "not JSON");
    /* over the limit: refused before parsing, so even valid JSON is a usage error */
    iotca_buf big = {0};
    OK(iotca_buf_printf(&big, "{\"protected\":\"%s\",\"payload\":\"", hdr));
    while (big.len < IOTCA_JWS_MAX_BODY) OK(iotca_buf_append_str(&big, "AAAA"));
    OK(iotca_buf_append_str(&big, "\",\"signature\":\"AAAA\"}"));
    FAILS(iotca_jws_parse(iotca_buf_slice(&big), &j), IOTCA_E_USAGE, "over the limit");
    iotca_buf_free(&big);
}
END_TEST

/* RFC 7638 §3.1: the example RSA key (with its alg and kid members, which the thumbprint leaves out). */
#define RFC7638_N                                                                                                  \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs" \
    "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5h" \
    "ajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_THUMB "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

START_TEST(rfc7638_thumbprint_and_key_authorization) {
    const char *hdr = "{\"alg\":\"RS256\",\"jwk\":{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\",\"alg\":"
                      "\"RS256\",\"kid\":\"2011-04-29\"},\"url\":\"" URL "\"}";
    char body[4096];
    snprintf(body, sizeof body, "{\"protected\":\"%s\",\"payload\":\"\",\"signature\":\"AAAA\"}",
             b64s(hdr, strlen(hdr)));
    iotca_jws j;
    OK(parse_str(body, &j));
    ck_assert_str_eq(b64s(j.thumbprint, 32), RFC7638_THUMB);
    ck_assert_str_eq((char *)j.jwk_json.data, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\"}");
    iotca_buf again = {0}, ka = {0};
    uint8_t thumb[32];
    OK(iotca_jwk_from_spki(iotca_buf_slice(&j.jwk_spki), &again, thumb));
    ck_assert_str_eq((char *)again.data, (char *)j.jwk_json.data);
    ck_assert_mem_eq(thumb, j.thumbprint, 32);
    /* a 4-byte signature for a 2048-bit key: the wrong length does not verify */
    FAILS(iotca_jws_verify(&j, iotca_buf_slice(&j.jwk_spki)), IOTCA_E_CRYPTO, "signature does not verify");
    OK(iotca_acme_key_authorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", thumb, &ka));
    ck_assert_str_eq((char *)ka.data, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." RFC7638_THUMB);
    iotca_buf_free(&again);
    iotca_buf_free(&ka);
    iotca_jws_free(&j);
}
END_TEST

START_TEST(b64url_known_answers_and_refusals) {
    /* RFC 4648 §10, without padding; and the two characters where base64url differs from base64 */
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        iotca_buf e = {0}, d = {0};
        OK(iotca_b64url_encode(str(plain[i]), &e));
        ck_assert_str_eq((char *)e.data, enc[i]);
        OK(iotca_b64url_decode(enc[i], strlen(enc[i]), &d));
        ck_assert(iotca_slice_eq(iotca_buf_slice(&d), str(plain[i])));
        iotca_buf_free(&e);
        iotca_buf_free(&d);
    }
    ck_assert_str_eq(b64s("\xfb\xff\xbf", 3), "-_-_");
    const char *bad[] = {"Zg==", "Zg=", "Zh", "Z", "Zm9v+A", "Zm9v/A", "Zm9 v", "Zm\0v"};
    iotca_buf out = {0};
    OK(iotca_buf_append_str(&out, "keep"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = i == 7 ? 4 : strlen(bad[i]);
        ck_assert_int_eq(iotca_b64url_decode(bad[i], len, &out), IOTCA_E_PARSE);
        ck_assert(iotca_slice_eq(iotca_buf_slice(&out), str("keep"))); /* out as it was */
    }
    iotca_buf_free(&out);
}
END_TEST

/* ---- fixtures made by python3-josepy (tests/data/jws/make.py) ---- */

static void fixture_jws(const char *name, iotca_jws *j) {
    char file[128];
    snprintf(file, sizeof file, "%s.jws", name);
    iotca_buf body = fixture(file);
    OK(iotca_jws_parse(iotca_buf_slice(&body), j));
    iotca_buf_free(&body);
}

START_TEST(josepy_fixtures_verify) {
    const char *names[] = {"es256", "es384", "rs256", "eddsa", "newaccount-eab"};
    const iotca_jws_alg algs[] = {IOTCA_JWS_ES256, IOTCA_JWS_ES384, IOTCA_JWS_RS256, IOTCA_JWS_EDDSA, IOTCA_JWS_ES256};
    for (size_t i = 0; i < 5; i++) {
        iotca_jws j;
        char file[128];
        fixture_jws(names[i], &j);
        ck_assert_int_eq(j.alg, algs[i]);
        ck_assert_str_eq(j.url, URL);
        ck_assert_str_eq(j.nonce, FIXTURE_NONCE);
        snprintf(file, sizeof file, "%s.thumb", names[i]);
        iotca_buf thumb = fixture(file);
        ck_assert_str_eq(b64s(j.thumbprint, 32), (char *)thumb.data); /* josepy's RFC 7638 thumbprint */
        OK(iotca_jws_verify(&j, iotca_buf_slice(&j.jwk_spki)));
        if (algs[i] == IOTCA_JWS_RS256) ck_assert_uint_eq(j.signature.len, 256); /* certbot's RSA-2048 */
        j.signature.data[j.signature.len - 1] ^= 0x01;
        FAILS(iotca_jws_verify(&j, iotca_buf_slice(&j.jwk_spki)), IOTCA_E_CRYPTO, "signature does not verify");
        iotca_buf_free(&thumb);
        iotca_jws_free(&j);
    }
}
END_TEST

START_TEST(josepy_post_as_get_by_kid) {
    iotca_jws acct, es384, j;
    fixture_jws("es256", &acct);
    fixture_jws("es384", &es384);
    fixture_jws("es256-kid", &j);
    ck_assert(j.post_as_get && j.payload.len == 0);
    ck_assert_str_eq(j.kid, "https://acme.example/acme/acct/1");
    ck_assert_str_eq(j.url, "https://acme.example/acme/order/1");
    OK(iotca_jws_verify(&j, iotca_buf_slice(&acct.jwk_spki)));
    FAILS(iotca_jws_verify(&j, iotca_buf_slice(&es384.jwk_spki)), IOTCA_E_POLICY, "badSignatureAlgorithm");
    iotca_jws_free(&acct);
    iotca_jws_free(&es384);
    iotca_jws_free(&j);
}
END_TEST

/* ---- External Account Binding ---- */

/* An externalAccountBinding for jwk (JSON text) under the HMAC key, alg and url given. */
static void make_eab(const char *alg, const char *url, const char *jwk, iotca_slice key, bool nonce, iotca_buf *out) {
    char hdr[1024];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"kid-9\",%s\"url\":\"%s\"}", alg, nonce ? "\"nonce\":\"x\"," : "",
             url);
    iotca_buf input = {0};
    uint8_t mac[64];
    OK(iotca_buf_printf(&input, "%s.%s", b64s(hdr, strlen(hdr)), b64s(jwk, strlen(jwk))));
    size_t n = strcmp(alg, "HS512") == 0 ? 64 : 32;
    if (n == 64) OK(iotca_hmac_sha512(key, iotca_buf_slice(&input), mac));
    else OK(iotca_hmac_sha256(key, iotca_buf_slice(&input), mac));
    OK(iotca_buf_printf(out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", b64s(hdr, strlen(hdr)),
                        b64s(jwk, strlen(jwk)), b64s(mac, n)));
    iotca_buf_free(&input);
}

START_TEST(eab_made_here) {
    iotca_key *k = NULL, *other = NULL;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &other));
    iotca_buf spki = {0}, jwk = {0}, ojwk = {0}, b = {0};
    uint8_t thumb[32];
    OK(iotca_key_spki(k, &spki));
    OK(iotca_jwk_from_spki(iotca_buf_slice(&spki), &jwk, thumb));
    iotca_buf_clear(&spki);
    OK(iotca_key_spki(other, &spki));
    OK(iotca_jwk_from_spki(iotca_buf_slice(&spki), &ojwk, thumb));
    iotca_slice key = str("a secret of the CA, 32 bytes....."), wrong = str("a secret of the CA, 32 bytes....!");
    iotca_slice acct = iotca_buf_slice(&jwk);
    iotca_eab e;
    for (int hs512 = 0; hs512 < 2; hs512++) {
        iotca_buf_clear(&b);
        make_eab(hs512 ? "HS512" : "HS256", URL, (char *)jwk.data, key, false, &b);
        OK(iotca_eab_parse(iotca_buf_slice(&b), URL, acct, &e));
        ck_assert_str_eq(e.kid, "kid-9");
        ck_assert_int_eq(e.hash_bits, hs512 ? 512 : 256);
        OK(iotca_eab_verify(&e, key));
        FAILS(iotca_eab_verify(&e, wrong), IOTCA_E_CRYPTO, "does not verify");
        e.mac.data[3] ^= 0x40;
        FAILS(iotca_eab_verify(&e, key), IOTCA_E_CRYPTO, "does not verify");
        e.mac.data[3] ^= 0x40;
        e.mac.len--;
        FAILS(iotca_eab_verify(&e, key), IOTCA_E_CRYPTO, "does not verify");
        iotca_eab_free(&e);
    }
    iotca_buf_clear(&b);
    make_eab("HS256", "https://acme.example/acme/other", (char *)jwk.data, key, false, &b);
    FAILS(iotca_eab_parse(iotca_buf_slice(&b), URL, acct, &e), IOTCA_E_POLICY, "unauthorized");
    iotca_buf_clear(&b);
    make_eab("HS256", URL, (char *)ojwk.data, key, false, &b);
    FAILS(iotca_eab_parse(iotca_buf_slice(&b), URL, acct, &e), IOTCA_E_POLICY, "malformed");
    const char *bad_algs[] = {"none", "ES256", "RS256", "HS1"};
    for (size_t i = 0; i < 4; i++) {
        iotca_buf_clear(&b);
        make_eab(bad_algs[i], URL, (char *)jwk.data, key, false, &b);
        FAILS(iotca_eab_parse(iotca_buf_slice(&b), URL, acct, &e), IOTCA_E_POLICY, "badSignatureAlgorithm");
    }
    iotca_buf_clear(&b);
    make_eab("HS256", URL, (char *)jwk.data, key, true, &b);
    FAILS(iotca_eab_parse(iotca_buf_slice(&b), URL, acct, &e), IOTCA_E_PARSE, "nonce");
    iotca_buf_clear(&b);
    make_eab("HS256", URL, "{\"kty\":\"EC\"}", key, false, &b);
    FAILS(iotca_eab_parse(iotca_buf_slice(&b), URL, acct, &e), IOTCA_E_PARSE, "crv");
    iotca_buf_free(&spki);
    iotca_buf_free(&jwk);
    iotca_buf_free(&ojwk);
    iotca_buf_free(&b);
    iotca_key_free(k);
    iotca_key_free(other);
}
END_TEST

START_TEST(eab_made_by_josepy) {
    iotca_jws acct, es256;
    fixture_jws("newaccount-eab", &acct);
    fixture_jws("es256", &es256);
    OK(iotca_jws_verify(&acct, iotca_buf_slice(&acct.jwk_spki)));
    iotca_buf eab = fixture("eab.json"), key64 = fixture("eab.key"), key = {0};
    OK(iotca_b64url_decode((char *)key64.data, key64.len, &key));
    iotca_eab e;
    OK(iotca_eab_parse(iotca_buf_slice(&eab), URL, iotca_buf_slice(&acct.jwk_json), &e));
    ck_assert_str_eq(e.kid, "kid-1");
    ck_assert_int_eq(e.hash_bits, 256);
    OK(iotca_eab_verify(&e, iotca_buf_slice(&key)));
    key.data[0] ^= 1;
    FAILS(iotca_eab_verify(&e, iotca_buf_slice(&key)), IOTCA_E_CRYPTO, "does not verify");
    iotca_eab_free(&e);
    FAILS(iotca_eab_parse(iotca_buf_slice(&eab), "https://acme.example/acme/new-acct", iotca_buf_slice(&acct.jwk_json),
                          &e),
          IOTCA_E_POLICY, "unauthorized");
    FAILS(iotca_eab_parse(iotca_buf_slice(&eab), URL, iotca_buf_slice(&es256.jwk_json), &e), IOTCA_E_POLICY,
          "malformed");
    iotca_buf_free(&eab);
    iotca_buf_free(&key64);
    iotca_buf_free(&key);
    iotca_jws_free(&acct);
    iotca_jws_free(&es256);
}
END_TEST

int main(void) {
    Suite *s = suite_create("acme_jws");
    TCase *tc = tcase_create("jws");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, sign_verify_each_alg, 0, (int)(sizeof key_types / sizeof key_types[0]));
    tcase_add_test(tc, alg_must_fit_key);
    tcase_add_test(tc, header_refusals);
    tcase_add_test(tc, jwk_refusals);
    tcase_add_test(tc, body_refusals);
    tcase_add_test(tc, rfc7638_thumbprint_and_key_authorization);
    tcase_add_test(tc, b64url_known_answers_and_refusals);
    tcase_add_test(tc, josepy_fixtures_verify);
    tcase_add_test(tc, josepy_post_as_get_by_kid);
    tcase_add_test(tc, eab_made_here);
    tcase_add_test(tc, eab_made_by_josepy);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
