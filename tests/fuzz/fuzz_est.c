/* Fuzz target: what EST reads from a device (lib/ca/est.c): an application/pkcs10 body (base64 of a DER CSR,
 * then the CSR parser the issuance uses), an Authorization header's Basic credentials, and a configured secret
 * hash's form. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/ca_est.h"
#include "iotca/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_buf der = {0};
    if (iotca_est_body_decode(iotca_slice_of(data, size), &der) == IOTCA_OK) {
        iotca_csr *c = NULL;
        if (iotca_csr_parse(iotca_buf_slice(&der), &c) == IOTCA_OK) iotca_csr_free(c);
    }
    iotca_buf_free(&der);
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    iotca_buf cred = {.secret = true};
    iotca_slice user, pass;
    if (iotca_est_basic_parse(text, &cred, &user, &pass) == IOTCA_OK && user.len + pass.len + 1 != cred.len) abort();
    iotca_buf_free(&cred);
    (void)iotca_est_hash_check_form(text);
    free(text);
    return 0;
}
