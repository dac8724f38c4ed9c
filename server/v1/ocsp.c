/* The OCSP responder over HTTP (RFC 6960 Appendix A, RFC 5019 §5): GET /ocsp/{base64} and POST /ocsp. */
#include <string.h>

#include "http.h"
#include "v1.h"
#include "iotca/ocsp.h"
#include "iotca/pem.h"
#include "log.h"

static void answer(request *r, response *out, iotca_slice req) {
    iotca_buf der = {0};
    long max_age = 0;
    iotca_rc rc = iotca_ca_ocsp_respond(r->srv->ca, req, &der, &max_age);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
    } else {
        respond_text(out, 200, "application/ocsp-response", (const char *)der.data, der.len);
        out->max_age = max_age;
    }
    iotca_buf_free(&der);
}

void api_ocsp_post(request *r, const char *const *p, response *out) {
    (void)p;
    const char *ct = header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && strncmp(ct, "application/ocsp-request", 24) != 0) {
        respond_error(out, 415, "unsupported_media_type", "send Content-Type: application/ocsp-request");
        return;
    }
    answer(r, out, iotca_buf_slice(&r->body));
}

/* base64 (standard alphabet, '+' possibly turned into ' ' by URL decoding) to bytes; stops at '='. */
static bool unbase64(const char *in, iotca_buf *out) {
    uint32_t acc = 0;
    int bits = 0;
    for (const char *c = in; *c && *c != '='; c++) {
        int v = iotca_base64_value(*c == ' ' ? '+' : (uint8_t)*c);
        if (v < 0) return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (iotca_buf_append_byte(out, (uint8_t)(acc >> bits)) != IOTCA_OK) return false;
        }
    }
    return out->len > 0;
}

void api_ocsp_get(request *r, const char *const *p, response *out) {
    (void)p;
    const char *enc = r->path + strlen("/ocsp/");
    iotca_buf der = {0};
    if (strlen(enc) > 4 * IOTCA_OCSP_MAX_REQUEST / 3 + 4 || !unbase64(enc, &der)) {
        iotca_buf_free(&der);
        /* still an OCSP answer, so clients get the status they understand */
        iotca_buf e = {0};
        iotca_ocsp_response_error(IOTCA_OCSP_MALFORMED, &e);
        respond_text(out, 200, "application/ocsp-response", (const char *)e.data, e.len);
        iotca_buf_free(&e);
        return;
    }
    answer(r, out, iotca_buf_slice(&der));
    iotca_buf_free(&der);
}
