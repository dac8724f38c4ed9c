/* Fuzz target: PEM decoding, every block of a text. */
#include <stddef.h>
#include <stdint.h>

#include "iotca/pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_slice text = iotca_slice_of(data, size);
    for (int i = 0; i < 16; i++) {
        iotca_buf der = {0};
        char label[64];
        iotca_rc rc = iotca_pem_next(&text, NULL, &der, label);
        iotca_buf_free(&der);
        if (rc != IOTCA_OK) break;
    }
    iotca_buf der = {0};
    (void)iotca_pem_or_der(iotca_slice_of(data, size), "CERTIFICATE", &der);
    iotca_buf_free(&der);
    return 0;
}
