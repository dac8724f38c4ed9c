/* The ESP-IDF certificate bundles ("esp" for ESP-IDF >= 5.4, "esp-legacy" for <= 5.3): subject DN and SPKI per root.
 *
 * Layouts as the reader expects them, from espressif/esp-idf
 * components/mbedtls/esp_crt_bundle/esp_crt_bundle.c (esp_crt_check_bundle, esp_crt_find_cert) and
 * gen_crt_bundle.py (create_bundle) of ESP-IDF 5.4 and later, and the same two files of 5.3 and earlier:
 *
 *   >= 5.4: n little-endian u32 offsets, each from the start of the blob to one entry; there is no count
 *           field: the reader takes n = offsets[0] / 4, so the first entry must follow the table directly,
 *           and it checks offsets[i + 1] == offsets[i] + 4 + name_len + key_len and that the last entry ends
 *           inside the blob. Entry: u16 LE name_len, u16 LE key_len, name, key.
 *   <= 5.3: u16 BE count, then entries: u16 BE name_len, u16 BE key_len, name, key.
 *
 * name is the certificate's subject Name DER and key its SubjectPublicKeyInfo DER (the reader hands it to
 * mbedtls_pk_parse_public_key). Both readers find the issuer of the topmost certificate by binary search with
 * memcmp over the subject bytes, so entries are sorted by subject DER ascending, a shorter name before a
 * longer one it is a prefix of (Python's bytes order in gen_crt_bundle.py). The reader refuses more than
 * CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_MAX_CERTS entries (200 by default; IOTCA_BUNDLE_MAX_ROOTS). */
#include <string.h>

#include "bundle_int.h"

static int subject_cmp(iotca_slice a, iotca_slice b) {
    int c = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* Sorts the anchor indexes by subject DER; a stable insertion sort (at most IOTCA_BUNDLE_MAX_ROOTS
 * entries), with no shared state between the daemon's threads as qsort's comparator would need. */
static void sort_by_subject(const iotca_bundle *b, size_t *idx, size_t n) {
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && subject_cmp(b->roots[idx[j - 1]].subject_der, b->roots[v].subject_der) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

static iotca_rc put16(iotca_buf *out, size_t v, bool be) {
    uint8_t b[2] = {be ? (uint8_t)(v >> 8) : (uint8_t)v, be ? (uint8_t)v : (uint8_t)(v >> 8)};
    return iotca_buf_append(out, b, 2);
}

static iotca_rc put32le(iotca_buf *out, size_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return iotca_buf_append(out, b, 4);
}

iotca_rc bundle_enc_esp(const iotca_bundle *b, bool legacy, iotca_buf *out) {
    size_t idx[IOTCA_BUNDLE_MAX_ROOTS], n;
    /* mbedTLS (ESP-IDF's TLS stack) has no Ed25519, so mbedtls_pk_parse_public_key would refuse the key */
    IOTCA_GUARD(bundle_anchors(b, "ESP-IDF (mbedTLS)", true, idx, &n));
    sort_by_subject(b, idx, n);
    for (size_t t = 0; t < n; t++)
        IOTCA_ENSURE(b->roots[idx[t]].subject_der.len <= 0xffff && b->roots[idx[t]].spki.len <= 0xffff,
                     IOTCA_E_POLICY, "root %s: subject or key longer than an ESP-IDF bundle's u16 length",
                     b->roots[idx[t]].subject);
    if (legacy) {
        IOTCA_GUARD(put16(out, n, true));
    } else {
        size_t off = 4 * n;
        for (size_t t = 0; t < n; t++) {
            IOTCA_GUARD(put32le(out, off));
            off += 4 + b->roots[idx[t]].subject_der.len + b->roots[idx[t]].spki.len;
        }
    }
    for (size_t t = 0; t < n; t++) {
        const iotca_bundle_root *r = &b->roots[idx[t]];
        IOTCA_GUARD(put16(out, r->subject_der.len, legacy));
        IOTCA_GUARD(put16(out, r->spki.len, legacy));
        IOTCA_GUARD(iotca_buf_append(out, r->subject_der.p, r->subject_der.len));
        IOTCA_GUARD(iotca_buf_append(out, r->spki.p, r->spki.len));
    }
    return IOTCA_OK;
}
