/* iotca crl show: fetch an issuer's (or an imported root's) CRL, check it, and print it for people or scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iotca/file.h"
#include "iotca/pem.h"
#include "iotca/x509.h"
#include "iotca/json_views.h"

/* "7" (an issuer id) or "root-2" (the second configured root): the name of its CRL under /crl/. */
static iotca_rc crl_path(const char *arg, char *path, size_t n, bool *root) {
    const char *digits = arg;
    *root = strncmp(arg, "root-", 5) == 0;
    if (*root) digits += 5;
    size_t len = strlen(digits);
    IOTCA_ENSURE(len >= 1 && len <= 9 && digits[0] != '0' && strspn(digits, "0123456789") == len, IOTCA_E_USAGE,
                 "ISSUER must be an issuer id (as `iotca issuers` lists them) or root-N, not '%s'", arg);
    snprintf(path, n, "/crl/%s.crl", arg);
    return IOTCA_OK;
}

/* The issuer's certificate (the first of its served chain), to check the CRL's signature against. */
static int issuer_cert(cli *c, const char *id, iotca_cert **out) {
    char path[64];
    iotca_buf pem = {0};
    snprintf(path, sizeof path, "/v1/ca/chain?issuer=%s", id);
    int code = http_text(c, path, &pem);
    if (code == EXIT_OK && iotca_cert_parse(iotca_buf_slice(&pem), out) != IOTCA_OK) {
        cli_err("the issuer's certificate from %s does not parse: %s", path, iotca_error_detail());
        code = EXIT_SERVER;
    }
    iotca_buf_free(&pem);
    return code;
}

static json_t *to_json(const char *id, const iotca_crl_info *info, const char *issuer, bool verified) {
    json_t *entries = json_array();
    iotca_slice rv = info->revoked;
    iotca_crl_entry e;
    iotca_buf hex = {0};
    while (rv.len && iotca_crl_entry_next(&rv, &e) == IOTCA_OK) {
        iotca_buf_clear(&hex);
        if (iotca_hex_encode(e.serial.p, e.serial.len, &hex) != IOTCA_OK) break;
        json_array_append_new(entries, json_pack("{s:s, s:o, s:s}", "serial", (const char *)hex.data, "revoked_at",
                                                 iotca_json_time(e.revoked_at), "reason", iotca_reason_name(e.reason)));
    }
    iotca_buf_free(&hex);
    return json_pack("{s:s, s:I, s:s, s:o, s:o, s:I, s:b, s:o}", "crl", id, "crl_number", (json_int_t)info->number,
                     "issuer", issuer, "this_update", iotca_json_time(info->this_update), "next_update",
                     iotca_json_time(info->next_update), "count", (json_int_t)info->n_entries, "signature_verified", verified,
                     "entries", entries);
}

static void print_human(const char *id, const iotca_crl_info *info, const char *issuer, bool root) {
    char num[32], tu[32], nu[32], count[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)info->number);
    snprintf(count, sizeof count, "%zu", info->n_entries);
    fmt_time(info->this_update, tu);
    fmt_time(info->next_update, nu);
    out_field("CRL:", id);
    out_field("Issuer:", issuer);
    out_field("CRL number:", num);
    out_field("This update:", tu);
    out_field("Next update:", nu);
    out_field("Revoked:", count);
    out_field("Signature:", root ? "checked by iotcad against the configured root at import"
                                   : "verified here with the issuer's certificate");
    if (info->n_entries == 0) return;
    static const char *const head[] = {"SERIAL", "REVOKED", "REASON"};
    table t;
    table_init(&t, 3, head);
    iotca_slice rv = info->revoked;
    iotca_crl_entry e;
    iotca_buf hex = {0};
    while (rv.len && iotca_crl_entry_next(&rv, &e) == IOTCA_OK) {
        char when[32];
        iotca_buf_clear(&hex);
        if (iotca_hex_encode(e.serial.p, e.serial.len, &hex) != IOTCA_OK) break;
        fmt_time(e.revoked_at, when);
        const char *row[] = {(const char *)hex.data, when, iotca_reason_name(e.reason)};
        table_add(&t, row);
    }
    iotca_buf_free(&hex);
    putchar('\n');
    table_print(&t, stdout);
    table_free(&t);
}

/* Checks every entry parses, so a malformed CRL is reported rather than printed short. */
static iotca_rc check_entries(const iotca_crl_info *info) {
    iotca_slice rv = info->revoked;
    iotca_crl_entry e;
    while (rv.len) IOTCA_GUARD(iotca_crl_entry_next(&rv, &e));
    return IOTCA_OK;
}

int cmd_crl_show(cli *c) {
    char path[64];
    bool root = false;
    iotca_rc rc = crl_path(c->args[0], path, sizeof path, &root);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc == IOTCA_OK && c->out) rc = out_path_free("--out", c->out);
    if (rc != IOTCA_OK) return cli_report(rc);
    iotca_buf body = {0}, der = {0}, issuer = {0};
    iotca_cert *signer = NULL;
    iotca_crl_info info;
    int code = http_text(c, path, &body);
    if (code != EXIT_OK) goto out;
    if (iotca_crl_parse(iotca_buf_slice(&body), &der, &info) != IOTCA_OK || check_entries(&info) != IOTCA_OK) {
        cli_err("the server's CRL does not parse: %s", iotca_error_detail());
        code = EXIT_SERVER;
        goto out;
    }
    /* an issuer CRL must verify with that issuer's certificate; a root CRL was verified at import */
    if (!root) {
        code = issuer_cert(c, c->args[0], &signer);
        if (code != EXIT_OK) goto out;
        if (iotca_crl_verify(&info, signer) != IOTCA_OK) {
            cli_err("the CRL's signature does not verify with issuer %s's certificate: %s", c->args[0],
                    iotca_error_detail());
            code = EXIT_SERVER;
            goto out;
        }
    }
    if (iotca_name_format(info.issuer, &issuer) != IOTCA_OK || iotca_buf_cstr(&issuer) != IOTCA_OK) {
        cli_err("the CRL's issuer name does not parse");
        code = EXIT_SERVER;
        goto out;
    }
    if (c->json) {
        json_t *doc = to_json(c->args[0], &info, (const char *)issuer.data, !root);
        out_json(doc);
        json_decref(doc);
    } else {
        print_human(c->args[0], &info, (const char *)issuer.data, root);
    }
    if (c->out) {
        if (iotca_file_create(c->out, der.data, der.len, 0644) != IOTCA_OK) {
            cli_err("--out: %s", iotca_error_detail());
            code = EXIT_LOCAL;
        } else if (!c->json) {
            printf("\nWrote the CRL (DER) to %s\n", c->out);
        }
    }
out:
    iotca_cert_free(signer);
    iotca_buf_free(&body);
    iotca_buf_free(&der);
    iotca_buf_free(&issuer);
    return code;
}
