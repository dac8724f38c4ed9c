/* Device trust bundles (SPEC §7): every root a device should hold, encoded in the forms firmware teams paste in. */
#ifndef IOTCA_BUNDLE_H
#define IOTCA_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "iotca/buf.h"
#include "iotca/key.h"

/* The bundle encodings. Every one is deterministic: the same roots in the
 * same order give the same bytes (no timestamps inside), so a bundle can be
 * rebuilt offline and compared byte for byte with what the daemon serves. */
typedef enum iotca_bundle_format {
    IOTCA_BUNDLE_PEM,        /* "pem": PEM certificates, each after a '#' comment (subject, notAfter, SHA-256) */
    IOTCA_BUNDLE_PEM0,       /* "pem0": the same plus a terminating NUL, counted in the length (mbedTLS, Zephyr) */
    IOTCA_BUNDLE_DER,        /* "der": a POSIX ustar archive, one NN-name.der file per root */
    IOTCA_BUNDLE_C,          /* "c": a C header of DER arrays, a {der, len} table and a count */
    IOTCA_BUNDLE_BEARSSL,    /* "bearssl": br_x509_trust_anchor TAs[] / TAs_NUM as `brssl ta` prints them */
    IOTCA_BUNDLE_ESP,        /* "esp": ESP-IDF >= 5.4 certificate bundle (u32 LE offset table) */
    IOTCA_BUNDLE_ESP_LEGACY, /* "esp-legacy": ESP-IDF <= 5.3 certificate bundle (u16 BE count) */
    IOTCA_BUNDLE_PINS,       /* "pins": "sha256/BASE64 NOTAFTER SUBJECT" per root (RFC 7469 pin form) */
} iotca_bundle_format;
#define IOTCA_BUNDLE_FORMAT_COUNT 8

/* The version of each encoding's layout as iotca writes it; bumped when the
 * bytes change for the same roots. Recorded in every manifest. */
#define IOTCA_BUNDLE_FORMAT_VERSION 1

/* Most roots in one bundle: ESP-IDF's reader refuses more than
 * CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_MAX_CERTS (default 200). */
#define IOTCA_BUNDLE_MAX_ROOTS 200

/* "pem", "pem0", ... ; IOTCA_E_USAGE naming every accepted name otherwise. */
iotca_rc iotca_bundle_format_parse(const char *name, iotca_bundle_format *out);
const char *iotca_bundle_format_name(iotca_bundle_format f);
/* "pem, pem0, der, c, bearssl, esp, esp-legacy, pins" (a static string). */
const char *iotca_bundle_format_names(void);

/* One root of a bundle, as the manifest lists it. Slices point into the
 * bundle's own copy of the DER and live as long as the bundle. */
#define IOTCA_BUNDLE_PIN_LEN 52 /* "sha256/" + 44 base64 characters + NUL */
typedef struct iotca_bundle_root {
    iotca_slice der, subject_der, spki;
    const char *subject;    /* one-line form, "O=ACME, CN=ACME IoT Root R1"; valid UTF-8 (bad bytes '?') */
    const char *cn;         /* the first CN, "" if none */
    uint8_t sha256[32];     /* fingerprint: SHA-256 of the DER */
    uint8_t spki_sha256[32];/* SHA-256 of the SubjectPublicKeyInfo (RFC 7469 pin) */
    char pin[IOTCA_BUNDLE_PIN_LEN]; /* "sha256/" + base64 of spki_sha256 */
    time_t not_before, not_after;
    iotca_key_type key_type;
} iotca_bundle_root;

/* A validated set of roots, opaque. */
typedef struct iotca_bundle iotca_bundle;

/* Builds a bundle from DER certificates (copied; the caller keeps its own).
 * Only self-signed CA certificates are accepted: devices trust roots, never
 * intermediates or leaves (SPEC §1). The same certificate given twice is
 * kept once. Errors: IOTCA_E_USAGE no roots or more than
 * IOTCA_BUNDLE_MAX_ROOTS; IOTCA_E_PARSE a certificate does not parse (its
 * 1-based position is named); IOTCA_E_POLICY not a CA, not self-signed, or a
 * key type iotca does not verify. Caller frees *out. */
iotca_rc iotca_bundle_new(const iotca_slice *roots, size_t n_roots, iotca_bundle **out);
void iotca_bundle_free(iotca_bundle *b);
/* The roots after de-duplication, in the order given. */
size_t iotca_bundle_root_count(const iotca_bundle *b);
const iotca_bundle_root *iotca_bundle_root_get(const iotca_bundle *b, size_t i);

/* What a bundle release holds: its format and version, when it was made, the
 * SHA-256 and size of the encoded bytes, and every root. `roots` is borrowed
 * from the bundle. JSON is made from it by server/ and tools/. */
typedef struct iotca_bundle_manifest {
    const char *format;
    unsigned format_version;
    time_t generated_at;
    uint8_t bundle_sha256[32];
    size_t bundle_len;
    const iotca_bundle_root *roots;
    size_t n_roots;
} iotca_bundle_manifest;

/* Encodes the bundle in format f, appending to out, and fills *manifest
 * (may be NULL) stamped with generated_at. Errors: IOTCA_E_USAGE bad
 * format; IOTCA_E_POLICY the format cannot carry these roots (an Ed25519 root
 * for bearssl or esp, whose stacks have no Ed25519; two roots with the same
 * subject but different keys for stacks that pick an anchor by subject
 * alone: bearssl, esp, esp-legacy). On failure out is left as it was. */
iotca_rc iotca_bundle_encode(const iotca_bundle *b, iotca_bundle_format f, time_t generated_at, iotca_buf *out,
                             iotca_bundle_manifest *manifest);

/* ---- ustar (POSIX.1-1988 / pax "ustar" interchange format) ---- */

/* Appends one regular file (mode 0644, owner 0:0) to a tar stream in out.
 * name: 1-99 bytes of printable ASCII without '/'; size below 8 GiB.
 * IOTCA_E_USAGE otherwise. */
iotca_rc iotca_tar_add(iotca_buf *out, const char *name, const uint8_t *data, size_t n, time_t mtime);
/* Appends the end-of-archive marker: two 512-byte zero blocks. */
iotca_rc iotca_tar_finish(iotca_buf *out);

#endif
