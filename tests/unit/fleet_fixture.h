/* Certificates for the fleet unit tests (test_fleet.c, test_fleet_path.c): made and signed in memory with iotca's
 * own builder, with the fields the stack models look at (names, keys, dates, the CA bit, pathLen, name
 * constraints) set by the test. Include once per test executable; OK, NOW and YEAR come from the includer. */
#ifndef IOTCA_TEST_FLEET_FIXTURE_H
#define IOTCA_TEST_FLEET_FIXTURE_H

#include <string.h>

#include "iotca/x509.h"

typedef struct made {
    iotca_key *key;
    iotca_buf der, name;
    uint8_t skid[20];
} made;

/* What to make: 0 dates mean a year ago and ten years ahead. */
typedef struct how {
    bool ca;
    int path_len;       /* -1: none */
    time_t not_before, not_after;
    const made *key_of; /* NULL: a new key */
    iotca_nc_mode nc;   /* name constraints (permitting example.com), or none */
    unsigned eku;       /* 0: none */
    const char *ca_issuers_url, *crl_url; /* NULL: none */
} how;

/* A certificate named cn, signed by `by` (NULL: self-signed), as `h` says; a leaf names device1.example.com. */
static void fixture_make(made *m, const char *cn, const made *by, how h) {
    memset(m, 0, sizeof *m);
    if (h.key_of) {
        iotca_buf p8 = {.secret = true};
        OK(iotca_key_to_pkcs8(h.key_of->key, &p8));
        OK(iotca_key_from_pkcs8(iotca_buf_slice(&p8), &m->key));
        iotca_buf_free(&p8);
    } else {
        OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &m->key));
    }
    OK(iotca_name_build(NULL, NULL, NULL, cn, &m->name));
    iotca_buf spki = {0};
    OK(iotca_key_spki(m->key, &spki));
    OK(iotca_skid_from_spki(iotca_buf_slice(&spki), m->skid));
    uint8_t serial[IOTCA_SERIAL_LEN];
    OK(iotca_serial_random(serial));
    iotca_cert_spec s = {0};
    s.serial = iotca_slice_of(serial, sizeof serial);
    s.subject = iotca_buf_slice(&m->name);
    s.issuer = by ? iotca_buf_slice(&by->name) : s.subject;
    s.spki = iotca_buf_slice(&spki);
    s.issuer_skid = iotca_slice_of(by ? by->skid : m->skid, 20);
    s.not_before = h.not_before ? h.not_before : NOW - YEAR;
    s.not_after = h.not_after ? h.not_after : NOW + 10 * YEAR;
    s.is_ca = h.ca;
    s.path_len = h.path_len;
    s.key_usage = h.ca ? IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN : IOTCA_KU_DIGITAL_SIGNATURE;
    if (!h.ca) s.dns[s.n_dns++] = "device1.example.com";
    s.eku = h.eku;
    s.ca_issuers_url = h.ca_issuers_url;
    s.crl_url = h.crl_url;
    s.nc_mode = h.nc;
    if (h.nc != IOTCA_NC_NONE) s.permit_dns[s.n_permit_dns++] = "example.com";
    OK(iotca_cert_sign(&s, by ? by->key : m->key, &m->der));
    iotca_buf_free(&spki);
}

static void unmake(made *m) {
    iotca_key_free(m->key);
    iotca_buf_free(&m->der);
    iotca_buf_free(&m->name);
}

#endif
