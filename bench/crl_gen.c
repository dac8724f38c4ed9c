/* Bench driver: opens the CA on an existing database and runs the real periodic tick, which regenerates every due
 * CRL through the streaming path: once cold (the issuer key is unlocked first: PBKDF2), then again after marking
 * the CRLs due the way a revocation does. Prints both wall times, the CRLs and this process's peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <time.h>

#include "iotca/ca.h"
#include "iotca/file.h"
#include "iotca/pem.h"

#define MAX_ROOTS 8

static int fail(const char *what) {
    fprintf(stderr, "iotca-crl-bench: %s: %s\n", what, iotca_error_detail());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc - 4 > MAX_ROOTS) {
        fprintf(stderr, "usage: iotca-crl-bench DATABASE KEY_DIR KEY_PASSPHRASE_FILE ROOT.pem...\n");
        return 2;
    }
    iotca_buf pass = {.secret = true}, pem[MAX_ROOTS] = {{0}}, der[MAX_ROOTS] = {{0}};
    iotca_slice roots[MAX_ROOTS];
    size_t n_roots = (size_t)argc - 4;
    if (iotca_file_read(argv[3], 4096, &pass) != IOTCA_OK) return fail(argv[3]);
    while (pass.len && (pass.data[pass.len - 1] == '\n' || pass.data[pass.len - 1] == '\r')) pass.len--;
    for (size_t i = 0; i < n_roots; i++) {
        if (iotca_file_read(argv[4 + i], 1 << 16, &pem[i]) != IOTCA_OK ||
            iotca_pem_or_der(iotca_buf_slice(&pem[i]), "CERTIFICATE", &der[i]) != IOTCA_OK)
            return fail(argv[4 + i]);
        roots[i] = iotca_buf_slice(&der[i]);
    }
    iotca_ca_config cfg = {0};
    cfg.db_path = argv[1];
    cfg.key_dir = argv[2];
    cfg.key_passphrase = iotca_buf_slice(&pass);
    cfg.issuer_key_type = IOTCA_KEY_ECDSA_P256;
    cfg.roots = roots;
    cfg.n_roots = n_roots;
    iotca_ca *ca = NULL;
    if (iotca_ca_open(&cfg, &ca) != IOTCA_OK) return fail("opening the CA");
    for (int round = 0; round < 2; round++) {
        struct timespec t0, t1;
        int changes = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        iotca_rc rc = iotca_ca_tick(ca, time(NULL), &changes);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (rc != IOTCA_OK) return fail("tick");
        printf("%s %.3f\n", round ? "tick_seconds" : "cold_tick_seconds",
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        if (round) break;
        /* as if one more certificate of every issuer had been revoked: every CRL is due again */
        sqlite3 *db = NULL;
        if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
            sqlite3_exec(db, "UPDATE crl_state SET revocations = revocations + 1", NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(stderr, "iotca-crl-bench: marking CRLs due: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_close(db);
    }
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    if (iotca_ca_issuers(ca, &list, &n) != IOTCA_OK) return fail("listing issuers");
    for (size_t i = 0; i < n; i++) {
        iotca_crl_rec crl = {0};
        if (iotca_ca_crl_info(ca, list[i].id, &crl) == IOTCA_OK)
            printf("crl issuer=%lld number=%llu entries=%llu bytes=%llu\n", (long long)list[i].id,
                   (unsigned long long)crl.number, (unsigned long long)crl.entries, (unsigned long long)crl.size);
        iotca_issuer_rec_free(&list[i]);
    }
    free(list);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_kib %ld\n", ru.ru_maxrss);
    iotca_ca_close(ca);
    for (size_t i = 0; i < n_roots; i++) {
        iotca_buf_free(&pem[i]);
        iotca_buf_free(&der[i]);
    }
    iotca_buf_free(&pass);
    return 0;
}
