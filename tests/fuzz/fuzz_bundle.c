/* Fuzz target: trust bundles from untrusted roots files (what `iotca bundle --roots FILE` reads), in every format. */
#include <stddef.h>
#include <stdint.h>

#include "iotca/bundle.h"
#include "iotca/pem.h"

#define MAX_IN 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_buf der[MAX_IN] = {{0}};
    iotca_slice s[MAX_IN];
    size_t n = 0;
    iotca_slice text = iotca_slice_of(data, size);
    /* PEM blocks if there are any, else the input as one DER certificate */
    while (n < MAX_IN && iotca_pem_next(&text, "CERTIFICATE", &der[n], NULL) == IOTCA_OK) {
        s[n] = iotca_buf_slice(&der[n]);
        n++;
    }
    if (n == 0) s[n++] = iotca_slice_of(data, size);
    iotca_bundle *b = NULL;
    if (iotca_bundle_new(s, n, &b) == IOTCA_OK) {
        for (int f = 0; f < IOTCA_BUNDLE_FORMAT_COUNT; f++) {
            iotca_buf out = {0};
            iotca_bundle_manifest m;
            (void)iotca_bundle_encode(b, (iotca_bundle_format)f, 0, &out, &m);
            iotca_buf_free(&out);
        }
        iotca_bundle_free(b);
    }
    for (size_t i = 0; i < MAX_IN; i++) iotca_buf_free(&der[i]);
    return 0;
}
