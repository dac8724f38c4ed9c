/* Fuzz target: CRL parsing, as PUT /v1/ca/root-crl does with an admin's upload and `iotca crl show` with a
 * server's answer (PEM or DER, then every revokedCertificates entry). */
#include <stddef.h>
#include <stdint.h>

#include "iotca/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_buf der = {0};
    iotca_crl_info info;
    if (iotca_crl_parse(iotca_slice_of(data, size), &der, &info) == IOTCA_OK) {
        iotca_slice rv = info.revoked;
        iotca_crl_entry e;
        while (rv.len && iotca_crl_entry_next(&rv, &e) == IOTCA_OK) {
        }
    }
    iotca_buf_free(&der);
    return 0;
}
