/* iotca-test-leaf: issues a leaf certificate from an intermediate with libiotca, standing in for iotcad in integration tests. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotca/file.h"
#include "iotca/key.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

#define INPUT_MAX (64 * 1024)
#define DAY 86400
#define MAX_DAYS 36500

static void usage(FILE *f) {
    fprintf(f, "usage: iotca-test-leaf --issuer-cert FILE --issuer-key FILE --csr FILE --out FILE\n"
               "                      [--days N] [--dns NAME]... [--ip ADDR]... [--eku server|client|server,client]\n"
               "The issuer key is an unencrypted PKCS#8 PEM (\"PRIVATE KEY\"). The leaf gets the CSR's subject\n"
               "and key, keyUsage digitalSignature, a random serial, and notAfter now+days (default 30)\n"
               "capped at the issuer's notAfter. --out is never overwritten.\n");
}

typedef struct leaf_opts {
    const char *issuer_cert, *issuer_key, *csr, *out, *eku;
    const char *dns[IOTCA_SPEC_MAX_NAMES], *ip[IOTCA_SPEC_MAX_NAMES];
    size_t n_dns, n_ip;
    long days;
} leaf_opts;

/* Strict decimal in [1, MAX_DAYS]; anything else is a usage error. */
static iotca_rc parse_days(const char *s, long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    IOTCA_ENSURE(errno == 0 && end != s && *end == '\0' && v >= 1 && v <= MAX_DAYS, IOTCA_E_USAGE,
                 "--days must be a whole number from 1 to %d, not \"%s\"", MAX_DAYS, s);
    *out = v;
    return IOTCA_OK;
}

static iotca_rc parse_args(int argc, char **argv, leaf_opts *o) {
    memset(o, 0, sizeof *o);
    o->days = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        IOTCA_ENSURE(strncmp(a, "--", 2) == 0, IOTCA_E_USAGE, "unexpected argument \"%s\"", a);
        IOTCA_ENSURE(i + 1 < argc, IOTCA_E_USAGE, "%s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--issuer-cert") == 0) o->issuer_cert = v;
        else if (strcmp(a, "--issuer-key") == 0) o->issuer_key = v;
        else if (strcmp(a, "--csr") == 0) o->csr = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else if (strcmp(a, "--eku") == 0) o->eku = v;
        else if (strcmp(a, "--days") == 0) IOTCA_GUARD(parse_days(v, &o->days));
        else if (strcmp(a, "--dns") == 0) {
            IOTCA_ENSURE(o->n_dns < IOTCA_SPEC_MAX_NAMES, IOTCA_E_USAGE, "at most %d --dns names",
                         IOTCA_SPEC_MAX_NAMES);
            o->dns[o->n_dns++] = v;
        } else if (strcmp(a, "--ip") == 0) {
            IOTCA_ENSURE(o->n_ip < IOTCA_SPEC_MAX_NAMES, IOTCA_E_USAGE, "at most %d --ip addresses",
                         IOTCA_SPEC_MAX_NAMES);
            o->ip[o->n_ip++] = v;
        } else IOTCA_BAIL(IOTCA_E_USAGE, "unknown option %s", a);
    }
    IOTCA_ENSURE(o->issuer_cert, IOTCA_E_USAGE, "--issuer-cert FILE is required");
    IOTCA_ENSURE(o->issuer_key, IOTCA_E_USAGE, "--issuer-key FILE is required");
    IOTCA_ENSURE(o->csr, IOTCA_E_USAGE, "--csr FILE is required");
    IOTCA_ENSURE(o->out, IOTCA_E_USAGE, "--out FILE is required");
    return IOTCA_OK;
}

/* Prefixes the current error detail with where it came from. The detail is
 * copied first: iotca_error_set must not read the buffer it writes. */
static iotca_rc with_context(iotca_rc rc, const char *what, const char *path) {
    if (rc == IOTCA_OK) return rc;
    char detail[512];
    snprintf(detail, sizeof detail, "%s", iotca_error_detail());
    return iotca_error_set(rc, "%s %s: %s", what, path, detail);
}

static iotca_rc issue(const leaf_opts *o) {
    iotca_rc rc = IOTCA_OK;
    iotca_buf cert_raw = {0}, csr_raw = {0}, der = {0}, pem = {0};
    iotca_buf key_raw = {.secret = true}, key_der = {.secret = true}; /* wiped on free */
    iotca_cert *issuer = NULL;
    iotca_key *key = NULL;
    iotca_csr *csr = NULL;
    iotca_cert_spec s = {0};
    uint8_t serial[IOTCA_SERIAL_LEN], issuer_skid[20];

    IOTCA_TRY(with_context(iotca_file_read(o->issuer_cert, INPUT_MAX, &cert_raw), "issuer certificate", o->issuer_cert));
    IOTCA_TRY(with_context(iotca_cert_parse(iotca_buf_slice(&cert_raw), &issuer), "issuer certificate", o->issuer_cert));
    IOTCA_TRY(with_context(iotca_file_read(o->issuer_key, INPUT_MAX, &key_raw), "issuer key", o->issuer_key));
    IOTCA_TRY(with_context(iotca_pem_or_der(iotca_buf_slice(&key_raw), "PRIVATE KEY", &key_der), "issuer key",
                        o->issuer_key));
    IOTCA_TRY(with_context(iotca_key_from_pkcs8(iotca_buf_slice(&key_der), &key), "issuer key", o->issuer_key));
    IOTCA_TRY(with_context(iotca_file_read(o->csr, INPUT_MAX, &csr_raw), "CSR", o->csr));
    IOTCA_TRY(with_context(iotca_csr_parse(iotca_buf_slice(&csr_raw), &csr), "CSR", o->csr));

    const iotca_cert_info *ic = iotca_cert_get(issuer);
    const iotca_csr_info *ci = iotca_csr_get(csr);
    IOTCA_CHECK(ic->is_ca, IOTCA_E_POLICY, "%s is not a CA certificate", o->issuer_cert);
    IOTCA_CHECK(iotca_key_matches_spki(key, ic->spki), IOTCA_E_USAGE, "%s is not the key of %s", o->issuer_key,
                o->issuer_cert);

    time_t now = time(NULL);
    IOTCA_CHECK(ic->not_after > now, IOTCA_E_POLICY, "the issuer certificate has expired");
    IOTCA_TRY(iotca_serial_random(serial));
    s.serial = iotca_slice_of(serial, sizeof serial);
    s.issuer = ic->subject;
    s.subject = ci->subject;
    s.spki = ci->spki;
    if (ic->skid.len) s.issuer_skid = ic->skid;
    else {
        IOTCA_TRY(iotca_skid_from_spki(ic->spki, issuer_skid));
        s.issuer_skid = iotca_slice_of(issuer_skid, sizeof issuer_skid);
    }
    s.not_before = now - 60;
    s.not_after = now + (time_t)o->days * DAY;
    if (s.not_after > ic->not_after) s.not_after = ic->not_after; /* SPEC §3: never past the issuer */
    s.is_ca = false;
    s.path_len = -1;
    s.key_usage = IOTCA_KU_DIGITAL_SIGNATURE;
    if (o->eku) IOTCA_TRY(iotca_eku_parse(o->eku, &s.eku));
    for (size_t i = 0; i < o->n_dns; i++) s.dns[s.n_dns++] = o->dns[i];
    for (size_t i = 0; i < o->n_ip; i++) {
        IOTCA_TRY(with_context(iotca_ip_parse(o->ip[i], &s.ips[s.n_ips]), "--ip", o->ip[i]));
        s.n_ips++;
    }

    IOTCA_TRY(iotca_cert_sign(&s, key, &der));
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE", der.data, der.len, &pem));
    IOTCA_TRY(with_context(iotca_file_create(o->out, pem.data, pem.len, 0644), "output", o->out));
out:
    iotca_cert_free(issuer);
    iotca_key_free(key);
    iotca_csr_free(csr);
    iotca_buf_free(&cert_raw);
    iotca_buf_free(&key_raw);
    iotca_buf_free(&key_der);
    iotca_buf_free(&csr_raw);
    iotca_buf_free(&der);
    iotca_buf_free(&pem);
    return rc;
}

int main(int argc, char **argv) {
    leaf_opts o;
    iotca_rc rc = parse_args(argc, argv, &o);
    if (rc != IOTCA_OK) {
        fprintf(stderr, "iotca-test-leaf: %s\n", iotca_error_detail());
        usage(stderr);
        return 2;
    }
    rc = issue(&o);
    if (rc != IOTCA_OK) {
        fprintf(stderr, "iotca-test-leaf: %s error: %s\n", iotca_rc_name(rc), iotca_error_detail());
        return 1;
    }
    printf("wrote leaf certificate to %s\n", o.out);
    return 0;
}
