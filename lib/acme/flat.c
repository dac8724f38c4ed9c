/* The flattened JWS JSON serialization (RFC 7515 §7.2.2) as ACME uses it (RFC 8555 §6.2), shared by JWS and EAB. */
#include <stdio.h>
#include <string.h>

#include "acme_int.h"

iotca_rc acme_json_object(iotca_slice text, const char *what, json_t **out) {
    json_error_t err;
    /* repeated names refused (RFC 7515 §5.2 step 4 lets a parser reject them; taking the last would let two
     * readers see two headers); NUL escapes and anything after the value are refused by default */
    json_t *v = json_loadb((const char *)text.p, text.len, JSON_REJECT_DUPLICATES, &err);
    IOTCA_ENSURE(v != NULL, IOTCA_E_PARSE, "%s: not JSON: %s (line %d, column %d)", what, err.text, err.line,
                 err.column);
    if (!json_is_object(v)) {
        json_decref(v);
        IOTCA_BAIL(IOTCA_E_PARSE, "%s: not a JSON object", what);
    }
    *out = v;
    return IOTCA_OK;
}

iotca_rc acme_header_string(const json_t *hdr, const char *name, bool required, char *dst, size_t cap,
                            const char *what) {
    const json_t *v = json_object_get(hdr, name);
    dst[0] = '\0';
    if (v == NULL) {
        IOTCA_ENSURE(!required, IOTCA_E_PARSE, "%s: protected header has no \"%s\"", what, name);
        return IOTCA_OK;
    }
    IOTCA_ENSURE(json_is_string(v), IOTCA_E_PARSE, "%s: protected \"%s\" is not a string", what, name);
    size_t n = json_string_length(v);
    IOTCA_ENSURE(n > 0, IOTCA_E_PARSE, "%s: protected \"%s\" is empty", what, name);
    IOTCA_ENSURE(n < cap, IOTCA_E_PARSE, "%s: protected \"%s\" is longer than %zu bytes", what, name, cap - 1);
    memcpy(dst, json_string_value(v), n + 1);
    return IOTCA_OK;
}

void acme_flat_free(acme_flat *f) {
    json_decref(f->root);
    json_decref(f->header);
    iotca_buf_free(&f->signing_input);
    iotca_buf_free(&f->signature);
    memset(f, 0, sizeof *f);
}

/* The string member `name` of the outer object, as sent. */
static iotca_rc outer_string(const json_t *root, const char *name, const char *what, const char **s, size_t *n) {
    const json_t *v = json_object_get(root, name);
    IOTCA_ENSURE(v != NULL, IOTCA_E_PARSE, "%s: member \"%s\" is missing", what, name);
    IOTCA_ENSURE(json_is_string(v), IOTCA_E_PARSE, "%s: member \"%s\" is not a string", what, name);
    *s = json_string_value(v);
    *n = json_string_length(v);
    return IOTCA_OK;
}

static iotca_rc flat_members(acme_flat *f, const char *what) {
    const char *key;
    json_t *v;
    /* RFC 8555 §6.2: no unprotected header ("header"), one signature: exactly these three members */
    json_object_foreach(f->root, key, v) {
        (void)v;
        IOTCA_ENSURE(strcmp(key, "protected") == 0 || strcmp(key, "payload") == 0 || strcmp(key, "signature") == 0,
                     IOTCA_E_PARSE, "%s: member \"%.64s\" is not allowed (only protected, payload, signature)", what,
                     key);
    }
    const char *prot = NULL, *sig = NULL;
    size_t prot_len = 0, sig_len = 0;
    IOTCA_GUARD(outer_string(f->root, "protected", what, &prot, &prot_len));
    IOTCA_GUARD(outer_string(f->root, "payload", what, &f->payload_b64, &f->payload_b64_len));
    IOTCA_GUARD(outer_string(f->root, "signature", what, &sig, &sig_len));
    IOTCA_ENSURE(prot_len > 0, IOTCA_E_PARSE, "%s: protected header is empty", what);
    IOTCA_ENSURE(sig_len > 0, IOTCA_E_PARSE, "%s: signature is empty", what);
    iotca_rc rc = iotca_b64url_decode(sig, sig_len, &f->signature);
    if (rc != IOTCA_OK) IOTCA_BAIL(rc, "%s: signature: %s", what, iotca_error_detail());
    /* RFC 7515 §5.1 step 8: the signing input is the encoded header and payload exactly as sent */
    IOTCA_GUARD(iotca_buf_append(&f->signing_input, prot, prot_len));
    IOTCA_GUARD(iotca_buf_append_byte(&f->signing_input, '.'));
    IOTCA_GUARD(iotca_buf_append(&f->signing_input, f->payload_b64, f->payload_b64_len));
    iotca_buf header = {0};
    rc = iotca_b64url_decode(prot, prot_len, &header);
    if (rc != IOTCA_OK) {
        iotca_buf_free(&header);
        IOTCA_BAIL(rc, "%s: protected header: %s", what, iotca_error_detail());
    }
    char hwhat[64];
    snprintf(hwhat, sizeof hwhat, "%s protected header", what);
    rc = acme_json_object(iotca_buf_slice(&header), hwhat, &f->header);
    iotca_buf_free(&header);
    return rc;
}

iotca_rc acme_flat_parse(iotca_slice text, const char *what, acme_flat *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(text.len <= IOTCA_JWS_MAX_BODY, IOTCA_E_USAGE, "%s: %zu bytes is over the limit of %d", what,
                 text.len, IOTCA_JWS_MAX_BODY);
    IOTCA_GUARD(acme_json_object(text, what, &out->root));
    iotca_rc rc = flat_members(out, what);
    if (rc != IOTCA_OK) acme_flat_free(out);
    return rc;
}
