/* iotca issuers list | new | import | csr | abandon, and iotca roots: the issuer lifecycle around the offline ceremony, and the trust anchors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/file.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

#define CERT_FILE_MAX 65536

static const char *time_or_dash(const json_t *o, const char *key) { return jstr(o, key, "-"); }

/* The advance warnings (SPEC §7: roots and issuers nearing their end, a rotation due with no successor, a held
 * activation), one line each, as GET /v1/issuers gives them: what --json shows, in words. */
static void print_warnings(const json_t *warnings) {
    size_t i;
    const json_t *w;
    json_array_foreach(warnings, i, w) {
        fputs("warning: ", stdout);
        out_safe(stdout, jstr(w, "subject", "?"));
        fputs(": ", stdout);
        out_safe(stdout, jstr(w, "message", "?"));
        fputs(" (", stdout);
        out_safe(stdout, jstr(w, "kind", "?"));
        fputs(")\n", stdout);
    }
}

int cmd_issuers_list(cli *c) {
    iotca_rc rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    json_t *doc = NULL;
    int code = http_json(c, "GET", "/v1/issuers", NULL, &doc);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
        json_decref(doc);
        return code;
    }
    static const char *const headers[] = {"ID", "NAME", "GROUP", "STATE", "NOT BEFORE", "NOT AFTER", "ACTIVATE AT"};
    table t;
    table_init(&t, 7, headers);
    size_t i;
    const json_t *e;
    char id[32];
    json_array_foreach(json_object_get(doc, "issuers"), i, e) {
        const char *row[] = {jscalar(e, "id", id, sizeof id, "?"), jstr(e, "name", "?"), jstr(e, "group", "?"),
                             jstr(e, "state", "?"), time_or_dash(e, "not_before"), time_or_dash(e, "not_after"),
                             time_or_dash(e, "activate_at")};
        table_add(&t, row);
    }
    if (t.nrows > 1) table_print(&t, stdout);
    else puts("no issuers yet; make one with: iotca issuers new");
    const json_t *next = json_object_get(doc, "next");
    if (json_is_object(next)) {
        fputs("next: issuer ", stdout);
        out_safe(stdout, jscalar(next, "id", id, sizeof id, "?"));
        fputs(" (", stdout);
        out_safe(stdout, jstr(next, "state", "?"));
        if (jstr(next, "activate_at", NULL)) {
            fputs(", activates ", stdout);
            out_safe(stdout, jstr(next, "activate_at", ""));
        }
        fputs(")\n", stdout);
    } else if (t.nrows > 1) {
        puts("next: none scheduled");
    }
    json_array_foreach(json_object_get(doc, "issuers"), i, e) { /* preflight overrides, with what they broke */
        const json_t *ov = json_object_get(e, "preflight_override"), *b;
        if (!json_is_object(ov)) continue;
        printf("issuer %s: preflight overridden %s by ", jscalar(e, "id", id, sizeof id, "?"), jstr(ov, "at", "?"));
        out_safe(stdout, jstr(ov, "by", "?"));
        fputs(": ", stdout);
        out_safe(stdout, jstr(ov, "justification", ""));
        fputc('\n', stdout);
        size_t k;
        json_array_foreach(json_object_get(ov, "broken_profiles"), k, b) {
            fputs("  breaks trust profile ", stdout);
            out_safe(stdout, jstr(b, "profile", "?"));
            fputs(" on ", stdout);
            out_safe(stdout, jstr(b, "breaks_on", "?"));
            fputs(": ", stdout);
            out_safe(stdout, jstr(b, "reason", ""));
            fputc('\n', stdout);
        }
    }
    print_warnings(json_object_get(doc, "warnings"));
    table_free(&t);
    json_decref(doc);
    return code;
}

int cmd_issuers_new(cli *c) {
    iotca_rc rc = http_check_target(c);
    if (rc == IOTCA_OK && c->csr_out) rc = out_path_free("--csr-out", c->csr_out);
    if (rc != IOTCA_OK) return cli_report(rc);
    json_t *body = json_object(), *doc = NULL;
    if (c->group) json_object_set_new(body, "group", json_string(c->group));
    if (c->cn) json_object_set_new(body, "common_name", json_string(c->cn));
    int code = http_json(c, "POST", "/v1/issuers", body, &doc);
    json_decref(body);
    if (code != EXIT_OK) return code;
    char id[32];
    const char *csr = jstr(doc, "csr", NULL), *idtext = jscalar(doc, "id", id, sizeof id, "?");
    if (c->json) out_json(doc);
    if (csr == NULL) {
        cli_err("the server's answer carries no CSR");
        code = EXIT_SERVER;
    } else if (c->csr_out && iotca_file_create(c->csr_out, csr, strlen(csr), 0644) != IOTCA_OK) {
        cli_err("--csr-out: %s; the issuer was created, here is its CSR", iotca_error_detail());
        fputs(csr, stdout);
        code = EXIT_LOCAL;
    } else if (c->csr_out == NULL && !c->json) {
        fputs(csr, stdout);
    }
    if (code == EXIT_OK && !c->json) {
        FILE *f = c->csr_out ? stdout : stderr; /* keep stdout pure PEM when the CSR goes there */
        fputs("created issuer ", f);
        out_safe(f, idtext);
        fputs(" (", f);
        out_safe(f, jstr(doc, "state", "pending"));
        fprintf(f, "); its CSR is in %s\n", c->csr_out ? c->csr_out : "standard output");
        fputs("next: sign it offline with iotca-root sign-intermediate --vault DIR --csr CSR --out CERT,\n", f);
        fputs("      then: iotca issuers import ", f);
        out_safe(f, idtext);
        fputs(" CERT [--activate-at TIME]\n", f);
    }
    json_decref(doc);
    return code;
}

/* "2030-01-31T00:00:00Z" or "2030-01-31", the forms the server takes, normalised to the first. */
static iotca_rc parse_when(const char *s, char out[32]) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%Y-%m-%d", &tm);
    }
    IOTCA_ENSURE(end != NULL && *end == 0, IOTCA_E_USAGE,
                 "--activate-at must be RFC 3339 UTC (2030-01-31T00:00:00Z) or a date (2030-01-31), got '%s'", s);
    fmt_time(timegm(&tm), out);
    return IOTCA_OK;
}

/* Reads the signed issuer certificate (PEM or DER) and returns it as PEM. */
static iotca_rc load_cert(const char *path, iotca_buf *pem) {
    iotca_rc rc = IOTCA_OK;
    iotca_buf raw = {0};
    iotca_cert *cert = NULL;
    IOTCA_TRY(iotca_file_read(path, CERT_FILE_MAX, &raw));
    if (iotca_cert_parse(iotca_buf_slice(&raw), &cert) != IOTCA_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", iotca_error_detail()); /* the detail buffer is about to be rewritten */
        IOTCA_CHECK(false, IOTCA_E_USAGE, "%s is not a certificate: %s", path, why);
    }
    IOTCA_CHECK(iotca_cert_get(cert)->is_ca, IOTCA_E_USAGE,
                "%s is not a CA certificate; import the one iotca-root sign-intermediate wrote", path);
    const iotca_cert_info *ci = iotca_cert_get(cert);
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE", ci->der.p, ci->der.len, pem));
    IOTCA_TRY(iotca_buf_cstr(pem));
out:
    iotca_cert_free(cert);
    iotca_buf_free(&raw);
    return rc;
}

int cmd_issuers_import(cli *c) {
    char *end, when[32] = "", path[64];
    long long id = strtoll(c->args[0], &end, 10);
    iotca_buf pem = {0};
    iotca_rc rc = IOTCA_OK;
    if (*c->args[0] == 0 || *end || id <= 0)
        rc = iotca_error_set(IOTCA_E_USAGE, "issuer ID must be a positive number (see iotca issuers list), got '%s'",
                             c->args[0]);
    if (rc == IOTCA_OK && c->activate_at) rc = parse_when(c->activate_at, when);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc == IOTCA_OK) rc = load_cert(c->args[1], &pem);
    if (rc != IOTCA_OK) {
        iotca_buf_free(&pem);
        return cli_report(rc);
    }
    json_t *body = json_pack("{s:s}", "certificate", (const char *)pem.data), *doc = NULL;
    if (when[0]) json_object_set_new(body, "activate_at", json_string(when));
    if (c->force_justification) json_object_set_new(body, "force_justification", json_string(c->force_justification));
    snprintf(path, sizeof path, "/v1/issuers/%lld/certificate", id);
    int code = http_json(c, "PUT", path, body, &doc);
    json_decref(body);
    iotca_buf_free(&pem);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
    } else {
        char idt[32];
        fputs("imported issuer ", stdout);
        out_safe(stdout, jscalar(doc, "id", idt, sizeof idt, c->args[0]));
        fputs(" ", stdout);
        out_safe(stdout, jstr(doc, "name", ""));
        fputs(": state ", stdout);
        out_safe(stdout, jstr(doc, "state", "?"));
        if (jstr(doc, "activate_at", NULL)) {
            fputs(", activates ", stdout);
            out_safe(stdout, jstr(doc, "activate_at", ""));
        }
        fputs(", valid ", stdout);
        out_safe(stdout, time_or_dash(doc, "not_before"));
        fputs(" to ", stdout);
        out_safe(stdout, time_or_dash(doc, "not_after"));
        fputc('\n', stdout);
    }
    json_decref(doc);
    return code;
}

/* Appends one root as a commented PEM block, after checking the pin the server states is the certificate's. */
static iotca_rc add_root(const json_t *r, iotca_buf *out) {
    const char *pem = jstr(r, "certificate", NULL), *pin = jstr(r, "spki_sha256", "");
    IOTCA_ENSURE(pem != NULL, IOTCA_E_PARSE, "a root in the server's answer has no certificate");
    iotca_cert *cert = NULL;
    iotca_buf hex = {0};
    uint8_t h[32];
    iotca_rc rc = iotca_cert_parse(iotca_slice_of(pem, strlen(pem)), &cert);
    IOTCA_CHECK(rc == IOTCA_OK, IOTCA_E_PARSE, "a root in the server's answer does not parse");
    iotca_cert_spki_pin(cert, h);
    IOTCA_TRY(iotca_hex_encode(h, sizeof h, &hex));
    IOTCA_CHECK(strcmp((const char *)hex.data, pin) == 0, IOTCA_E_PARSE,
                "the server's SPKI pin for a root does not match its certificate");
    char when[32];
    fmt_time(iotca_cert_get(cert)->not_after, when);
    iotca_buf subject = {0};
    iotca_name_format(iotca_cert_get(cert)->subject, &subject);
    iotca_buf_cstr(&subject);
    for (size_t i = 0; i < subject.len; i++)
        if (subject.data[i] < 0x20 || subject.data[i] == 0x7f) subject.data[i] = '?';
    rc = iotca_buf_printf(out, "# Subject: %s\n# Not after: %s\n# SPKI SHA-256: %s\n",
                          subject.data ? (const char *)subject.data : "", when, (const char *)hex.data);
    iotca_buf_free(&subject);
    IOTCA_TRY(rc);
    IOTCA_TRY(iotca_buf_append_str(out, pem));
    if (out->len && out->data[out->len - 1] != '\n') IOTCA_TRY(iotca_buf_append_byte(out, '\n'));
out:
    iotca_cert_free(cert);
    iotca_buf_free(&hex);
    return rc;
}

int cmd_roots(cli *c) {
    iotca_rc rc = http_check_target(c);
    if (rc == IOTCA_OK && c->out) rc = out_path_free("--out", c->out);
    if (rc != IOTCA_OK) return cli_report(rc);
    json_t *doc = NULL;
    int code = http_json(c, "GET", "/v1/ca/roots", NULL, &doc);
    if (code != EXIT_OK) return code;
    iotca_buf pem = {0};
    size_t i, n = 0;
    const json_t *r;
    json_array_foreach(json_object_get(doc, "roots"), i, r) {
        if ((rc = add_root(r, &pem)) != IOTCA_OK) break;
        n++;
    }
    if (rc != IOTCA_OK || n == 0) {
        cli_err("%s", rc != IOTCA_OK ? iotca_error_detail() : "the server lists no roots");
        code = EXIT_SERVER;
    } else if (c->out && iotca_file_create(c->out, pem.data, pem.len, 0644) != IOTCA_OK) {
        cli_err("--out: %s", iotca_error_detail());
        code = EXIT_LOCAL;
    }
    if (code == EXIT_OK && c->json) out_json(doc);
    else if (code == EXIT_OK && c->out) printf("wrote %zu root%s to %s\n", n, n == 1 ? "" : "s", c->out);
    else if (code == EXIT_OK) fwrite(pem.data, 1, pem.len, stdout);
    if (code == EXIT_OK && jstr(doc, "warning", NULL)) cli_err("warning: %s", jstr(doc, "warning", ""));
    iotca_buf_free(&pem);
    json_decref(doc);
    return code;
}

/* The ID argument of issuers csr / abandon / import: a positive number. */
static iotca_rc issuer_arg(const char *arg, long long *id) {
    char *end;
    *id = strtoll(arg, &end, 10);
    IOTCA_ENSURE(*arg != 0 && *end == 0 && *id > 0, IOTCA_E_USAGE,
                 "issuer ID must be a positive number (see iotca issuers list), got '%s'", arg);
    return IOTCA_OK;
}

int cmd_issuers_csr(cli *c) {
    long long id = 0;
    iotca_rc rc = issuer_arg(c->args[0], &id);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc == IOTCA_OK && c->csr_out) rc = out_path_free("--csr-out", c->csr_out);
    if (rc != IOTCA_OK) return cli_report(rc);
    char path[64];
    snprintf(path, sizeof path, "/v1/issuers/%lld/csr", id);
    json_t *doc = NULL;
    int code = http_json(c, "GET", path, NULL, &doc);
    if (code != EXIT_OK) return code;
    const char *csr = jstr(doc, "csr", NULL);
    if (c->json) out_json(doc);
    if (csr == NULL) {
        cli_err("the server's answer carries no CSR");
        code = EXIT_SERVER;
    } else if (c->csr_out && iotca_file_create(c->csr_out, csr, strlen(csr), 0644) != IOTCA_OK) {
        cli_err("--csr-out: %s", iotca_error_detail());
        code = EXIT_LOCAL;
    } else if (c->csr_out && !c->json) {
        printf("wrote the CSR of pending issuer %lld to %s; sign it with iotca-root sign-intermediate\n", id, c->csr_out);
    } else if (!c->json) {
        fputs(csr, stdout);
    }
    json_decref(doc);
    return code;
}

int cmd_issuers_abandon(cli *c) {
    long long id = 0;
    iotca_rc rc = issuer_arg(c->args[0], &id);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    char path[64];
    snprintf(path, sizeof path, "/v1/issuers/%lld", id);
    json_t *doc = NULL;
    int code = http_json(c, "DELETE", path, NULL, &doc);
    if (code != EXIT_OK) return code;
    if (c->json) out_json(doc);
    else printf("abandoned issuer %lld: its key is wiped; it stays in iotca issuers list as abandoned\n", id);
    json_decref(doc);
    return code;
}
