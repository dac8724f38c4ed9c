/* Fuzz target: ACME JWS parsing and verification with the key it carries, its JWK round trip, and EAB parsing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/jws.h"

/* A fixed account key (RFC 7638 §3.1's example) and newAccount URL for the EAB half. */
static const char account_jwk[] =
    "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxu"
    "hDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQM"
    "icAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniI"
    "qbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\"}";
static const char url[] = "https://acme.example/acme/new-account";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_slice in = iotca_slice_of(data, size);
    iotca_jws j;
    if (iotca_jws_parse(in, &j) == IOTCA_OK) {
        if (j.jwk_spki.len > 0) {
            (void)iotca_jws_verify(&j, iotca_buf_slice(&j.jwk_spki));
            /* the stored-key path must give back exactly the canonical JWK and thumbprint the parser made */
            iotca_buf again = {0};
            uint8_t thumb[32];
            if (iotca_jwk_from_spki(iotca_buf_slice(&j.jwk_spki), &again, thumb) != IOTCA_OK ||
                again.len != j.jwk_json.len || memcmp(again.data, j.jwk_json.data, again.len) != 0 ||
                memcmp(thumb, j.thumbprint, 32) != 0)
                abort();
            iotca_buf_free(&again);
        }
        iotca_jws_free(&j);
    }
    iotca_eab e;
    if (iotca_eab_parse(in, url, iotca_slice_of(account_jwk, strlen(account_jwk)), &e) == IOTCA_OK) {
        (void)iotca_eab_verify(&e, iotca_slice_of("fuzz-key", 8));
        iotca_eab_free(&e);
    }
    return 0;
}
