/* Fuzz target: certificate parsing (wolfSSL's parser plus our slicer), then everything that reads a parsed certificate. */
#include <stddef.h>
#include <stdint.h>

#include "iotca/ocsp.h"
#include "iotca/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_cert *c = NULL;
    if (iotca_cert_parse(iotca_slice_of(data, size), &c) != IOTCA_OK) return 0;
    const iotca_cert_info *ci = iotca_cert_get(c);
    iotca_buf s = {0};
    (void)iotca_name_format(ci->subject, &s);
    (void)iotca_name_cn(ci->issuer, &s);
    iotca_buf_free(&s);
    if (ci->san.len) {
        iotca_names n;
        (void)iotca_names_parse(ci->san, &n);
    }
    (void)iotca_cert_is_self_signed(c);
    uint8_t nh[32], kh[32];
    size_t hl;
    (void)iotca_ocsp_issuer_hashes(c, IOTCA_OCSP_SHA256, nh, kh, &hl);
    iotca_cert_free(c);
    return 0;
}
