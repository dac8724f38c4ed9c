/* The public trust material: the roots with their pins, and the chain served for an issuer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "v1.h"
#include "iotca/json_views.h"

void api_roots(request *r, const char *const *p, response *out) {
    (void)p;
    json_t *roots = json_array();
    for (size_t i = 0; i < iotca_ca_root_count(r->srv->ca); i++) {
        iotca_buf pem = {0}, subj = {0}, pinhex = {0};
        uint8_t pin[32];
        time_t na;
        if (iotca_ca_root(r->srv->ca, i, &pem, pin, &na, &subj) == IOTCA_OK &&
            iotca_hex_encode(pin, sizeof pin, &pinhex) == IOTCA_OK)
            json_array_append_new(roots, json_pack("{s:s, s:s, s:s, s:o}", "subject", (const char *)subj.data,
                                                   "certificate", (const char *)pem.data, "spki_sha256",
                                                   (const char *)pinhex.data, "not_after", iotca_json_time(na)));
        iotca_buf_free(&pem);
        iotca_buf_free(&subj);
        iotca_buf_free(&pinhex);
    }
    if (json_array_size(roots) < 2)
        respond_json(out, 200, json_pack("{s:o, s:s}", "roots", roots, "warning",
                                         "only one root is configured: devices need a second, independent root"));
    else respond_json(out, 200, json_pack("{s:o}", "roots", roots));
}

void api_chain(request *r, const char *const *p, response *out) {
    (void)p;
    const char *q = query(r, "issuer");
    long long id = 0;
    if (q) {
        char *end;
        id = strtoll(q, &end, 10);
        if (*q == 0 || *end || id <= 0) {
            respond_error(out, 400, "bad_request", "issuer must be a positive issuer id");
            return;
        }
    }
    iotca_buf pem = {0};
    iotca_rc rc = iotca_ca_chain(r->srv->ca, id, &pem);
    if (rc == IOTCA_OK) respond_text(out, 200, "application/pem-certificate-chain", (const char *)pem.data, pem.len);
    else if (rc == IOTCA_E_USAGE) respond_error(out, 404, "not_found", "%s", iotca_error_detail());
    else respond_rc(r, out, rc);
    iotca_buf_free(&pem);
}
