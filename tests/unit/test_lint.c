/* Unit tests for the leaf lint before signing (lib/issuer/lint.c, called by lib/ca/issue.c): each of its rules
 * refuses a TBS that breaks exactly that rule, by name, with no signature by the issuer key, no intent and no
 * certificate recorded; an issued certificate's intent holds the SHA-256 of the TBS it carries, and a signing
 * that fails after the lint leaves its intent behind. The broken TBSs come through a test seam of lib/ca
 * (iotca_ca.tbs_hook) that rewrites what the builder made, as a builder mistake would. */
#include "unit_run.h"
#include "iotca/der.h"
#include "iotca/pem.h"

#include "ca_fixture.h"
#include "ca_internal.h" /* the test seam (iotca_ca.tbs_hook) and the issuer's signature count */

/* A fresh key's CSR, PEM, with CN cn and, unless dns is NULL, that DNS SAN. */
static void make_csr(const char *cn, const char *dns, iotca_buf *pem) {
    iotca_key *k = NULL;
    iotca_buf subject = {0}, der = {0};
    iotca_names names;
    memset(&names, 0, sizeof names);
    if (dns) snprintf(names.dns[names.n_dns++], sizeof names.dns[0], "%s", dns);
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_name_build(NULL, NULL, NULL, cn, &subject));
    OK(iotca_csr_build_names(k, iotca_buf_slice(&subject), &names, &der));
    OK(iotca_pem_encode("CERTIFICATE REQUEST", der.data, der.len, pem));
    iotca_key_free(k);
    iotca_buf_free(&subject);
    iotca_buf_free(&der);
}

/* ---- the seam: what a builder mistake would make of the TBS ---- */

typedef struct breaker breaker;
struct breaker {
    void (*edit)(const breaker *b, iotca_cert_spec *spec); /* rebuilds the TBS from an edited copy of the spec */
    iotca_rc (*rewrite)(iotca_buf *tbs);                    /* or changes its bytes */
    iotca_slice sigalg; /* with edit: the signature field to build with (empty: the TBS's own) */
    time_t issuer_not_after;
    iotca_buf other_name;
    /* seen by the hook */
    int calls;
    char serial[41];
    uint8_t tbs_sha256[32]; /* of the TBS handed to the lint */
};

static const uint8_t other_serial[16] = {0x5e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t other_skid[20] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                                       0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};

/* The TBS's own signature field (RFC 5280 §4.1.2.3), copied into alg. */
static iotca_rc tbs_sigalg(const iotca_buf *tbs, iotca_buf *alg) {
    iotca_tlv seq, t;
    IOTCA_GUARD(iotca_der_single(iotca_buf_slice(tbs), IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_CTX_CONS(0), &t));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_INTEGER, &t));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &t));
    return iotca_buf_append(alg, t.tlv.p, t.tlv.len);
}

static iotca_rc hook(void *arg, const iotca_cert_spec *spec, iotca_buf *tbs) {
    breaker *b = arg;
    b->calls++;
    iotca_buf hex = {0};
    IOTCA_GUARD(iotca_hex_encode(spec->serial.p, spec->serial.len, &hex));
    snprintf(b->serial, sizeof b->serial, "%s", (const char *)hex.data);
    iotca_buf_free(&hex);
    if (b->edit) {
        iotca_cert_spec copy = *spec;
        b->edit(b, &copy);
        iotca_buf alg = {0}, rebuilt = {0};
        iotca_rc rc = b->sigalg.len ? iotca_buf_append(&alg, b->sigalg.p, b->sigalg.len) : tbs_sigalg(tbs, &alg);
        if (rc == IOTCA_OK) rc = iotca_cert_tbs(&copy, iotca_buf_slice(&alg), &rebuilt);
        iotca_buf_free(&alg);
        if (rc != IOTCA_OK) {
            iotca_buf_free(&rebuilt);
            return rc;
        }
        iotca_buf_free(tbs);
        *tbs = rebuilt;
    }
    if (b->rewrite) IOTCA_GUARD(b->rewrite(tbs));
    iotca_sha256(iotca_buf_slice(tbs), b->tbs_sha256);
    return IOTCA_OK;
}

/* The issuer's leaf signatures so far (ca_issuer_sign_tbs counts each). */
static unsigned long signatures(fixture *f) {
    ca_issuer *is = NULL;
    OK(ca_issuer_by_id(f->ca, f->s, f->issuer, &is));
    return __atomic_load_n(&is->signatures, __ATOMIC_RELAXED);
}

static size_t certificates(fixture *f) {
    iotca_cert_filter all = {.status = -1, .limit = 10};
    iotca_cert_rec *list = NULL;
    size_t n = 99;
    OK(iotca_ca_cert_list(f->ca, &all, &list, &n));
    for (size_t i = 0; i < n; i++) iotca_cert_rec_free(&list[i]);
    free(list);
    return n;
}

/* Issues a CSR (with a DNS SAN unless no_san) through a CA whose TBS b breaks, with crypto_threads, and
 * expects the lint to refuse it by rule before the issuer key signed: no signature, no intent, no record. */
static void refused_by(breaker *b, const char *rule, bool no_san, unsigned crypto_threads) {
    fixture f;
    setup(&f);
    OK(iotca_ca_set_crypto_threads(f.ca, crypto_threads));
    b->issuer_not_after = iotca_cert_get(f.issuer_cert)->not_after;
    OK(iotca_name_build("DE", "Unit", NULL, "Someone Else", &b->other_name));
    f.ca->tbs_hook = hook;
    f.ca->tbs_hook_arg = b;
    iotca_buf pem = {0};
    make_csr("d.example.com", no_san ? NULL : "d.example.com", &pem);
    iotca_issued out;
    iotca_rc rc = iotca_ca_issue(f.ca, iotca_buf_slice(&pem), "fw", 0, &out);
    char want[64];
    snprintf(want, sizeof want, "lint: rule %s:", rule);
    ck_assert_msg(rc == IOTCA_E_INTERNAL && strstr(iotca_error_detail(), want) != NULL,
                  "expected a refusal by %s, got %s (%s)", want, iotca_rc_name(rc), iotca_error_detail());
    ck_assert_ptr_null(out.cert_pem.data);
    ck_assert_int_eq(b->calls, 1); /* the TBS the lint refused is the broken one */
    ck_assert_uint_eq(signatures(&f), 0);
    iotca_serial_intent in;
    bool has = true;
    ck_assert_int_eq(iotca_store_serial_intent_get(f.s, b->serial, &in, &has), IOTCA_E_USAGE); /* no intent */
    ck_assert_uint_eq(certificates(&f), 0);
    iotca_ca_stats st;
    iotca_ca_stats_get(f.ca, &st);
    ck_assert_uint_eq(st.issued, 0);
    ck_assert_uint_eq(st.refused, 1);
    iotca_buf_free(&b->other_name);
    iotca_buf_free(&pem);
    teardown(&f);
}

/* ---- the nine rules ---- */

static void make_ca(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->is_ca = true;
}
static void make_cert_sign(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->key_usage |= IOTCA_KU_KEY_CERT_SIGN;
}

START_TEST(rule_ca) {
    breaker ca = {.edit = make_ca}, ku = {.edit = make_cert_sign};
    refused_by(&ca, "ca", false, 0);
    refused_by(&ku, "ca", false, 1); /* and through a crypto thread */
}
END_TEST

static void outlive(const breaker *b, iotca_cert_spec *s) { s->not_after = b->issuer_not_after + 1; }

START_TEST(rule_outlives_issuer) {
    breaker b = {.edit = outlive};
    refused_by(&b, "outlives_issuer", false, 0);
}
END_TEST

/* notAfter's time made equal to notBefore's (the builder refuses such a spec, so the bytes are changed) */
static iotca_rc empty_validity(iotca_buf *tbs) {
    iotca_tlv seq, t, validity, nb, na;
    IOTCA_GUARD(iotca_der_single(iotca_buf_slice(tbs), IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    for (int i = 0; i < 4; i++) IOTCA_GUARD(iotca_der_next(&in, &t)); /* version, serial, signature, issuer */
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &validity));
    iotca_slice v = validity.val;
    IOTCA_GUARD(iotca_der_next(&v, &nb));
    IOTCA_GUARD(iotca_der_next(&v, &na));
    IOTCA_ENSURE(nb.tlv.len == na.tlv.len, IOTCA_E_INTERNAL, "test: the two times differ in form");
    memcpy(tbs->data + (na.tlv.p - tbs->data), nb.tlv.p, nb.tlv.len);
    return IOTCA_OK;
}

START_TEST(rule_validity) {
    breaker b = {.rewrite = empty_validity};
    refused_by(&b, "validity", false, 0);
}
END_TEST

static void other_issuer(const breaker *b, iotca_cert_spec *s) { s->issuer = iotca_buf_slice(&b->other_name); }

START_TEST(rule_issuer_name) {
    breaker b = {.edit = other_issuer};
    refused_by(&b, "issuer_name", false, 0);
}
END_TEST

static void other_akid(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->issuer_skid = iotca_slice_of(other_skid, sizeof other_skid);
}

START_TEST(rule_akid) {
    breaker b = {.edit = other_akid};
    refused_by(&b, "akid", false, 0);
}
END_TEST

static void swap_serial(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->serial = iotca_slice_of(other_serial, sizeof other_serial);
}
static void short_serial(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->serial = iotca_slice_of(s->serial.p, 7); /* the drawn serial's first 56 bits */
}

START_TEST(rule_serial) {
    breaker other = {.edit = swap_serial}, cut = {.edit = short_serial};
    refused_by(&other, "serial", false, 0);
    refused_by(&cut, "serial", false, 0);
}
END_TEST

/* The serial's length on its own (the decision's serial as short as the TBS's): 8 octets pass, 7 do not. */
START_TEST(rule_serial_under_64_bits) {
    fixture f;
    setup(&f);
    const iotca_cert_info *ii = iotca_cert_get(f.issuer_cert);
    iotca_key *k = NULL;
    iotca_buf spki = {0}, subject = {0}, alg = {0};
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_key_spki(k, &spki));
    OK(iotca_name_build(NULL, NULL, NULL, "device", &subject));
    OK(iotca_key_sigalg(k, &alg));
    iotca_cert_spec s = {0};
    s.issuer = ii->subject;
    s.issuer_skid = ii->skid;
    s.subject = iotca_buf_slice(&subject);
    s.spki = iotca_buf_slice(&spki);
    s.not_before = time(NULL);
    s.not_after = s.not_before + DAY;
    s.path_len = -1;
    s.key_usage = IOTCA_KU_DIGITAL_SIGNATURE;
    s.eku = IOTCA_EKU_SERVER;
    for (size_t len = 8; len >= 7; len--) {
        s.serial = iotca_slice_of(other_serial, len);
        iotca_buf tbs = {0};
        OK(iotca_cert_tbs(&s, iotca_buf_slice(&alg), &tbs));
        iotca_rc rc = iotca_lint_leaf(iotca_buf_slice(&tbs), f.issuer_cert, &s);
        if (len == 8) OK(rc);
        else
            ck_assert_msg(rc == IOTCA_E_INTERNAL && strstr(iotca_error_detail(), "lint: rule serial:"),
                          "a 56-bit serial: %s", iotca_error_detail());
        iotca_buf_free(&tbs);
    }
    iotca_key_free(k);
    iotca_buf_free(&spki);
    iotca_buf_free(&subject);
    iotca_buf_free(&alg);
    teardown(&f);
}
END_TEST

/* An extension no one knows (OID 1.3.6.1.4.1.55555.1), marked critical, appended to the extensions. */
static iotca_rc add_unknown_critical(iotca_buf *tbs) {
    static const uint8_t oid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x01};
    static const uint8_t null[] = {0x05, 0x00};
    iotca_tlv seq, t;
    IOTCA_GUARD(iotca_der_single(iotca_buf_slice(tbs), IOTCA_DER_SEQUENCE, &seq));
    iotca_buf out = {0};
    iotca_der w;
    iotca_der_init(&w, &out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    for (iotca_slice in = seq.val; in.len;) {
        IOTCA_GUARD(iotca_der_next(&in, &t));
        if (t.tag != IOTCA_DER_CTX_CONS(3)) {
            iotca_der_raw(&w, t.tlv.p, t.tlv.len);
            continue;
        }
        iotca_tlv exts;
        IOTCA_GUARD(iotca_der_single(t.val, IOTCA_DER_SEQUENCE, &exts));
        iotca_der_begin(&w, IOTCA_DER_CTX_CONS(3));
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
        iotca_der_raw(&w, exts.val.p, exts.val.len);
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
        iotca_der_oid(&w, oid, sizeof oid);
        iotca_der_bool(&w, 1);
        iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, null, sizeof null);
        iotca_der_end(&w);
        iotca_der_end(&w);
        iotca_der_end(&w);
    }
    iotca_der_end(&w);
    IOTCA_GUARD(iotca_der_finish(&w));
    iotca_buf_free(tbs);
    *tbs = out;
    return IOTCA_OK;
}

START_TEST(rule_critical) {
    breaker b = {.rewrite = add_unknown_critical};
    refused_by(&b, "critical", false, 0);
}
END_TEST

static void client_eku(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->eku = IOTCA_EKU_CLIENT;
}
static void extra_eku(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->eku |= IOTCA_EKU_CODE_SIGNING;
}

START_TEST(rule_eku) {
    breaker other = {.edit = client_eku}, more = {.edit = extra_eku};
    refused_by(&other, "eku", false, 0);
    refused_by(&more, "eku", false, 0);
}
END_TEST

static void other_dns(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->dns[0] = "e.example.com";
}
static void no_names(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->n_dns = 0;
}
static void add_name(const breaker *b, iotca_cert_spec *s) {
    (void)b;
    s->dns[s->n_dns++] = "extra.example.com";
}

START_TEST(rule_san) {
    breaker other = {.edit = other_dns}, none = {.edit = no_names}, more = {.edit = add_name},
            unexpected = {.edit = add_name};
    refused_by(&other, "san", false, 0);
    refused_by(&none, "san", false, 0);
    refused_by(&more, "san", false, 0);
    refused_by(&unexpected, "san", true, 0); /* the decision holds no names */
}
END_TEST

static iotca_rc truncate_tbs(iotca_buf *tbs) {
    tbs->len--;
    return IOTCA_OK;
}

START_TEST(rule_parse) {
    breaker b = {.rewrite = truncate_tbs};
    refused_by(&b, "parse", false, 0);
}
END_TEST

/* ---- what an issuance records ---- */

/* An issued certificate carries the TBS the lint saw, and its serial's intent holds that TBS's SHA-256, the
 * issuer, the profile and the notAfter; the issuer key signed once. With and without crypto threads. */
static void intent_recorded(unsigned crypto_threads) {
    fixture f;
    setup(&f);
    OK(iotca_ca_set_crypto_threads(f.ca, crypto_threads));
    breaker b = {0}; /* changes nothing: only sees the TBS */
    f.ca->tbs_hook = hook;
    f.ca->tbs_hook_arg = &b;
    iotca_buf pem = {0}, der = {0};
    make_csr("d.example.com", "d.example.com", &pem);
    iotca_issued out;
    OK(iotca_ca_issue(f.ca, iotca_buf_slice(&pem), "fw", 0, &out));
    ck_assert_int_eq(b.calls, 1);
    ck_assert_str_eq(b.serial, out.serial);
    ck_assert_uint_eq(signatures(&f), 1);
    iotca_cert *leaf = NULL;
    OK(iotca_pem_or_der(iotca_buf_slice(&out.cert_pem), "CERTIFICATE", &der));
    OK(iotca_cert_parse(iotca_buf_slice(&der), &leaf));
    uint8_t h[32];
    iotca_sha256(iotca_cert_get(leaf)->tbs, h);
    ck_assert_mem_eq(h, b.tbs_sha256, sizeof h); /* the signed TBS is the linted one */
    iotca_serial_intent in;
    bool has = false;
    OK(iotca_store_serial_intent_get(f.s, out.serial, &in, &has));
    ck_assert(has);
    ck_assert_mem_eq(in.tbs_sha256, h, sizeof h);
    ck_assert_int_eq(in.issuer_id, f.issuer);
    ck_assert_int_eq(in.issuer_id, out.issuer_id);
    ck_assert_str_eq(in.profile, "fw");
    ck_assert_int_eq(in.not_after, out.not_after);
    ck_assert_int_eq(in.not_after, iotca_cert_get(leaf)->not_after);
    ck_assert_uint_eq(certificates(&f), 1);
    iotca_cert_free(leaf);
    iotca_buf_free(&der);
    iotca_issued_free(&out);
    iotca_buf_free(&pem);
    teardown(&f);
}

START_TEST(intent_holds_the_tbs_hash) {
    intent_recorded(0);
    intent_recorded(1);
}
END_TEST

static void keep(const breaker *b, iotca_cert_spec *s) { (void)b, (void)s; }

/* A TBS the lint passes but whose signature field names another algorithm than the issuer key's
 * (ecdsa-with-SHA384 for a P-256 key): the key signs, and the re-parse refuses the result (RFC 5280 §4.1.1.2:
 * the two fields must match). Then the intent (queued before the signature) says what was signed, and no
 * certificate is recorded or returned. */
START_TEST(intent_kept_when_signing_fails) {
    static const uint8_t sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
    fixture f;
    setup(&f);
    breaker b = {.edit = keep, .sigalg = iotca_slice_of(sha384, sizeof sha384)};
    f.ca->tbs_hook = hook;
    f.ca->tbs_hook_arg = &b;
    iotca_buf pem = {0};
    make_csr("d.example.com", "d.example.com", &pem);
    iotca_issued out;
    ck_assert_int_eq(iotca_ca_issue(f.ca, iotca_buf_slice(&pem), "fw", 0, &out), IOTCA_E_PARSE);
    ck_assert_msg(strstr(iotca_error_detail(), "signature algorithms differ"), "%s", iotca_error_detail());
    ck_assert_ptr_null(out.cert_pem.data);
    ck_assert_uint_eq(signatures(&f), 1);
    iotca_serial_intent in;
    bool has = false;
    OK(iotca_store_serial_intent_get(f.s, b.serial, &in, &has));
    ck_assert(has);
    ck_assert_mem_eq(in.tbs_sha256, b.tbs_sha256, sizeof in.tbs_sha256);
    ck_assert_str_eq(in.profile, "fw");
    ck_assert_uint_eq(certificates(&f), 0);
    iotca_buf_free(&pem);
    teardown(&f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("lint");
    TCase *tc = tcase_create("lint");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rule_ca);
    tcase_add_test(tc, rule_outlives_issuer);
    tcase_add_test(tc, rule_validity);
    tcase_add_test(tc, rule_issuer_name);
    tcase_add_test(tc, rule_akid);
    tcase_add_test(tc, rule_serial);
    tcase_add_test(tc, rule_serial_under_64_bits);
    tcase_add_test(tc, rule_critical);
    tcase_add_test(tc, rule_eku);
    tcase_add_test(tc, rule_san);
    tcase_add_test(tc, rule_parse);
    tcase_add_test(tc, intent_holds_the_tbs_hash);
    tcase_add_test(tc, intent_kept_when_signing_fails);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
