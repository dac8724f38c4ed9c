/* iotca-root show and ledger verify: what the vault holds, and whether its history is intact. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "root.h"

int cmd_ledger_verify(const root_opts *o) {
    if (o->vault == NULL) return report(iotca_error_set(IOTCA_E_USAGE, "ledger verify needs --vault DIR"));
    vault v;
    iotca_rc rc = vault_open(o->vault, &v); /* checks every link and the recorded head */
    if (rc != IOTCA_OK) {
        fprintf(stderr, "iotca-root: ledger verification FAILED: %s\n", iotca_error_detail());
        return 1;
    }
    const char *head = json_string_value(json_object_get(v.state, "ledger_head"));
    json_int_t n = json_integer_value(json_object_get(v.state, "ledger_records"));
    int code = 0;
    if (o->head && strcmp(o->head, head) != 0) {
        fprintf(stderr, "iotca-root: ledger verification FAILED: head %s differs from the recorded %s\n", head,
                o->head);
        code = 1;
    } else {
        printf("ledger ok: %lld records, head %s\n", (long long)n, head);
    }
    vault_close(&v);
    return code;
}

static iotca_rc do_show(const root_opts *o) {
    vault v;
    IOTCA_GUARD(vault_open(o->vault, &v));
    iotca_rc rc = IOTCA_OK;
    json_t *records = NULL, *issued = json_array();
    char path[PATH_MAX], head[65], nb[32], na[32];
    size_t count, i;
    json_t *rec;
    iotca_buf subj = {0};
    IOTCA_TRY(vault_path(&v, VAULT_LEDGER, path, sizeof path));
    IOTCA_TRY(ledger_verify(path, &records, head, &count));
    json_array_foreach(records, i, rec) {
        const char *op = json_string_value(json_object_get(rec, "op"));
        if (strcmp(op, "sign-intermediate") == 0 || strcmp(op, "cross-sign") == 0) {
            json_t *e = json_pack("{s:s, s:O, s:O, s:O, s:O, s:b}", "kind", op, "serial", json_object_get(rec, "serial"),
                                  "subject", json_object_get(rec, "subject"), "not_after",
                                  json_object_get(rec, "not_after"), "sha256", json_object_get(rec, "sha256"),
                                  "revoked", 0);
            json_array_append_new(issued, e);
        } else if (strcmp(op, "revoke") == 0) {
            size_t j;
            json_t *e;
            json_array_foreach(issued, j, e) if (json_equal(json_object_get(e, "serial"), json_object_get(rec, "serial")))
                json_object_set_new(e, "revoked", json_string(json_string_value(json_object_get(rec, "reason"))));
        }
    }
    const iotca_cert_info *ci = iotca_cert_get(v.root);
    IOTCA_TRY(iotca_name_format(ci->subject, &subj));
    fmt_time(ci->not_before, nb);
    fmt_time(ci->not_after, na);
    if (o->json) {
        json_t *out = json_pack("{s:s, s:O, s:O, s:O, s:s, s:s, s:O, s:O, s:O, s:O, s:O}", "subject",
                                (const char *)subj.data, "key_type", json_object_get(v.state, "key_type"), "serial",
                                json_object_get(v.state, "root_serial"), "sha256",
                                json_object_get(v.state, "root_sha256"), "not_before", nb, "not_after", na,
                                "spki_sha256", json_object_get(v.state, "root_spki_sha256"), "shares",
                                json_object_get(v.state, "shares"), "threshold", json_object_get(v.state, "threshold"),
                                "crl_number", json_object_get(v.state, "crl_number"), "ledger_head",
                                json_object_get(v.state, "ledger_head"));
        json_object_set(out, "issued", issued);
        if (json_object_get(v.state, "pkcs11")) json_object_set(out, "pkcs11", json_object_get(v.state, "pkcs11"));
        json_object_set_new(out, "ledger_records", json_integer((json_int_t)count));
        json_dumpf(out, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(out);
        goto out;
    }
    printf("Root vault %s\n", o->vault);
    printf("  subject      %s\n", (const char *)subj.data);
    json_t *p11 = json_object_get(v.state, "pkcs11");
    if (p11)
        printf("  key          %s on PKCS#11 token '%s' (key id %s, module %s)\n",
               json_string_value(json_object_get(v.state, "key_type")),
               json_string_value(json_object_get(p11, "token_label")), json_string_value(json_object_get(p11, "key_id")),
               json_string_value(json_object_get(p11, "module")));
    else
        printf("  key          %s\n", json_string_value(json_object_get(v.state, "key_type")));
    printf("  serial       %s\n", json_string_value(json_object_get(v.state, "root_serial")));
    printf("  validity     %s to %s%s\n", nb, na, ci->not_after < time(NULL) ? "  (EXPIRED)" : "");
    printf("  SHA-256      %s\n", json_string_value(json_object_get(v.state, "root_sha256")));
    printf("  SPKI pin     %s\n", json_string_value(json_object_get(v.state, "root_spki_sha256")));
    json_int_t sh = json_integer_value(json_object_get(v.state, "shares"));
    if (sh) printf(p11 ? "  protection   the token's PIN, in %lld-of-%lld custodian shares\n"
                       : "  protection   %lld-of-%lld custodian shares\n",
                   (long long)json_integer_value(json_object_get(v.state, "threshold")), (long long)sh);
    else printf(p11 ? "  protection   the token's PIN\n" : "  protection   passphrase\n");
    printf("  last CRL     %lld\n", (long long)json_integer_value(json_object_get(v.state, "crl_number")));
    printf("  ledger       %zu records, intact, head %s\n", count, head);
    printf("  signed (%zu):\n", json_array_size(issued));
    json_array_foreach(issued, i, rec) {
        json_t *rv = json_object_get(rec, "revoked");
        printf("    %-17s %s  %s  until %s%s%s\n", json_string_value(json_object_get(rec, "kind")),
               json_string_value(json_object_get(rec, "serial")), json_string_value(json_object_get(rec, "subject")),
               json_string_value(json_object_get(rec, "not_after")), json_is_string(rv) ? "  REVOKED: " : "",
               json_is_string(rv) ? json_string_value(rv) : "");
    }
out:
    json_decref(records);
    json_decref(issued);
    iotca_buf_free(&subj);
    vault_close(&v);
    return rc;
}

int cmd_show(const root_opts *o) { return report(do_show(o)); }
