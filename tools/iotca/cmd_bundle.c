/* iotca bundle: the device trust bundle of SPEC §7, from the daemon (public endpoint) or built offline from a roots file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "iotca/bundle.h"
#include "iotca/file.h"
#include "iotca/json_views.h"

/* Formats only the JSON answers of the daemon (or this command offline) have, besides the library's. */
#define FORMAT_MANIFEST "manifest"
#define FORMAT_PINS_JSON "pins-json"

/* Appends the JSON text of doc (consumed), newline-terminated, to out. */
static iotca_rc json_to(json_t *doc, iotca_buf *out) {
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    IOTCA_ENSURE(s != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = iotca_buf_append_str(out, s);
    free(s);
    return rc == IOTCA_OK ? iotca_buf_append_byte(out, '\n') : rc;
}

/* Offline: the bundle (and its manifest, if asked) from the roots in a PEM or DER file. */
static iotca_rc build_offline(const cli *c, const char *name, iotca_buf *body, iotca_buf *manifest) {
    iotca_buf der[IOTCA_BUNDLE_MAX_ROOTS] = {{0}};
    iotca_slice s[IOTCA_BUNDLE_MAX_ROOTS];
    size_t n = 0;
    iotca_bundle *b = NULL;
    iotca_bundle_format f = IOTCA_BUNDLE_PEM;
    bool is_manifest = strcmp(name, FORMAT_MANIFEST) == 0, is_pins = strcmp(name, FORMAT_PINS_JSON) == 0;
    iotca_bundle_manifest m;
    iotca_buf scratch = {0};
    iotca_rc rc = load_certs(c->roots, der, IOTCA_BUNDLE_MAX_ROOTS, &n);
    for (size_t i = 0; i < n; i++) s[i] = iotca_buf_slice(&der[i]);
    if (rc == IOTCA_OK) rc = iotca_bundle_new(s, n, &b);
    if (rc == IOTCA_OK && !is_manifest && !is_pins) rc = iotca_bundle_format_parse(name, &f);
    if (rc == IOTCA_OK && is_pins) rc = json_to(iotca_bundle_pins_json(b), body);
    else if (rc == IOTCA_OK && is_manifest) {
        rc = iotca_bundle_encode(b, f, time(NULL), &scratch, &m); /* the manifest of the pem bundle */
        if (rc == IOTCA_OK) rc = json_to(iotca_bundle_manifest_json(&m), body);
    } else if (rc == IOTCA_OK) {
        rc = iotca_bundle_encode(b, f, time(NULL), body, &m);
        if (rc == IOTCA_OK && manifest) rc = json_to(iotca_bundle_manifest_json(&m), manifest);
    }
    for (size_t i = 0; i < n; i++) iotca_buf_free(&der[i]);
    iotca_buf_free(&scratch);
    iotca_bundle_free(b);
    return rc;
}

/* GET /v1/ca/bundle with the query "?format=F" or "?format=manifest&for=F" into out. */
static int get_bundle(const cli *c, const char *format, const char *of, iotca_buf *out) {
    iotca_buf q = {0}, path = {0};
    int code = EXIT_LOCAL;
    if (http_query_add(&q, "format", format) == IOTCA_OK && (of == NULL || http_query_add(&q, "for", of) == IOTCA_OK) &&
        iotca_buf_printf(&path, "/v1/ca/bundle%.*s", (int)q.len, (const char *)q.data) == IOTCA_OK &&
        iotca_buf_cstr(&path) == IOTCA_OK)
        code = http_text(c, (const char *)path.data, out);
    else cli_err("out of memory");
    iotca_buf_free(&q);
    iotca_buf_free(&path);
    return code;
}

/* Online: the public endpoint (no token needed), and the bundle's manifest if asked. */
static int fetch(const cli *c, const char *name, iotca_buf *body, iotca_buf *manifest) {
    int code = get_bundle(c, name, NULL, body);
    if (code == EXIT_OK && manifest) code = get_bundle(c, "manifest", name, manifest);
    return code;
}

static bool binary_format(const char *name) {
    return strcmp(name, "pem0") == 0 || strcmp(name, "der") == 0 || strcmp(name, "esp") == 0 ||
           strcmp(name, "esp-legacy") == 0;
}

int cmd_bundle(cli *c) {
    const char *name = c->format;
    iotca_bundle_format f;
    bool json_format = name && (strcmp(name, FORMAT_MANIFEST) == 0 || strcmp(name, FORMAT_PINS_JSON) == 0);
    iotca_rc rc = IOTCA_OK;
    if (name == NULL)
        rc = iotca_error_set(IOTCA_E_USAGE, "bundle needs --format (%s, " FORMAT_PINS_JSON ", " FORMAT_MANIFEST ")",
                             iotca_bundle_format_names());
    else if (!json_format && iotca_bundle_format_parse(name, &f) != IOTCA_OK)
        rc = iotca_error_set(IOTCA_E_USAGE, "unknown bundle format '%s' (use one of: %s, " FORMAT_PINS_JSON
                                            ", " FORMAT_MANIFEST ")",
                             name, iotca_bundle_format_names());
    else if (json_format && c->manifest_out)
        rc = iotca_error_set(IOTCA_E_USAGE, "--manifest-out goes with a bundle format, not --format %s", name);
    else if (c->out == NULL && binary_format(name) && isatty(STDOUT_FILENO))
        rc = iotca_error_set(IOTCA_E_USAGE, "--format %s is binary: give --out FILE or redirect standard output", name);
    if (rc == IOTCA_OK && c->out) rc = out_path_free("--out", c->out);
    if (rc == IOTCA_OK && c->manifest_out) rc = out_path_free("--manifest-out", c->manifest_out);
    if (rc == IOTCA_OK && c->out && c->manifest_out && strcmp(c->out, c->manifest_out) == 0)
        rc = iotca_error_set(IOTCA_E_USAGE, "--out and --manifest-out name the same file");
    if (rc == IOTCA_OK && c->roots == NULL) rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);

    iotca_buf body = {0}, manifest = {0};
    int code = EXIT_OK;
    if (c->roots) { /* offline: nothing is sent anywhere */
        rc = build_offline(c, name, &body, c->manifest_out ? &manifest : NULL);
        if (rc != IOTCA_OK) code = cli_report(rc);
    } else {
        code = fetch(c, name, &body, c->manifest_out ? &manifest : NULL);
    }
    if (code == EXIT_OK && c->manifest_out &&
        iotca_file_create(c->manifest_out, manifest.data, manifest.len, 0644) != IOTCA_OK) {
        cli_err("--manifest-out: %s", iotca_error_detail());
        code = EXIT_LOCAL;
    }
    if (code == EXIT_OK && c->out && iotca_file_create(c->out, body.data, body.len, 0644) != IOTCA_OK) {
        cli_err("--out: %s", iotca_error_detail());
        code = EXIT_LOCAL;
    } else if (code == EXIT_OK && c->out) {
        printf("wrote the %s bundle (%zu bytes) to %s\n", name, body.len, c->out);
    } else if (code == EXIT_OK) {
        fwrite(body.data, 1, body.len, stdout);
    }
    iotca_buf_free(&body);
    iotca_buf_free(&manifest);
    return code;
}
