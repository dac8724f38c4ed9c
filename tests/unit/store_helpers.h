/* Store unit tests' shared makers (test_store.c, test_store_records.c): an issuer added and staged, and a certificate
 * reserved and recorded, with placeholder DER the store does not read. Needs T0 and check.h. */
#ifndef IOTCA_TEST_STORE_HELPERS_H
#define IOTCA_TEST_STORE_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "iotca/store.h"

static const uint8_t csr_der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
static const uint8_t cert_der[] = {0x30, 0x06, 0x02, 0x01, 0x02, 0x00, 0xff, 0x7f};

static int64_t add_issuer(iotca_store *s, const char *name, const char *group) {
    iotca_issuer_rec r = {0};
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.group, sizeof r.group, "%s", group);
    snprintf(r.key_ref, sizeof r.key_ref, "file:/var/lib/iotca/keys/%s.key", name);
    ck_assert_int_eq(iotca_buf_append(&r.csr, csr_der, sizeof csr_der), IOTCA_OK);
    ck_assert_msg(iotca_store_issuer_add(s, &r, T0) == IOTCA_OK, "%s", iotca_error_detail());
    ck_assert_int_gt(r.id, 0);
    int64_t id = r.id;
    iotca_issuer_rec_free(&r);
    return id;
}

static void stage(iotca_store *s, int64_t id) {
    ck_assert_msg(iotca_store_issuer_stage(s, id, iotca_slice_of(cert_der, sizeof cert_der), T0, T0 + 86400 * 365,
                                           T0 + 3600, T0 + 10) == IOTCA_OK,
                  "%s", iotca_error_detail());
}

static iotca_issuer_state state_of(iotca_store *s, int64_t id) {
    iotca_issuer_rec r = {0};
    ck_assert_int_eq(iotca_store_issuer_get(s, id, &r), IOTCA_OK);
    iotca_issuer_state st = r.state;
    iotca_issuer_rec_free(&r);
    return st;
}

static void make_cert(iotca_cert_rec *c, const char *serial, int64_t issuer, const char *profile, time_t not_after) {
    memset(c, 0, sizeof *c);
    snprintf(c->serial, sizeof c->serial, "%s", serial);
    c->issuer_id = issuer;
    snprintf(c->profile, sizeof c->profile, "%s", profile);
    snprintf(c->subject, sizeof c->subject, "CN=device-%s,O=Fleet", serial);
    c->not_before = T0;
    c->not_after = not_after;
    c->created_at = T0 + 1;
    c->der = iotca_buf_borrow(cert_der, sizeof cert_der);
}

/* Reserves and records a certificate. */
static void issue(iotca_store *s, const char *serial, int64_t issuer, const char *profile, time_t not_after) {
    iotca_cert_rec c;
    make_cert(&c, serial, issuer, profile, not_after);
    ck_assert_msg(iotca_store_serial_reserve(s, serial, issuer, T0) == IOTCA_OK, "%s", iotca_error_detail());
    ck_assert_msg(iotca_store_cert_add(s, &c) == IOTCA_OK, "%s", iotca_error_detail());
}

#endif
