/* The issuance ceiling (issue 6): what wolfSSL allows with no HTTP and no store. One thread per core, each
 * in a tight loop: parse the bench CSR and verify its self-signature, build the leaf's TBS, sign it with the
 * issuer key. Also times each step alone on one thread, so the daemon's profile can be read against it.
 *   iotca-limit CSR.pem ecdsa-p256|ecdsa-p384 [SECONDS] [THREADS]
 * CSR.pem may hold many requests (bench/csrs.c): each thread then goes through them in turn, as the daemon
 * meets a fleet's distinct keys; with one, every verify of it runs on wolfSSL's fixed-point cache.
 * Prints "limit_per_s N" and "limit_with_post_verify_per_s N" (all threads), "threads N" and "csrs N". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iotca/file.h"
#include "iotca/key.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

#define MAX_CSRS 100000

typedef struct job {
    const iotca_buf *csrs; /* DER requests, used in turn */
    size_t n_csrs, next;
    const iotca_key *key;
    iotca_slice issuer_name, issuer_skid;
    double seconds;
    bool post_verify; /* also re-parse and verify the signed result (what iotca_cert_sign does) */
    unsigned long done;
    iotca_rc rc;
    char detail[256]; /* the failure's detail: iotca_error_detail is per thread */
} job;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One issuance's crypto: CSR verified, TBS built, signed (and, with post_verify, the result verified). */
static iotca_rc one(job *j) {
    iotca_rc rc = IOTCA_OK;
    iotca_csr *csr = NULL;
    iotca_buf tbs = {0}, alg = {0}, sig = {0}, der = {0};
    uint8_t serial[IOTCA_SERIAL_LEN];
    IOTCA_TRY(iotca_csr_parse(iotca_buf_slice(&j->csrs[j->next]), &csr));
    j->next = (j->next + 1) % j->n_csrs;
    IOTCA_TRY(iotca_serial_random(serial));
    iotca_cert_spec s = {0};
    s.serial = iotca_slice_of(serial, sizeof serial);
    s.issuer = j->issuer_name;
    s.issuer_skid = j->issuer_skid;
    s.subject = iotca_csr_get(csr)->subject;
    s.spki = iotca_csr_get(csr)->spki;
    s.not_before = time(NULL) - 60;
    s.not_after = s.not_before + 30 * 86400;
    s.path_len = -1;
    s.key_usage = IOTCA_KU_DIGITAL_SIGNATURE;
    s.eku = IOTCA_EKU_SERVER;
    s.dns[0] = "bench.updates.example.com";
    s.n_dns = 1;
    if (j->post_verify) {
        IOTCA_TRY(iotca_cert_sign(&s, j->key, &der));
    } else {
        IOTCA_TRY(iotca_key_sigalg(j->key, &alg));
        IOTCA_TRY(iotca_cert_tbs(&s, iotca_buf_slice(&alg), &tbs));
        IOTCA_TRY(iotca_key_sign(j->key, iotca_buf_slice(&tbs), &sig));
    }
out:
    iotca_csr_free(csr);
    iotca_buf_free(&tbs);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    iotca_buf_free(&der);
    return rc;
}

static void *loop(void *arg) {
    job *j = arg;
    double end = now_s() + j->seconds;
    while (now_s() < end) {
        for (int i = 0; i < 16; i++) {
            j->rc = one(j);
            if (j->rc != IOTCA_OK) {
                snprintf(j->detail, sizeof j->detail, "%s", iotca_error_detail());
                goto done;
            }
            j->done++;
        }
    }
done:
    iotca_crypto_thread_end();
    return NULL;
}

/* Runs one job per thread; the rate of all, or -1 (with a message) if a job failed. */
static double run(job proto, unsigned threads) {
    job *jobs = calloc(threads, sizeof *jobs);
    pthread_t *th = calloc(threads, sizeof *th);
    unsigned started = 0;
    double rate = -1;
    if (!jobs || !th) {
        fprintf(stderr, "iotca-limit: out of memory\n");
        goto out;
    }
    double t0 = now_s();
    for (; started < threads; started++) {
        jobs[started] = proto;
        jobs[started].next = started * proto.n_csrs / threads; /* threads start apart, as a fleet's clients would */
        if (pthread_create(&th[started], NULL, loop, &jobs[started]) != 0) break;
    }
    unsigned long total = 0;
    bool failed = started < threads;
    if (failed) fprintf(stderr, "iotca-limit: cannot start thread %u\n", started + 1);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].rc != IOTCA_OK && !failed) fprintf(stderr, "iotca-limit: %s\n", jobs[i].detail);
        failed = failed || jobs[i].rc != IOTCA_OK;
        total += jobs[i].done;
    }
    if (!failed) rate = (double)total / (now_s() - t0);
out:
    free(jobs);
    free(th);
    return rate;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: iotca-limit CSR.pem ecdsa-p256|ecdsa-p384 [SECONDS] [THREADS]\n");
        return 2;
    }
    double seconds = argc > 3 ? atof(argv[3]) : 3.0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = argc > 4 ? (unsigned)atoi(argv[4]) : (unsigned)(ncpu > 0 ? ncpu : 1);
    if (seconds <= 0 || seconds > 600 || threads < 1 || threads > 256) {
        fprintf(stderr, "iotca-limit: SECONDS must be in (0, 600] and THREADS in [1, 256]\n");
        return 2;
    }
    int status = 1;
    iotca_buf pem = {0}, name = {0}, spki = {0};
    static iotca_buf csrs[MAX_CSRS];
    size_t n_csrs = 0;
    iotca_key *key = NULL;
    iotca_key_type kt;
    uint8_t skid[20];
    if (iotca_file_read(argv[1], 128u << 20, &pem) != IOTCA_OK || iotca_key_type_parse(argv[2], &kt) != IOTCA_OK ||
        iotca_key_generate(kt, &key) != IOTCA_OK || iotca_key_spki(key, &spki) != IOTCA_OK ||
        iotca_skid_from_spki(iotca_buf_slice(&spki), skid) != IOTCA_OK ||
        iotca_name_build(NULL, "Bench", NULL, "Bench Issuing CA", &name) != IOTCA_OK) {
        fprintf(stderr, "iotca-limit: %s\n", iotca_error_detail());
        goto out;
    }
    iotca_slice text = iotca_buf_slice(&pem);
    while (memmem(text.p, text.len, "-----BEGIN", 10)) {
        if (n_csrs == MAX_CSRS || iotca_pem_next(&text, "CERTIFICATE REQUEST", &csrs[n_csrs], NULL) != IOTCA_OK) {
            fprintf(stderr, "iotca-limit: %s: request %zu: %s\n", argv[1], n_csrs + 1,
                    n_csrs == MAX_CSRS ? "more than 100000 requests" : iotca_error_detail());
            if (n_csrs < MAX_CSRS) iotca_buf_free(&csrs[n_csrs]); /* what the failed decode appended */
            goto out;
        }
        n_csrs++;
    }
    if (n_csrs == 0) {
        fprintf(stderr, "iotca-limit: %s holds no PEM CERTIFICATE REQUEST\n", argv[1]);
        goto out;
    }
    job j = {.csrs = csrs, .n_csrs = n_csrs, .key = key, .issuer_name = iotca_buf_slice(&name),
             .issuer_skid = iotca_slice_of(skid, sizeof skid), .seconds = seconds};
    double plain = run(j, threads);
    if (plain < 0) goto out;
    printf("limit_per_s %.0f\n", plain);
    j.post_verify = true;
    double verified = run(j, threads);
    if (verified < 0) goto out;
    printf("limit_with_post_verify_per_s %.0f\n", verified);
    printf("threads %u\n", threads);
    printf("csrs %zu\n", n_csrs);
    printf("crypto %s\n", iotca_crypto_version());
    status = 0;
out:
    iotca_key_free(key);
    iotca_buf_free(&pem);
    for (size_t i = 0; i < n_csrs; i++) iotca_buf_free(&csrs[i]);
    iotca_buf_free(&name);
    iotca_buf_free(&spki);
    iotca_crypto_thread_end();
    return status;
}
