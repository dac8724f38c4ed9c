/* JSON views shared by iotcad and iotca: times, hex, and the bundle manifest and pins documents. */
#include <stdio.h>
#include <string.h>

#include "iotca/json_views.h"

json_t *iotca_json_time(time_t t) {
    if (t == 0) return json_null();
    char s[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(s);
}

json_t *iotca_json_hex(const uint8_t *h, size_t n) {
    iotca_buf hex = {0};
    json_t *j = iotca_hex_encode(h, n, &hex) == IOTCA_OK ? json_string((const char *)hex.data) : json_null();
    iotca_buf_free(&hex);
    return j;
}

json_t *iotca_bundle_manifest_json(const iotca_bundle_manifest *m) {
    json_t *roots = json_array();
    for (size_t i = 0; i < m->n_roots; i++) {
        const iotca_bundle_root *r = &m->roots[i];
        json_array_append_new(roots, json_pack("{s:s, s:o, s:o, s:s, s:s, s:o, s:o}", "subject", r->subject,
                                               "sha256_fingerprint", iotca_json_hex(r->sha256, 32), "spki_sha256",
                                               iotca_json_hex(r->spki_sha256, 32), "pin", r->pin, "key_type",
                                               iotca_key_type_name(r->key_type), "not_before",
                                               iotca_json_time(r->not_before), "not_after",
                                               iotca_json_time(r->not_after)));
    }
    char url[64];
    snprintf(url, sizeof url, "/v1/ca/bundle?format=%s", m->format);
    json_t *doc = json_pack("{s:s, s:i, s:o, s:s, s:o, s:I, s:o}", "format", m->format, "format_version",
                            (int)m->format_version, "generated_at", iotca_json_time(m->generated_at), "url", url,
                            "bundle_sha256", iotca_json_hex(m->bundle_sha256, 32), "bundle_bytes",
                            (json_int_t)m->bundle_len, "roots", roots);
    if (doc && m->n_roots < 2)
        json_object_set_new(doc, "warning",
                            json_string("only one root is configured: devices need a second, independent root"));
    return doc;
}

json_t *iotca_bundle_pins_json(const iotca_bundle *b) {
    json_t *pins = json_array();
    size_t n = iotca_bundle_root_count(b);
    for (size_t i = 0; i < n; i++) {
        const iotca_bundle_root *r = iotca_bundle_root_get(b, i);
        bool seen = false;
        time_t until = r->not_after;
        for (size_t k = 0; k < n; k++) {
            const iotca_bundle_root *o = iotca_bundle_root_get(b, k);
            if (memcmp(o->spki_sha256, r->spki_sha256, 32) != 0) continue;
            if (k < i) seen = true;
            if (o->not_after > until) until = o->not_after;
        }
        if (!seen)
            json_array_append_new(pins, json_pack("{s:s, s:s, s:o, s:o, s:s}", "pin", r->pin, "spki_sha256_base64",
                                                  r->pin + 7, "spki_sha256", iotca_json_hex(r->spki_sha256, 32),
                                                  "not_after", iotca_json_time(until), "subject", r->subject));
    }
    return json_pack("{s:s, s:i, s:o}", "format", "pins", "format_version", IOTCA_BUNDLE_FORMAT_VERSION, "pins", pins);
}
