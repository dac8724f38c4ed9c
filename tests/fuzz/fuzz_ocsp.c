/* Fuzz target: OCSP request parsing (bytes from anyone on the network). */
#include <stddef.h>
#include <stdint.h>

#include "iotca/ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_ocsp_certid id;
    (void)iotca_ocsp_request_parse(iotca_slice_of(data, size), &id);
    return 0;
}
