/* Fuzz target: unencrypted PKCS#8 key loading and the names/vocabulary parsers that take text from operators. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iotca/key.h"
#include "iotca/policy.h"
#include "iotca/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_key *k = NULL;
    if (iotca_key_from_pkcs8(iotca_slice_of(data, size), &k) == IOTCA_OK) iotca_key_free(k);
    iotca_names n;
    (void)iotca_names_parse(iotca_slice_of(data, size), &n);
    char text[128];
    size_t m = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, m);
    text[m] = 0;
    iotca_ip ip;
    unsigned eku;
    long secs;
    iotca_reason r;
    (void)iotca_ip_parse(text, &ip);
    (void)iotca_eku_parse(text, &eku);
    (void)iotca_duration_parse(text, &secs);
    (void)iotca_reason_parse(text, &r);
    return 0;
}
