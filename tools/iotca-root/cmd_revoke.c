/* iotca-root revoke-intermediate: record that a certificate this root signed is revoked (the next `crl` lists it). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "root.h"

/* Normalises a serial typed by a person: hex, optional colons, any case,
 * leading zero octets dropped, as the ledger stores it. */
static iotca_rc normalise_serial(const char *in, iotca_buf *out) {
    iotca_buf raw = {0};
    iotca_rc rc = iotca_hex_decode(in, &raw);
    if (rc == IOTCA_OK && raw.len == 0) rc = iotca_error_set(IOTCA_E_USAGE, "empty serial");
    if (rc == IOTCA_OK) {
        size_t skip = 0;
        while (skip + 1 < raw.len && raw.data[skip] == 0) skip++;
        rc = hex_of(iotca_slice_of(raw.data + skip, raw.len - skip), out);
    }
    iotca_buf_free(&raw);
    if (rc == IOTCA_E_PARSE) rc = iotca_error_set(IOTCA_E_USAGE, "--serial must be hexadecimal: %s", in);
    return rc;
}

static iotca_rc do_revoke(const root_opts *o) {
    IOTCA_ENSURE(o->serial, IOTCA_E_USAGE, "revoke-intermediate needs --serial HEX");
    iotca_reason reason = IOTCA_REASON_UNSPECIFIED;
    if (o->reason) IOTCA_GUARD(iotca_reason_parse(o->reason, &reason));
    IOTCA_ENSURE(reason != IOTCA_REASON_CERTIFICATE_HOLD, IOTCA_E_USAGE,
                 "certificateHold is not allowed for CA certificates (CA/B Forum BR 7.2.2)");
    iotca_rc rc = IOTCA_OK;
    vault v;
    json_t *records = NULL, *found = NULL;
    iotca_buf serial = {0};
    char path[PATH_MAX], head[65];
    size_t count, i;
    json_t *rec;
    IOTCA_GUARD(vault_open(o->vault, &v));
    IOTCA_TRY(normalise_serial(o->serial, &serial));
    IOTCA_TRY(vault_path(&v, VAULT_LEDGER, path, sizeof path));
    IOTCA_TRY(ledger_verify(path, &records, head, &count));
    json_array_foreach(records, i, rec) {
        const char *op = json_string_value(json_object_get(rec, "op"));
        const char *s = json_string_value(json_object_get(rec, "serial"));
        if (s == NULL || strcmp(s, (const char *)serial.data) != 0) continue;
        if (strcmp(op, "sign-intermediate") == 0 || strcmp(op, "cross-sign") == 0) found = rec;
        IOTCA_CHECK(strcmp(op, "revoke") != 0, IOTCA_E_USAGE, "%s is already revoked", (const char *)serial.data);
        IOTCA_CHECK(strcmp(op, "init") != 0, IOTCA_E_USAGE,
                    "%s is the root itself; a root is retired by removing it from trust stores, not by a CRL",
                    (const char *)serial.data);
    }
    IOTCA_CHECK(found != NULL, IOTCA_E_USAGE, "no certificate with serial %s was signed by this vault",
                (const char *)serial.data);
    printf("About to record the revocation of %s (%s), reason %s\n", (const char *)serial.data,
           json_string_value(json_object_get(found, "subject")), iotca_reason_name(reason));
    if (!o->yes) IOTCA_TRY(secret_confirm("Revoke it?"));
    json_t *lrec = json_pack("{s:s, s:s, s:s, s:i, s:I}", "op", "revoke", "serial", (const char *)serial.data,
                             "reason", iotca_reason_name(reason), "reason_code", (int)reason, "revoked_at",
                             (json_int_t)time(NULL));
    if (o->note) json_object_set_new(lrec, "note", json_string(o->note));
    IOTCA_TRY(ledger_append(&v, lrec));
    printf("Revoked %s. Publish it with: iotca-root crl --vault %s --out FILE\n", (const char *)serial.data, o->vault);
out:
    json_decref(records);
    iotca_buf_free(&serial);
    vault_close(&v);
    return rc;
}

int cmd_revoke(const root_opts *o) { return report(do_revoke(o)); }
