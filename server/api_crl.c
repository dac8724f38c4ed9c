/* CRL endpoints: /crl/{issuer}.crl and the root CRL import (to be implemented). */
#include "http.h"

void api_crl_get(request *r, const char *const *p, response *out) {
    (void)r, (void)p;
    respond_error(out, 404, "not_found", "no CRL published yet");
}

void api_root_crl_import(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    respond_error(out, 501, "not_implemented", "root CRL import is not implemented yet");
}
