/* Device trust bundles: the validated root set, format names, the manifest, and helpers the encoders share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_int.h"

static const char *const format_names[IOTCA_BUNDLE_FORMAT_COUNT] = {
    [IOTCA_BUNDLE_PEM] = "pem",         [IOTCA_BUNDLE_PEM0] = "pem0",       [IOTCA_BUNDLE_DER] = "der",
    [IOTCA_BUNDLE_C] = "c",             [IOTCA_BUNDLE_BEARSSL] = "bearssl", [IOTCA_BUNDLE_ESP] = "esp",
    [IOTCA_BUNDLE_ESP_LEGACY] = "esp-legacy", [IOTCA_BUNDLE_PINS] = "pins",
};

const char *iotca_bundle_format_names(void) { return "pem, pem0, der, c, bearssl, esp, esp-legacy, pins"; }

iotca_rc iotca_bundle_format_parse(const char *name, iotca_bundle_format *out) {
    for (int i = 0; name && i < IOTCA_BUNDLE_FORMAT_COUNT; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (iotca_bundle_format)i;
            return IOTCA_OK;
        }
    }
    IOTCA_BAIL(IOTCA_E_USAGE, "unknown bundle format '%.40s' (use one of: %s)", name ? name : "",
               iotca_bundle_format_names());
}

const char *iotca_bundle_format_name(iotca_bundle_format f) {
    return (unsigned)f < IOTCA_BUNDLE_FORMAT_COUNT ? format_names[f] : "?";
}

void iotca_bundle_free(iotca_bundle *b) {
    if (b == NULL) return;
    for (size_t i = 0; i < b->n; i++) {
        iotca_cert_free(b->certs[i]);
        iotca_buf_free(&b->text[2 * i]);
        iotca_buf_free(&b->text[2 * i + 1]);
    }
    free(b->roots);
    free(b->certs);
    free(b->text);
    free(b);
}

size_t iotca_bundle_root_count(const iotca_bundle *b) { return b->n; }

const iotca_bundle_root *iotca_bundle_root_get(const iotca_bundle *b, size_t i) {
    return i < b->n ? &b->roots[i] : NULL;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no overlongs, surrogates or values past
 * U+10FFFF), or 0 if there is none. */
static size_t utf8_len(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n) return 0;
    uint8_t lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c == 0xe0) lo = 0xa0;
    else if (c == 0xed) hi = 0x9f;
    else if (c == 0xf0) lo = 0x90;
    else if (c == 0xf4) hi = 0x8f;
    for (size_t i = 1; i < len; i++) {
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf)) return 0;
    }
    return len;
}

/* The subject goes into JSON manifests and comments: a byte that starts no well-formed UTF-8 sequence
 * (a Latin-1 name in a T61String, say) becomes '?'. */
static void utf8_clean(iotca_buf *b) {
    for (size_t i = 0; i < b->len;) {
        size_t l = utf8_len(b->data + i, b->len - i);
        if (l == 0) b->data[i++] = '?';
        else i += l;
    }
}

/* Checks one certificate (1-based position pos) and fills root i from it. */
static iotca_rc add_root(iotca_bundle *b, iotca_cert *c, size_t pos) {
    const iotca_cert_info *ci = iotca_cert_get(c);
    size_t i = b->n;
    iotca_buf *subj = &b->text[2 * i], *cn = &b->text[2 * i + 1];
    IOTCA_GUARD(iotca_name_format(ci->subject, subj));
    IOTCA_GUARD(iotca_name_cn(ci->subject, cn));
    utf8_clean(subj);
    /* SPEC §1: devices trust roots, never intermediates or leaves; a pinned
     * intermediate strands the fleet at the next rotation. */
    IOTCA_ENSURE(ci->has_basic_constraints && ci->is_ca, IOTCA_E_POLICY,
                 "certificate %zu (%s) is not a CA: only roots belong in a device bundle", pos, (char *)subj->data);
    IOTCA_ENSURE(ci->key_type_supported, IOTCA_E_POLICY, "certificate %zu (%s) has a key type iotca does not accept",
                 pos, (char *)subj->data);
    IOTCA_ENSURE(iotca_slice_eq(ci->issuer, ci->subject) && iotca_cert_verify_signed_by(c, c) == IOTCA_OK,
                 IOTCA_E_POLICY,
                 "certificate %zu (%s) is not a self-signed root: devices must trust roots, never intermediates "
                 "(they break at the next rotation)",
                 pos, (char *)subj->data);
    iotca_bundle_root *r = &b->roots[i];
    r->der = ci->der;
    r->subject_der = ci->subject;
    r->spki = ci->spki;
    r->subject = (const char *)subj->data;
    r->cn = (const char *)cn->data;
    iotca_cert_fingerprint(c, r->sha256);
    iotca_cert_spki_pin(c, r->spki_sha256);
    memcpy(r->pin, "sha256/", 7);
    bundle_base64(r->spki_sha256, 32, r->pin + 7);
    r->not_before = ci->not_before;
    r->not_after = ci->not_after;
    r->key_type = ci->key_type;
    b->certs[i] = c;
    b->n++;
    return IOTCA_OK;
}

iotca_rc iotca_bundle_new(const iotca_slice *roots, size_t n_roots, iotca_bundle **out) {
    IOTCA_ENSURE(n_roots > 0 && roots != NULL, IOTCA_E_USAGE,
                 "a bundle needs at least one root (a fleet should hold two: primary and backup)");
    IOTCA_ENSURE(n_roots <= IOTCA_BUNDLE_MAX_ROOTS, IOTCA_E_USAGE, "at most %d roots in a bundle",
                 IOTCA_BUNDLE_MAX_ROOTS);
    iotca_bundle *b = calloc(1, sizeof *b);
    IOTCA_ENSURE(b != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = IOTCA_OK;
    b->roots = calloc(n_roots, sizeof *b->roots);
    b->certs = calloc(n_roots, sizeof *b->certs);
    b->text = calloc(2 * n_roots, sizeof *b->text);
    IOTCA_CHECK(b->roots && b->certs && b->text, IOTCA_E_INTERNAL, "out of memory");
    for (size_t k = 0; k < n_roots; k++) {
        iotca_cert *c = NULL;
        rc = iotca_cert_parse(roots[k], &c);
        if (rc != IOTCA_OK) {
            char why[256];
            snprintf(why, sizeof why, "%s", iotca_error_detail());
            rc = iotca_error_set(rc, "root %zu: %s", k + 1, why);
            goto out;
        }
        bool dup = false;
        for (size_t j = 0; j < b->n && !dup; j++) dup = iotca_slice_eq(b->roots[j].der, iotca_cert_get(c)->der);
        if (dup) { /* the same certificate twice: one anchor */
            iotca_cert_free(c);
            continue;
        }
        rc = add_root(b, c, k + 1);
        if (rc != IOTCA_OK) {
            iotca_buf_free(&b->text[2 * b->n]);
            iotca_buf_free(&b->text[2 * b->n + 1]);
            iotca_cert_free(c);
            goto out;
        }
    }
    *out = b;
    return IOTCA_OK;
out:
    iotca_bundle_free(b);
    return rc;
}

iotca_rc iotca_bundle_encode(const iotca_bundle *b, iotca_bundle_format f, time_t generated_at, iotca_buf *out,
                             iotca_bundle_manifest *manifest) {
    IOTCA_ENSURE(b != NULL && out != NULL, IOTCA_E_USAGE, "no bundle");
    size_t start = out->len;
    iotca_rc rc;
    switch (f) {
    case IOTCA_BUNDLE_PEM: rc = bundle_enc_pem(b, false, out); break;
    case IOTCA_BUNDLE_PEM0: rc = bundle_enc_pem(b, true, out); break;
    case IOTCA_BUNDLE_DER: rc = bundle_enc_der(b, out); break;
    case IOTCA_BUNDLE_C: rc = bundle_enc_c(b, out); break;
    case IOTCA_BUNDLE_BEARSSL: rc = bundle_enc_bearssl(b, out); break;
    case IOTCA_BUNDLE_ESP: rc = bundle_enc_esp(b, false, out); break;
    case IOTCA_BUNDLE_ESP_LEGACY: rc = bundle_enc_esp(b, true, out); break;
    case IOTCA_BUNDLE_PINS: rc = bundle_enc_pins(b, out); break;
    default: IOTCA_BAIL(IOTCA_E_USAGE, "unknown bundle format %d", (int)f);
    }
    if (rc != IOTCA_OK) {
        out->len = start; /* nothing half-written stays behind */
        return rc;
    }
    if (manifest) {
        memset(manifest, 0, sizeof *manifest);
        manifest->format = iotca_bundle_format_name(f);
        manifest->format_version = IOTCA_BUNDLE_FORMAT_VERSION;
        manifest->generated_at = generated_at;
        manifest->bundle_len = out->len - start;
        iotca_sha256(iotca_slice_of(out->data + start, out->len - start), manifest->bundle_sha256);
        manifest->roots = b->roots;
        manifest->n_roots = b->n;
    }
    return IOTCA_OK;
}

iotca_rc bundle_anchors(const iotca_bundle *b, const char *fmt, bool no_ed25519, size_t *idx, size_t *n_idx) {
    *n_idx = 0;
    for (size_t i = 0; i < b->n; i++) {
        const iotca_bundle_root *r = &b->roots[i];
        IOTCA_ENSURE(!no_ed25519 || r->key_type != IOTCA_KEY_ED25519, IOTCA_E_POLICY,
                     "root %s has an Ed25519 key, which %s cannot use as a trust anchor; give this fleet an ECDSA "
                     "or RSA root",
                     r->subject, fmt);
        bool same = false;
        for (size_t k = 0; k < *n_idx && !same; k++) {
            const iotca_bundle_root *o = &b->roots[idx[k]];
            if (!iotca_slice_eq(o->subject_der, r->subject_der)) continue;
            /* BearSSL and ESP-IDF find an anchor by its subject DN (memcmp) and use that one key */
            IOTCA_ENSURE(iotca_slice_eq(o->spki, r->spki), IOTCA_E_POLICY,
                         "two roots named %s carry different keys; %s picks an anchor by subject alone, so one "
                         "of them would never verify",
                         r->subject, fmt);
            same = true; /* a re-issued root with the same name and key: one anchor */
        }
        if (!same) idx[(*n_idx)++] = i;
    }
    return IOTCA_OK;
}

/* ---- helpers ---- */

void bundle_time(time_t t, char out[32]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

iotca_rc bundle_fp_colon(const uint8_t h[32], iotca_buf *out) {
    for (int i = 0; i < 32; i++) IOTCA_GUARD(iotca_buf_printf(out, "%s%02X", i ? ":" : "", h[i]));
    return IOTCA_OK;
}

iotca_rc bundle_c_comment(const char *s, iotca_buf *out) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '\\') IOTCA_GUARD(iotca_buf_printf(out, "\\x%02x", *p));
        else if (p != (const unsigned char *)s && ((*p == '/' && p[-1] == '*') || (*p == '*' && p[-1] == '/')))
            IOTCA_GUARD(iotca_buf_printf(out, " %c", *p)); /* neither end a comment nor open one (-Wcomment) */
        else IOTCA_GUARD(iotca_buf_append_byte(out, *p));
    }
    return IOTCA_OK;
}

iotca_rc bundle_c_bytes(iotca_buf *out, iotca_slice data, const char *indent, int per_line, bool upper) {
    for (size_t i = 0; i < data.len; i++) {
        if (i % (size_t)per_line == 0) IOTCA_GUARD(iotca_buf_append_str(out, indent));
        IOTCA_GUARD(iotca_buf_printf(out, upper ? "0x%02X" : "0x%02x", data.p[i]));
        bool last = i + 1 == data.len, eol = last || (i + 1) % (size_t)per_line == 0;
        IOTCA_GUARD(iotca_buf_append_str(out, last ? "\n" : eol ? ",\n" : ", "));
    }
    return IOTCA_OK;
}

void bundle_base64(const uint8_t *in, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    out[o] = 0;
}
