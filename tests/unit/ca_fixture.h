/* The fixture the CA service's unit tests share: a temporary directory with a database, a P-256 root made
 * here, a CA opened on it, and an issuer signed by the root (as iotca-root would), imported and activated. */
#ifndef IOTCA_TEST_CA_FIXTURE_H
#define IOTCA_TEST_CA_FIXTURE_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iotca/ca.h"
#include "iotca/store.h" /* the tests set up and inspect the database under the CA */
#include "iotca/policy.h"
#include "iotca/x509.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define DAY 86400

typedef struct fixture {
    char dir[64], db[128], keys[128], crl_dir[128];
    iotca_key *root_key;
    iotca_buf root_der;
    iotca_cert *root;
    iotca_ca *ca;
    iotca_store *s; /* a second handle, for writing certificates straight into the store */
    int64_t issuer;
    iotca_cert *issuer_cert;
} fixture;

/* "fw": P-256 keys, names under example.com, 30 days, from the fixture's issuer group */
static const iotca_profile fixture_profile = {.name = "fw",
                                              .issuer_group = "default",
                                              .key_types = 1u << IOTCA_KEY_ECDSA_P256,
                                              .max_ttl = 30 * DAY,
                                              .default_ttl = 30 * DAY,
                                              .eku = IOTCA_EKU_SERVER,
                                              .key_usage = IOTCA_KU_DIGITAL_SIGNATURE,
                                              .dns_suffixes = {"example.com"},
                                              .n_dns_suffixes = 1,
                                              .subject = IOTCA_SUBJECT_CN_ONLY};

static iotca_ca *open_ca(fixture *f) {
    iotca_slice root = iotca_buf_slice(&f->root_der);
    iotca_ca_config cfg = {0};
    cfg.db_path = f->db;
    cfg.key_dir = f->keys;
    cfg.key_passphrase = iotca_slice_of("unit test key passphrase", 24);
    cfg.issuer_key_type = IOTCA_KEY_ECDSA_P256;
    cfg.default_group = "default";
    cfg.roots = &root;
    cfg.n_roots = 1;
    cfg.profiles = &fixture_profile;
    cfg.n_profiles = 1;
    cfg.kdf_iterations = 1000; /* fast; strength is not under test here */
    iotca_ca *ca = NULL;
    OK(iotca_ca_open(&cfg, &ca));
    return ca;
}

static void sign_ca_cert(fixture *f, iotca_slice issuer, iotca_slice subject, iotca_slice spki, int path_len,
                         iotca_buf *out) {
    uint8_t serial[IOTCA_SERIAL_LEN];
    OK(iotca_serial_random(serial));
    iotca_cert_spec spec = {0};
    spec.serial = iotca_slice_of(serial, sizeof serial);
    spec.issuer = issuer;
    spec.subject = subject;
    spec.spki = spki;
    if (f->root) spec.issuer_skid = iotca_cert_get(f->root)->skid;
    spec.not_before = time(NULL) - 3600;
    spec.not_after = time(NULL) + (path_len < 0 ? 3650 : 365) * (time_t)DAY;
    spec.is_ca = true;
    spec.path_len = path_len;
    spec.key_usage = IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN;
    OK(iotca_cert_sign(&spec, f->root_key, out));
}

static void setup(fixture *f) {
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/iotca-ca-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/iotca.db", f->dir);
    snprintf(f->keys, sizeof f->keys, "%s/keys", f->dir);
    snprintf(f->crl_dir, sizeof f->crl_dir, "%s/crl", f->dir);
    ck_assert_int_eq(mkdir(f->keys, 0700), 0);
    OK(iotca_ca_init_db(f->db));
    /* the root, self-signed */
    iotca_buf name = {0}, spki = {0}, csr_pem = {0}, inter = {0};
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &f->root_key));
    OK(iotca_name_build("DE", "Unit", NULL, "Unit Test Root", &name));
    OK(iotca_key_spki(f->root_key, &spki));
    sign_ca_cert(f, iotca_buf_slice(&name), iotca_buf_slice(&name), iotca_buf_slice(&spki), -1, &f->root_der);
    OK(iotca_cert_parse(iotca_buf_slice(&f->root_der), &f->root));
    f->ca = open_ca(f);
    /* an issuer: key and CSR made by the CA, signed here as iotca-root would, imported, activated by the tick */
    iotca_csr *csr = NULL;
    OK(iotca_ca_issuer_new(f->ca, NULL, NULL, &f->issuer, &csr_pem));
    OK(iotca_csr_parse(iotca_buf_slice(&csr_pem), &csr));
    const iotca_cert_info *ri = iotca_cert_get(f->root);
    sign_ca_cert(f, ri->subject, iotca_csr_get(csr)->subject, iotca_csr_get(csr)->spki, 0, &inter);
    OK(iotca_cert_parse(iotca_buf_slice(&inter), &f->issuer_cert));
    OK(iotca_ca_issuer_import(f->ca, f->issuer, iotca_buf_slice(&inter), 0));
    int changes = 0;
    OK(iotca_ca_tick(f->ca, time(NULL), &changes));
    OK(iotca_store_open(f->db, false, 5000, &f->s));
    iotca_csr_free(csr);
    iotca_buf_free(&name);
    iotca_buf_free(&spki);
    iotca_buf_free(&csr_pem);
    iotca_buf_free(&inter);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(fixture *f) {
    iotca_store_close(f->s);
    iotca_ca_close(f->ca);
    iotca_cert_free(f->issuer_cert);
    iotca_cert_free(f->root);
    iotca_key_free(f->root_key);
    iotca_buf_free(&f->root_der);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
