/* Fuzz target: PKCS#10 parsing with signature verification, and the SAN it requests. */
#include <stddef.h>
#include <stdint.h>

#include "iotca/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_csr *c = NULL;
    if (iotca_csr_parse(iotca_slice_of(data, size), &c) != IOTCA_OK) return 0;
    iotca_names n;
    (void)iotca_csr_names(c, &n);
    iotca_buf s = {0};
    (void)iotca_name_format(iotca_csr_get(c)->subject, &s);
    iotca_buf_free(&s);
    iotca_csr_free(c);
    return 0;
}
