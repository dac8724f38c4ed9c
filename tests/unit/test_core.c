/* Unit tests for lib/core: buffers, hex, DER writer known answers, strict DER reader, PEM, files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit_run.h"
#include "iotca/buf.h"
#include "iotca/clock.h"
#include "iotca/der.h"
#include "iotca/file.h"
#include "iotca/pem.h"

/* Encodes with f and compares to the expected bytes. */
#define DER_KAT(expr, ...)                                                                                   \
    do {                                                                                                     \
        static const uint8_t want_[] = {__VA_ARGS__};                                                        \
        iotca_buf out_ = {0};                                                                                \
        iotca_der w;                                                                                         \
        iotca_der_init(&w, &out_);                                                                           \
        expr;                                                                                                \
        ck_assert_int_eq(iotca_der_finish(&w), IOTCA_OK);                                                    \
        ck_assert_uint_eq(out_.len, sizeof want_);                                                           \
        ck_assert_mem_eq(out_.data, want_, sizeof want_);                                                    \
        iotca_buf_free(&out_);                                                                               \
    } while (0)

START_TEST(buf_grows_and_wipes) {
    iotca_buf b = {.secret = true};
    for (int i = 0; i < 1000; i++) ck_assert_int_eq(iotca_buf_append_byte(&b, (uint8_t)i), IOTCA_OK);
    ck_assert_uint_eq(b.len, 1000);
    ck_assert_uint_eq(b.data[999], (uint8_t)999);
    ck_assert_int_eq(iotca_buf_printf(&b, "%d-%s", 42, "x"), IOTCA_OK);
    ck_assert_uint_eq(b.len, 1004);
    iotca_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert(b.secret); /* the flag survives so reuse stays secret */
}
END_TEST

START_TEST(buf_borrowed_cannot_grow) {
    uint8_t raw[4] = {1, 2, 3, 4};
    iotca_buf b = iotca_buf_borrow(raw, sizeof raw);
    ck_assert_int_eq(iotca_buf_append_byte(&b, 5), IOTCA_E_USAGE);
    iotca_buf_free(&b); /* must not free stack memory */
    ck_assert_uint_eq(raw[0], 1);
}
END_TEST

START_TEST(buf_refuses_huge) {
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_buf_reserve(&b, IOTCA_BUF_MAX + 1), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_buf_reserve(&b, SIZE_MAX), IOTCA_E_USAGE);
}
END_TEST

START_TEST(ct_equal_and_wipe) {
    uint8_t a[8] = "abcdefg", b[8] = "abcdefg";
    ck_assert(iotca_ct_equal(a, b, 8));
    b[7] = 1;
    ck_assert(!iotca_ct_equal(a, b, 8));
    iotca_wipe(a, sizeof a);
    for (int i = 0; i < 8; i++) ck_assert_uint_eq(a[i], 0);
}
END_TEST

START_TEST(hex_roundtrip_and_errors) {
    iotca_buf b = {0}, h = {0};
    ck_assert_int_eq(iotca_hex_decode("00:Ab:ff", &b), IOTCA_OK);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_uint_eq(b.data[1], 0xab);
    ck_assert_int_eq(iotca_hex_encode(b.data, b.len, &h), IOTCA_OK);
    ck_assert_str_eq((char *)h.data, "00abff");
    iotca_buf_clear(&b);
    ck_assert_int_eq(iotca_hex_decode("abc", &b), IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_hex_decode("zz", &b), IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_hex_decode(":00", &b), IOTCA_E_PARSE);
    iotca_buf_free(&b);
    iotca_buf_free(&h);
}
END_TEST

START_TEST(der_integers_kat) {
    DER_KAT(iotca_der_int(&w, 0), 0x02, 0x01, 0x00);
    DER_KAT(iotca_der_int(&w, 127), 0x02, 0x01, 0x7f);
    DER_KAT(iotca_der_int(&w, 128), 0x02, 0x02, 0x00, 0x80);
    DER_KAT(iotca_der_int(&w, 256), 0x02, 0x02, 0x01, 0x00);
    DER_KAT(iotca_der_int(&w, -1), 0x02, 0x01, 0xff);
    DER_KAT(iotca_der_int(&w, -129), 0x02, 0x02, 0xff, 0x7f);
    static const uint8_t mag[] = {0x00, 0x00, 0x80, 0x01};
    DER_KAT(iotca_der_uint(&w, mag, sizeof mag), 0x02, 0x03, 0x00, 0x80, 0x01);
    DER_KAT(iotca_der_uint(&w, mag, 2), 0x02, 0x01, 0x00);
}
END_TEST

START_TEST(der_lengths_kat) {
    /* X.690 §8.1.3: short form to 127, then 0x81 nn, 0x82 nnnn */
    uint8_t zeros[300] = {0};
    iotca_buf out = {0};
    iotca_der w;
    iotca_der_init(&w, &out);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, zeros, 127);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, zeros, 128);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, zeros, 256);
    ck_assert_int_eq(iotca_der_finish(&w), IOTCA_OK);
    ck_assert_uint_eq(out.len, 2 + 127 + 3 + 128 + 4 + 256);
    ck_assert_uint_eq(out.data[1], 127);
    ck_assert_uint_eq(out.data[129 + 1], 0x81);
    ck_assert_uint_eq(out.data[129 + 2], 0x80);
    ck_assert_uint_eq(out.data[129 + 131 + 1], 0x82);
    ck_assert_uint_eq(out.data[129 + 131 + 2], 0x01);
    ck_assert_uint_eq(out.data[129 + 131 + 3], 0x00);
    iotca_buf_free(&out);
}
END_TEST

START_TEST(der_nested_backpatch) {
    /* a constructed value whose content crosses 127 bytes gets a long length patched in */
    uint8_t zeros[200] = {0};
    iotca_buf out = {0};
    iotca_der w;
    iotca_der_init(&w, &out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, zeros, 200);
    iotca_der_end(&w);
    iotca_der_bool(&w, 1);
    iotca_der_end(&w);
    ck_assert_int_eq(iotca_der_finish(&w), IOTCA_OK);
    iotca_tlv outer, inner, os, b;
    ck_assert_int_eq(iotca_der_single(iotca_buf_slice(&out), IOTCA_DER_SEQUENCE, &outer), IOTCA_OK);
    iotca_slice in = outer.val;
    ck_assert_int_eq(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &inner), IOTCA_OK);
    ck_assert_int_eq(iotca_der_expect(&in, IOTCA_DER_BOOLEAN, &b), IOTCA_OK);
    ck_assert_uint_eq(b.val.p[0], 0xff);
    ck_assert_int_eq(iotca_der_single(inner.val, IOTCA_DER_OCTET_STRING, &os), IOTCA_OK);
    ck_assert_uint_eq(os.val.len, 200);
    iotca_buf_free(&out);
}
END_TEST

START_TEST(der_unbalanced_is_error) {
    iotca_buf out = {0};
    iotca_der w;
    iotca_der_init(&w, &out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    ck_assert_int_eq(iotca_der_finish(&w), IOTCA_E_INTERNAL);
    iotca_der_init(&w, &out);
    iotca_der_end(&w);
    ck_assert_int_eq(iotca_der_finish(&w), IOTCA_E_INTERNAL);
    iotca_buf_free(&out);
}
END_TEST

START_TEST(der_named_bits_kat) {
    /* keyCertSign|cRLSign = bits 5,6: 03 02 01 06 (RFC 5280 §4.2.1.3, trailing zeros dropped) */
    DER_KAT(iotca_der_named_bits(&w, (1u << 5) | (1u << 6), 9), 0x03, 0x02, 0x01, 0x06);
    /* digitalSignature only: 03 02 07 80 */
    DER_KAT(iotca_der_named_bits(&w, 1u, 9), 0x03, 0x02, 0x07, 0x80);
    /* decipherOnly (bit 8) needs a second octet */
    DER_KAT(iotca_der_named_bits(&w, 1u << 8, 9), 0x03, 0x03, 0x07, 0x00, 0x80);
    DER_KAT(iotca_der_named_bits(&w, 0, 9), 0x03, 0x01, 0x00);
}
END_TEST

START_TEST(der_time_switches_at_2050) {
    /* RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 */
    DER_KAT(iotca_der_time(&w, 2524607999), 0x17, 0x0d, '4', '9', '1', '2', '3', '1', '2', '3', '5', '9', '5', '9',
            'Z');
    DER_KAT(iotca_der_time(&w, 2524608000), 0x18, 0x0f, '2', '0', '5', '0', '0', '1', '0', '1', '0', '0', '0', '0',
            '0', '0', 'Z');
    /* OCSP always uses GeneralizedTime */
    DER_KAT(iotca_der_gtime(&w, 2524607999), 0x18, 0x0f, '2', '0', '4', '9', '1', '2', '3', '1', '2', '3', '5', '9', '5',
            '9', 'Z');
    iotca_tlv t;
    time_t back;
    static const uint8_t g[] = {0x18, 0x0f, '2', '0', '5', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'};
    ck_assert_int_eq(iotca_der_single(iotca_slice_of(g, sizeof g), IOTCA_DER_GENERALIZEDTIME, &t), IOTCA_OK);
    ck_assert_int_eq(iotca_der_read_time(&t, &back), IOTCA_OK);
    ck_assert_int_eq(back, 2524608000);
}
END_TEST

START_TEST(der_reader_rejects_malformed) {
    iotca_tlv t;
    struct {
        const char *why;
        uint8_t bytes[8];
        size_t n;
    } bad[] = {
        {"empty", {0}, 0},
        {"truncated header", {0x30}, 1},
        {"indefinite length", {0x30, 0x80, 0x00, 0x00}, 4},
        {"non-minimal long length", {0x04, 0x81, 0x05, 1, 2, 3, 4, 5}, 8},
        {"leading zero length", {0x04, 0x82, 0x00, 0x01, 0x00}, 5},
        {"overrun", {0x04, 0x05, 1, 2}, 4},
        {"five length octets", {0x04, 0x85, 1, 1, 1, 1, 1}, 7},
        {"multi-byte tag", {0x1f, 0x81, 0x01, 0x00}, 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        iotca_slice in = iotca_slice_of(bad[i].bytes, bad[i].n);
        ck_assert_msg(iotca_der_next(&in, &t) == IOTCA_E_PARSE, "accepted: %s", bad[i].why);
    }
    static const uint8_t trailing[] = {0x05, 0x00, 0x00};
    ck_assert_int_eq(iotca_der_single(iotca_slice_of(trailing, 3), IOTCA_DER_NULL, &t), IOTCA_E_PARSE);
    static const uint8_t wrongtag[] = {0x05, 0x00};
    iotca_slice in = iotca_slice_of(wrongtag, 2);
    ck_assert_int_eq(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &t), IOTCA_E_PARSE);
    ck_assert_uint_eq(in.len, 2); /* a failed expect consumes nothing */
}
END_TEST

START_TEST(der_read_uint_limits) {
    iotca_tlv t;
    uint64_t v;
    static const uint8_t neg[] = {0x02, 0x01, 0x80}, pad[] = {0x02, 0x02, 0x00, 0x01}, ok[] = {0x02, 0x02, 0x00, 0x80},
                         big[] = {0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(iotca_der_single(iotca_slice_of(neg, 3), IOTCA_DER_INTEGER, &t), IOTCA_OK);
    ck_assert_int_eq(iotca_der_read_uint(&t, &v), IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_der_single(iotca_slice_of(pad, 4), IOTCA_DER_INTEGER, &t), IOTCA_OK);
    ck_assert_int_eq(iotca_der_read_uint(&t, &v), IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_der_single(iotca_slice_of(big, sizeof big), IOTCA_DER_INTEGER, &t), IOTCA_OK);
    ck_assert_int_eq(iotca_der_read_uint(&t, &v), IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_der_single(iotca_slice_of(ok, 4), IOTCA_DER_INTEGER, &t), IOTCA_OK);
    ck_assert_int_eq(iotca_der_read_uint(&t, &v), IOTCA_OK);
    ck_assert_uint_eq(v, 128);
}
END_TEST

START_TEST(der_bad_times) {
    iotca_tlv t = {.tag = IOTCA_DER_UTCTIME};
    time_t v;
    const char *bad[] = {"491231235959", "4912312359590", "491331235959Z", "49123123595aZ", "491231246060Z"};
    for (size_t i = 0; i < 5; i++) {
        t.val = iotca_slice_of(bad[i], strlen(bad[i]));
        ck_assert_msg(iotca_der_read_time(&t, &v) == IOTCA_E_PARSE, "accepted %s", bad[i]);
    }
}
END_TEST

START_TEST(pem_roundtrip) {
    uint8_t der[100];
    for (int i = 0; i < 100; i++) der[i] = (uint8_t)(i * 7);
    for (size_t n = 1; n <= 100; n += 33) {
        iotca_buf pem = {0}, back = {0};
        ck_assert_int_eq(iotca_pem_encode("TEST THING", der, n, &pem), IOTCA_OK);
        ck_assert_ptr_nonnull(strstr((char *)pem.data, "-----BEGIN TEST THING-----\n"));
        iotca_slice s = iotca_buf_slice(&pem);
        char label[64];
        ck_assert_int_eq(iotca_pem_next(&s, NULL, &back, label), IOTCA_OK);
        ck_assert_str_eq(label, "TEST THING");
        ck_assert_uint_eq(back.len, n);
        ck_assert_mem_eq(back.data, der, n);
        iotca_buf_free(&pem);
        iotca_buf_free(&back);
    }
}
END_TEST

START_TEST(pem_skips_other_labels_and_iterates) {
    const char *text = "junk\n-----BEGIN A-----\nAQID\n-----END A-----\n-----BEGIN B-----\nBAUG\n-----END B-----\n";
    iotca_slice s = iotca_slice_of(text, strlen(text));
    iotca_buf der = {0};
    ck_assert_int_eq(iotca_pem_next(&s, "B", &der, NULL), IOTCA_OK);
    ck_assert_uint_eq(der.len, 3);
    ck_assert_uint_eq(der.data[0], 4);
    ck_assert_int_eq(iotca_pem_next(&s, NULL, &der, NULL), IOTCA_E_PARSE); /* nothing left */
    iotca_buf_free(&der);
}
END_TEST

START_TEST(pem_rejects_malformed) {
    const char *bad[] = {
        "",
        "-----BEGIN X-----\nAQID\n",                                              /* no END */
        "-----BEGIN X-----\nAQ!D\n-----END X-----\n",                             /* bad char */
        "-----BEGIN X-----\n\n-----END X-----\n",                                 /* empty */
        "-----BEGIN X-----\nAQ==AQ==\n-----END X-----\n",                         /* data after pad */
        "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAQID\n-----END X-----\n",   /* legacy headers */
        "-----BEGIN X-----\nAR==\n-----END X-----\n",                             /* non-zero pad bits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        iotca_slice s = iotca_slice_of(bad[i], strlen(bad[i]));
        iotca_buf der = {0};
        ck_assert_msg(iotca_pem_next(&s, NULL, &der, NULL) == IOTCA_E_PARSE, "accepted case %zu", i);
        iotca_buf_free(&der);
    }
    iotca_buf der = {0};
    ck_assert_int_eq(iotca_pem_or_der(iotca_slice_of("", 0), "X", &der), IOTCA_E_PARSE);
}
END_TEST

/* Every character of the base64 alphabet decodes to its value (RFC 4648 §4, known answer: the alphabet in
 * order), and every other byte but whitespace and '=' is refused wherever it stands. */
START_TEST(pem_base64_alphabet) {
    static const uint8_t want[] = {0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30, 0xd3, 0x8f,
                                   0x41, 0x14, 0x93, 0x51, 0x55, 0x97, 0x61, 0x96, 0x9b, 0x71, 0xd7, 0x9f,
                                   0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7, 0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf,
                                   0xc3, 0x1c, 0xb3, 0xd3, 0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf};
    const char *text = "-----BEGIN X-----\nABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\n"
                       "-----END X-----\n";
    iotca_slice s = iotca_slice_of(text, strlen(text));
    iotca_buf der = {0};
    ck_assert_int_eq(iotca_pem_next(&s, NULL, &der, NULL), IOTCA_OK);
    ck_assert_uint_eq(der.len, sizeof want);
    ck_assert_mem_eq(der.data, want, sizeof want);
    iotca_buf_free(&der);
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int b = 0; b < 256; b++) { /* the shared mapping itself (the OCSP responder's GET form uses it too) */
        const char *at = b != 0 ? strchr(alphabet, b) : NULL;
        ck_assert_int_eq(iotca_base64_value((uint8_t)b), at ? (int)(at - alphabet) : -1);
    }
    for (int b = 0; b < 256; b++) {
        if ((b != 0 && strchr(alphabet, b)) || b == '\n' || b == '\r' || b == ' ' || b == '\t' || b == '=') continue;
        char bad[64];
        int n = snprintf(bad, sizeof bad, "-----BEGIN X-----\nAQ%cD\n-----END X-----\n", b == 0 ? 'x' : b);
        bad[20] = (char)b; /* the byte itself, NUL included */
        iotca_slice t = iotca_slice_of(bad, (size_t)n);
        ck_assert_msg(iotca_pem_next(&t, NULL, &der, NULL) == IOTCA_E_PARSE, "byte 0x%02x accepted", b);
        ck_assert_uint_eq(der.len, 0);
    }
    iotca_buf_free(&der);
}
END_TEST

/* A block whose base64 goes bad part way leaves the output as it was (found by fuzz_api: callers free
 * only what a successful call added, so a partial decode leaked), and a label must be printable ASCII
 * (it is echoed in error details, which must stay valid UTF-8 JSON). */
START_TEST(pem_failure_leaves_output_untouched) {
    const char *bad = "-----BEGIN X-----\nAQIDBAUGBwgJ!!!!\n-----END X-----\n";
    iotca_slice s = iotca_slice_of(bad, strlen(bad));
    iotca_buf der = {0};
    ck_assert_int_eq(iotca_pem_next(&s, NULL, &der, NULL), IOTCA_E_PARSE);
    ck_assert_ptr_null(der.data); /* nothing to free: no leak */
    ck_assert_uint_eq(der.len, 0);
    ck_assert_int_eq(iotca_buf_append(&der, "keep", 4), IOTCA_OK);
    s = iotca_slice_of(bad, strlen(bad));
    ck_assert_int_eq(iotca_pem_next(&s, NULL, &der, NULL), IOTCA_E_PARSE);
    ck_assert_uint_eq(der.len, 4);
    ck_assert_int_eq(memcmp(der.data, "keep", 4), 0);
    iotca_buf_free(&der);
    const char *lab = "-----BEGIN \xa0-----\nAQID\n-----END \xa0-----\n";
    s = iotca_slice_of(lab, strlen(lab));
    ck_assert_int_eq(iotca_pem_next(&s, NULL, &der, NULL), IOTCA_E_PARSE);
    ck_assert_str_eq(iotca_error_detail(), "PEM: malformed BEGIN line");
    ck_assert_ptr_null(der.data);
}
END_TEST

static char tmpdir[64];

static void make_tmp(void) {
    strcpy(tmpdir, "/tmp/iotca-core-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

START_TEST(file_create_is_exclusive_0600) {
    make_tmp();
    char p[128];
    snprintf(p, sizeof p, "%s/secret", tmpdir);
    ck_assert_int_eq(iotca_file_create(p, "abc", 3, 0600), IOTCA_OK);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(iotca_file_create(p, "xyz", 3, 0600), IOTCA_E_STORAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "already exists"));
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_file_read(p, 100, &b), IOTCA_OK);
    ck_assert_mem_eq(b.data, "abc", 3); /* not overwritten */
    iotca_buf_free(&b);
}
END_TEST

START_TEST(file_read_refuses_symlink_and_oversize) {
    make_tmp();
    char p[128], l[128];
    snprintf(p, sizeof p, "%s/f", tmpdir);
    snprintf(l, sizeof l, "%s/link", tmpdir);
    ck_assert_int_eq(iotca_file_create(p, "0123456789", 10, 0644), IOTCA_OK);
    ck_assert_int_eq(symlink(p, l), 0);
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_file_read(l, 100, &b), IOTCA_E_STORAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "symbolic link"));
    ck_assert_int_eq(iotca_file_read(p, 9, &b), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_file_read(tmpdir, 100, &b), IOTCA_E_STORAGE); /* a directory */
    ck_assert_int_eq(iotca_file_create(l, "x", 1, 0600), IOTCA_E_STORAGE); /* never through a link */
    iotca_buf_free(&b);
}
END_TEST

START_TEST(file_read_secret_refuses_loose_modes) {
    make_tmp();
    char p[128];
    snprintf(p, sizeof p, "%s/pass", tmpdir);
    ck_assert_int_eq(iotca_file_create(p, "passphrase", 10, 0600), IOTCA_OK);
    iotca_buf b = {0};
    bool loose = true;
    ck_assert_int_eq(iotca_file_read_secret(p, 100, false, &b, &loose), IOTCA_OK);
    ck_assert(!loose);
    ck_assert_uint_eq(b.len, 10);
    b.len = 0;
    const mode_t bad[] = {0644, 0640, 0604, 0660, 0620, 0602, 0610, 0601, 0700 | 0004};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(chmod(p, bad[i]), 0);
        ck_assert_int_eq(iotca_file_read_secret(p, 100, false, &b, &loose), IOTCA_E_USAGE);
        ck_assert_uint_eq(b.len, 0); /* nothing read */
        ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "chmod 600"));
        ck_assert_ptr_nonnull(strstr(iotca_error_detail(), IOTCA_ALLOW_READABLE_SECRETS));
        ck_assert_int_eq(iotca_file_read_secret(p, 100, true, &b, &loose), IOTCA_OK); /* insisting */
        ck_assert(loose);
        ck_assert_uint_eq(b.len, 10);
        b.len = 0;
    }
    ck_assert_int_eq(chmod(p, 0644), 0);
    ck_assert_ptr_nonnull(strstr((iotca_file_read_secret(p, 100, false, &b, NULL), iotca_error_detail()), "0644"));
    ck_assert_int_eq(iotca_file_read_secret(p, 100, true, &b, NULL), IOTCA_OK); /* loose may be NULL */
    b.len = 0;
    ck_assert_int_eq(chmod(p, 0400), 0);
    ck_assert_int_eq(iotca_file_read_secret(p, 100, false, &b, &loose), IOTCA_OK);
    ck_assert(!loose);
    /* the plain reader does not care */
    ck_assert_int_eq(chmod(p, 0644), 0);
    ck_assert_int_eq(iotca_file_read(p, 100, &b), IOTCA_OK);
    iotca_buf_free(&b);
}
END_TEST

START_TEST(file_replace_and_append) {
    make_tmp();
    char p[128];
    snprintf(p, sizeof p, "%s/state", tmpdir);
    ck_assert_int_eq(iotca_file_replace(p, "one", 3, 0600), IOTCA_OK);
    ck_assert_int_eq(iotca_file_replace(p, "two!", 4, 0600), IOTCA_OK);
    ck_assert_int_eq(iotca_file_append(p, "+", 1), IOTCA_OK);
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_file_read(p, 100, &b), IOTCA_OK);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_mem_eq(b.data, "two!+", 5);
    iotca_buf_free(&b);
}
END_TEST

START_TEST(error_detail_can_prefix_itself) {
    /* callers add context with iotca_error_set(rc, "%s: %s", ctx, iotca_error_detail()) */
    iotca_error_set(IOTCA_E_CRYPTO, "CSR signature does not verify");
    ck_assert_int_eq(iotca_error_set(IOTCA_E_CRYPTO, "%s: %s", "badsig.csr", iotca_error_detail()), IOTCA_E_CRYPTO);
    ck_assert_str_eq(iotca_error_detail(), "badsig.csr: CSR signature does not verify");
    ck_assert_str_eq(iotca_rc_name(IOTCA_E_POLICY), "policy");
}
END_TEST

/* Deadlines are normalised whatever the offset, and never before now + the offset. */
START_TEST(mono_deadline_normalised) {
    static const int64_t offsets[] = {0, 1, 999999, 1000000, 1500000, 2999999, 86400LL * 1000000};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        struct timespec before;
        clock_gettime(CLOCK_MONOTONIC, &before);
        struct timespec d = iotca_mono_deadline_us(offsets[i]);
        ck_assert_int_ge(d.tv_nsec, 0);
        ck_assert_int_lt(d.tv_nsec, 1000000000L);
        int64_t want_ns = (int64_t)before.tv_sec * 1000000000 + before.tv_nsec + offsets[i] * 1000;
        int64_t got_ns = (int64_t)d.tv_sec * 1000000000 + d.tv_nsec;
        ck_assert_msg(got_ns >= want_ns, "offset %lld us: deadline %lld ns before now + offset (%lld)",
                      (long long)offsets[i], (long long)got_ns, (long long)want_ns);
    }
    int64_t a = iotca_mono_ms(), b = iotca_mono_ms();
    ck_assert_int_ge(b, a);
}
END_TEST

/* A condition variable made by iotca_cond_init_mono reads a monotonic deadline as meant: the wait times out,
 * and not before the deadline. Waited on a default (CLOCK_REALTIME) one, the same deadline, decades in the
 * past, returns at once, which the lower bound catches. */
START_TEST(mono_cond_waits_until_the_deadline) {
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv;
    ck_assert_int_eq(iotca_cond_init_mono(&cv), 0);
    pthread_mutex_lock(&mu);
    int64_t t0 = iotca_mono_ms();
    struct timespec until = iotca_mono_deadline_us(50 * 1000);
    int r = 0;
    while (r == 0) r = pthread_cond_timedwait(&cv, &mu, &until); /* no one signals: only spurious wake-ups */
    int64_t waited = iotca_mono_ms() - t0;
    pthread_mutex_unlock(&mu);
    ck_assert_int_eq(r, ETIMEDOUT);
    ck_assert_msg(waited >= 49, "returned after %lld ms of a 50 ms wait", (long long)waited);
    pthread_cond_destroy(&cv);
}
END_TEST

int main(void) {
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, error_detail_can_prefix_itself);
    tcase_add_test(tc, buf_grows_and_wipes);
    tcase_add_test(tc, buf_borrowed_cannot_grow);
    tcase_add_test(tc, buf_refuses_huge);
    tcase_add_test(tc, ct_equal_and_wipe);
    tcase_add_test(tc, hex_roundtrip_and_errors);
    tcase_add_test(tc, der_integers_kat);
    tcase_add_test(tc, der_lengths_kat);
    tcase_add_test(tc, der_nested_backpatch);
    tcase_add_test(tc, der_unbalanced_is_error);
    tcase_add_test(tc, der_named_bits_kat);
    tcase_add_test(tc, der_time_switches_at_2050);
    tcase_add_test(tc, der_reader_rejects_malformed);
    tcase_add_test(tc, der_read_uint_limits);
    tcase_add_test(tc, der_bad_times);
    tcase_add_test(tc, pem_roundtrip);
    tcase_add_test(tc, pem_skips_other_labels_and_iterates);
    tcase_add_test(tc, pem_rejects_malformed);
    tcase_add_test(tc, pem_base64_alphabet);
    tcase_add_test(tc, pem_failure_leaves_output_untouched);
    tcase_add_test(tc, file_create_is_exclusive_0600);
    tcase_add_test(tc, file_read_refuses_symlink_and_oversize);
    tcase_add_test(tc, file_read_secret_refuses_loose_modes);
    tcase_add_test(tc, file_replace_and_append);
    tcase_add_test(tc, mono_deadline_normalised);
    tcase_add_test(tc, mono_cond_waits_until_the_deadline);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    return status;
}
