/* Internals shared by the bundle encoders: the root set and small text helpers. */
#ifndef IOTCA_BUNDLE_INT_H
#define IOTCA_BUNDLE_INT_H

#include "iotca/bundle.h"
#include "iotca/x509.h"

struct iotca_bundle {
    size_t n;
    iotca_bundle_root *roots;
    iotca_cert **certs; /* owns the DER the roots' slices point into */
    iotca_buf *text;    /* 2 per root: subject (one line), CN */
};

/* One encoder per format; each appends to out (left partly written on failure: the caller rolls back). */
iotca_rc bundle_enc_pem(const iotca_bundle *b, bool nul, iotca_buf *out);
iotca_rc bundle_enc_der(const iotca_bundle *b, iotca_buf *out);
iotca_rc bundle_enc_c(const iotca_bundle *b, iotca_buf *out);
iotca_rc bundle_enc_bearssl(const iotca_bundle *b, iotca_buf *out);
iotca_rc bundle_enc_esp(const iotca_bundle *b, bool legacy, iotca_buf *out);
iotca_rc bundle_enc_pins(const iotca_bundle *b, iotca_buf *out);

/* RFC 3339 UTC, "2051-11-23T14:17:46Z". */
void bundle_time(time_t t, char out[32]);
/* "AB:CD:..." (upper case, colons), as `openssl x509 -fingerprint` prints it. */
iotca_rc bundle_fp_colon(const uint8_t h[32], iotca_buf *out);
/* Appends s for use inside a C block comment: printable ASCII kept, other
 * bytes and '\\' as \xNN, and '*' and '/' never adjacent, so a name can
 * neither end the comment nor open a nested one. */
iotca_rc bundle_c_comment(const char *s, iotca_buf *out);
/* Appends `data` as C initialiser lines: `per_line` bytes a line, each line
 * starting with indent, "0xAB" (upper) or "0xab" (lower), comma-separated. */
iotca_rc bundle_c_bytes(iotca_buf *out, iotca_slice data, const char *indent, int per_line, bool upper);
/* Standard base64 (RFC 4648 §4) with padding, NUL-terminated; out holds 4*ceil(n/3)+1. */
void bundle_base64(const uint8_t *in, size_t n, char *out);
/* The distinct trust anchors by (subject, SPKI), in input order, for the
 * formats that carry only a name and a key. IOTCA_E_POLICY when two roots
 * share a subject but not a key, or (no_ed25519) a root has an Ed25519 key;
 * fmt names the format in the message. idx receives up to b->n indexes. */
iotca_rc bundle_anchors(const iotca_bundle *b, const char *fmt, bool no_ed25519, size_t *idx, size_t *n_idx);

#endif
