/* GET /v1/ca/bundle?format=...: the device trust bundle of the configured roots (SPEC §7), its manifest and pins as JSON.
 *
 * Every bundle answer carries the SHA-256 of its body in X-Iotca-Bundle-Sha256 (also its ETag, shortened) and
 * a Link to its manifest (rel="describedby"): GET /v1/ca/bundle?format=manifest&for=FORMAT returns format,
 * format_version, generated_at, bundle_sha256 (equal to that header), bundle_bytes and every root's subject,
 * SHA-256 fingerprint, SPKI SHA-256 and pin, notBefore and notAfter. The bundle bytes are deterministic, so
 * `iotca bundle --roots FILE` offline makes the same bytes from the same roots. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "v1.h"
#include "iotca/bundle.h"
#include "iotca/pem.h"
#include "iotca/json_views.h"

#define BUNDLE_MAX_AGE 300 /* roots change only with the config; caches revalidate with the ETag */
#define EXTRA_FORMATS "pins-json, manifest"

/* Content type and download name of each library format. */
static const struct {
    const char *type, *file;
} kinds[IOTCA_BUNDLE_FORMAT_COUNT] = {
    [IOTCA_BUNDLE_PEM] = {"application/x-pem-file", "iotca-roots.pem"},
    [IOTCA_BUNDLE_PEM0] = {"application/octet-stream", "iotca-roots.pem0"},
    [IOTCA_BUNDLE_DER] = {"application/x-tar", "iotca-roots.tar"},
    [IOTCA_BUNDLE_C] = {"text/x-c", "iotca_trust_anchors.h"},
    [IOTCA_BUNDLE_BEARSSL] = {"text/x-c", "iotca_bearssl_tas.h"},
    [IOTCA_BUNDLE_ESP] = {"application/octet-stream", "x509_crt_bundle"},
    [IOTCA_BUNDLE_ESP_LEGACY] = {"application/octet-stream", "x509_crt_bundle"},
    [IOTCA_BUNDLE_PINS] = {"text/plain; charset=utf-8", "iotca-pins.txt"},
};

/* The configured roots as a bundle (built per request: a handful of certificates). */
static iotca_rc load_bundle(iotca_ca *ca, iotca_bundle **out) {
    size_t n = iotca_ca_root_count(ca);
    IOTCA_ENSURE(n > 0 && n <= IOTCA_BUNDLE_MAX_ROOTS, IOTCA_E_INTERNAL, "%zu roots configured", n);
    iotca_buf der[IOTCA_BUNDLE_MAX_ROOTS];
    iotca_slice s[IOTCA_BUNDLE_MAX_ROOTS];
    iotca_rc rc = IOTCA_OK;
    size_t got = 0;
    for (; got < n && rc == IOTCA_OK; got++) {
        iotca_buf pem = {0}, subj = {0};
        uint8_t pin[32];
        time_t na;
        der[got] = (iotca_buf){0};
        rc = iotca_ca_root(ca, got, &pem, pin, &na, &subj);
        if (rc == IOTCA_OK) rc = iotca_pem_or_der(iotca_buf_slice(&pem), "CERTIFICATE", &der[got]);
        s[got] = iotca_buf_slice(&der[got]);
        iotca_buf_free(&pem);
        iotca_buf_free(&subj);
    }
    if (rc == IOTCA_OK) rc = iotca_bundle_new(s, n, out);
    for (size_t i = 0; i < got; i++) iotca_buf_free(&der[i]);
    return rc;
}

static void set_header(response *out, size_t slot, const char *name, const char *value) {
    out->header_name[slot] = name;
    snprintf(out->header_value[slot], sizeof out->header_value[slot], "%s", value);
}

void api_bundle(request *r, const char *const *p, response *out) {
    (void)p;
    const char *name = query(r, "format"), *of = query(r, "for");
    bool manifest = name && strcmp(name, "manifest") == 0, pins = name && strcmp(name, "pins-json") == 0;
    iotca_bundle_format f;
    if (!manifest && !pins && iotca_bundle_format_parse(name, &f) != IOTCA_OK) {
        respond_error(out, 400, "bad_format", "%s format: use one of %s, " EXTRA_FORMATS,
                      name ? "unknown bundle" : "no bundle", iotca_bundle_format_names());
        return;
    }
    if (manifest && iotca_bundle_format_parse(of ? of : "pem", &f) != IOTCA_OK) {
        respond_error(out, 400, "bad_format", "format=manifest&for=F: F is one of %s", iotca_bundle_format_names());
        return;
    }
    if (!manifest && of) {
        respond_error(out, 400, "bad_request", "'for' belongs with format=manifest");
        return;
    }
    iotca_bundle *b = NULL;
    iotca_buf body = {0};
    iotca_bundle_manifest m;
    iotca_rc rc = load_bundle(r->srv->ca, &b);
    if (rc == IOTCA_OK && pins) {
        respond_json(out, 200, iotca_bundle_pins_json(b));
        goto done;
    }
    if (rc == IOTCA_OK) rc = iotca_bundle_encode(b, f, time(NULL), &body, &m);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        goto done;
    }
    if (manifest) {
        respond_json(out, 200, iotca_bundle_manifest_json(&m));
        goto done;
    }
    iotca_buf hex = {0};
    if (iotca_hex_encode(m.bundle_sha256, 32, &hex) != IOTCA_OK) {
        respond_rc(r, out, IOTCA_E_INTERNAL);
        goto done;
    }
    char link[128], disp[96];
    snprintf(link, sizeof link, "</v1/ca/bundle?format=manifest&for=%s>; rel=\"describedby\"", m.format);
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", kinds[f].file);
    set_header(out, 0, "X-Iotca-Bundle-Sha256", (const char *)hex.data);
    set_header(out, 1, "Link", link);
    set_header(out, 2, "Content-Disposition", disp);
    snprintf(out->etag, sizeof out->etag, "\"%.32s\"", (const char *)hex.data);
    out->max_age = BUNDLE_MAX_AGE;
    iotca_buf_free(&hex);
    const char *inm = header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && strcmp(inm, out->etag) == 0) respond_text(out, 304, kinds[f].type, "", 0);
    else respond_text(out, 200, kinds[f].type, (const char *)body.data, body.len);
done:
    iotca_buf_free(&body);
    iotca_bundle_free(b);
}
