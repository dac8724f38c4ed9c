/* The OCSP responder endpoints (to be implemented). */
#include "http.h"

void api_ocsp_get(request *r, const char *const *p, response *out) {
    (void)r, (void)p;
    respond_error(out, 501, "not_implemented", "OCSP is not implemented yet");
}

void api_ocsp_post(request *r, const char *const *p, response *out) {
    (void)r, (void)p;
    respond_error(out, 501, "not_implemented", "OCSP is not implemented yet");
}
