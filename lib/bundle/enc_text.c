/* The text bundles: "pem" and "pem0" (mbedTLS wants the NUL counted), "pins" (RFC 7469 form), and the "c" header. */
#include <stdio.h>
#include <string.h>

#include "bundle_int.h"
#include "iotca/pem.h"

iotca_rc bundle_enc_pem(const iotca_bundle *b, bool nul, iotca_buf *out) {
    for (size_t i = 0; i < b->n; i++) {
        const iotca_bundle_root *r = &b->roots[i];
        char na[32];
        bundle_time(r->not_after, na);
        /* text outside the BEGIN/END lines is ignored by OpenSSL, GnuTLS, mbedTLS and wolfSSL (RFC 7468 §2) */
        IOTCA_GUARD(iotca_buf_printf(out, "%s# Subject:   %s\n# Not after: %s\n# SHA-256:   ", i ? "\n" : "",
                                     r->subject, na));
        IOTCA_GUARD(bundle_fp_colon(r->sha256, out));
        IOTCA_GUARD(iotca_buf_append_byte(out, '\n'));
        IOTCA_GUARD(iotca_pem_encode("CERTIFICATE", r->der.p, r->der.len, out));
    }
    /* mbedtls_x509_crt_parse() treats a buffer as PEM only if its last counted byte is the NUL */
    if (nul) IOTCA_GUARD(iotca_buf_append_byte(out, 0));
    return IOTCA_OK;
}

iotca_rc bundle_enc_pins(const iotca_bundle *b, iotca_buf *out) {
    for (size_t i = 0; i < b->n; i++) {
        const iotca_bundle_root *r = &b->roots[i];
        /* one line per key: a root re-issued with the same key stays pinned until the later notAfter */
        bool seen = false;
        time_t until = r->not_after;
        for (size_t k = 0; k < b->n; k++) {
            if (memcmp(b->roots[k].spki_sha256, r->spki_sha256, 32) != 0) continue;
            if (k < i) seen = true;
            if (b->roots[k].not_after > until) until = b->roots[k].not_after;
        }
        if (seen) continue;
        char na[32];
        bundle_time(until, na);
        IOTCA_GUARD(iotca_buf_printf(out, "%s %s %s\n", r->pin, na, r->subject));
    }
    return IOTCA_OK;
}

/* The comment block above each root's array in the C header. */
static iotca_rc c_root_comment(iotca_buf *out, const iotca_bundle_root *r, size_t pos) {
    char na[32];
    bundle_time(r->not_after, na);
    IOTCA_GUARD(iotca_buf_printf(out, "/* Root %zu: ", pos));
    IOTCA_GUARD(bundle_c_comment(r->subject, out));
    IOTCA_GUARD(iotca_buf_printf(out, "\n *   not after  %s\n *   SHA-256    ", na));
    IOTCA_GUARD(bundle_fp_colon(r->sha256, out));
    IOTCA_GUARD(iotca_buf_printf(out, "\n *   SPKI pin   %s\n */\n", r->pin));
    return IOTCA_OK;
}

iotca_rc bundle_enc_c(const iotca_bundle *b, iotca_buf *out) {
    IOTCA_GUARD(iotca_buf_printf(
        out,
        "/* Device trust anchors: %zu root certificate%s (DER), for mbedTLS and wolfSSL.\n"
        " * Made by iotca (bundle format c, version %d); do not edit, regenerate with `iotca bundle --format c`.\n"
        " * Devices must hold every root listed here, the backup included (SPEC section 1).\n"
        " *\n"
        " * mbedTLS:\n"
        " *     for (size_t i = 0; i < IOTCA_TRUST_ANCHOR_COUNT; i++)\n"
        " *         mbedtls_x509_crt_parse_der(&cacert, iotca_trust_anchors[i].der, iotca_trust_anchors[i].len);\n"
        " * wolfSSL:\n"
        " *     wolfSSL_CTX_load_verify_buffer(ctx, iotca_trust_anchors[i].der, (long)iotca_trust_anchors[i].len,\n"
        " *                                    WOLFSSL_FILETYPE_ASN1);\n"
        " *     (or wolfSSL_CertManagerLoadCABuffer(cm, ...) with the same arguments)\n"
        " */\n"
        "#ifndef IOTCA_TRUST_ANCHORS_H\n"
        "#define IOTCA_TRUST_ANCHORS_H\n\n"
        "#include <stddef.h>\n\n",
        b->n, b->n == 1 ? "" : "s", IOTCA_BUNDLE_FORMAT_VERSION));
    for (size_t i = 0; i < b->n; i++) {
        IOTCA_GUARD(c_root_comment(out, &b->roots[i], i + 1));
        IOTCA_GUARD(iotca_buf_printf(out, "static const unsigned char iotca_root_%zu[%zu] = {\n", i + 1,
                                     b->roots[i].der.len));
        IOTCA_GUARD(bundle_c_bytes(out, b->roots[i].der, "    ", 12, false));
        IOTCA_GUARD(iotca_buf_append_str(out, "};\n\n"));
    }
    IOTCA_GUARD(iotca_buf_append_str(out, "typedef struct iotca_trust_anchor {\n"
                                          "    const unsigned char *der;\n"
                                          "    size_t len;\n"
                                          "} iotca_trust_anchor;\n\n"
                                          "static const iotca_trust_anchor iotca_trust_anchors[] = {\n"));
    for (size_t i = 0; i < b->n; i++)
        IOTCA_GUARD(iotca_buf_printf(out, "    {iotca_root_%zu, sizeof iotca_root_%zu},\n", i + 1, i + 1));
    return iotca_buf_printf(out,
                            "};\n\n"
                            "#define IOTCA_TRUST_ANCHOR_COUNT %zu\n\n"
                            "#endif /* IOTCA_TRUST_ANCHORS_H */\n",
                            b->n);
}
