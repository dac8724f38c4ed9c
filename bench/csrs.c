/* Distinct CSRs for bench/run's fleet rows: N requests, each for a fresh key, as a factory line sends them.
 * One fixed CSR lets every ECDSA verify of the request run on wolfSSL's fixed-point cache (FP_ECC, which
 * Debian's build enables: a public key met twice gets a precomputed table in the calling thread), so the
 * fixed-CSR rows show the best case; a fleet's keys are new each time.
 *   iotca-csrs N [KEY_TYPE]    PEM "CERTIFICATE REQUEST" blocks on stdout (KEY_TYPE as iotcad names it,
 *                              default ecdsa-p256), subject CN and DNS SAN bench.updates.example.com, as
 *                              the fixed bench CSR has */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/key.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

#define NAME "bench.updates.example.com"

static iotca_rc one(iotca_key_type kt, iotca_slice subject, const iotca_names *names) {
    iotca_rc rc = IOTCA_OK;
    iotca_key *key = NULL;
    iotca_buf der = {0}, pem = {0};
    IOTCA_TRY(iotca_key_generate(kt, &key));
    IOTCA_TRY(iotca_csr_build_names(key, subject, names, &der));
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE REQUEST", der.data, der.len, &pem));
    IOTCA_CHECK(fwrite(pem.data, 1, pem.len, stdout) == pem.len, IOTCA_E_INTERNAL, "writing stdout failed");
out:
    iotca_key_free(key);
    iotca_buf_free(&der);
    iotca_buf_free(&pem);
    return rc;
}

int main(int argc, char **argv) {
    char *end = NULL;
    long n = argc > 1 ? strtol(argv[1], &end, 10) : 0;
    iotca_key_type kt;
    if (argc < 2 || argc > 3 || !end || *end || n < 1 || n > 100000) {
        fprintf(stderr, "usage: iotca-csrs N [KEY_TYPE]   (N in 1..100000; KEY_TYPE default ecdsa-p256)\n");
        return 2;
    }
    if (iotca_key_type_parse(argc > 2 ? argv[2] : "ecdsa-p256", &kt) != IOTCA_OK) {
        fprintf(stderr, "iotca-csrs: %s\n", iotca_error_detail());
        return 2;
    }
    iotca_buf subject = {0};
    iotca_names names = {0};
    strcpy(names.dns[0], NAME);
    names.n_dns = 1;
    if (iotca_name_build(NULL, NULL, NULL, NAME, &subject) != IOTCA_OK) {
        fprintf(stderr, "iotca-csrs: %s\n", iotca_error_detail());
        return 1;
    }
    for (long i = 0; i < n; i++) {
        if (one(kt, iotca_buf_slice(&subject), &names) != IOTCA_OK) {
            fprintf(stderr, "iotca-csrs: %s\n", iotca_error_detail());
            iotca_buf_free(&subject);
            return 1;
        }
    }
    iotca_buf_free(&subject);
    iotca_crypto_thread_end();
    return fflush(stdout) == 0 ? 0 : 1;
}
