/* iotca cert show | revoke | list: look up, revoke and inventory issued certificates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/file.h"
#include "iotca/policy.h"
#include "iotca/x509.h"

iotca_rc normalise_serial(const char *what, const char *in, char out[41]) {
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == ':') continue;
        char ch = *p >= 'A' && *p <= 'F' ? (char)(*p - 'A' + 'a') : *p;
        IOTCA_ENSURE((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'), IOTCA_E_USAGE,
                     "%s must be hexadecimal (as iotca prints serials): '%s'", what, in);
        IOTCA_ENSURE(n < 40, IOTCA_E_USAGE, "%s is longer than 40 hex digits", what);
        out[n++] = ch;
    }
    IOTCA_ENSURE(n > 0, IOTCA_E_USAGE, "%s is empty", what);
    out[n] = 0;
    return IOTCA_OK;
}

static void print_cert(const json_t *doc) {
    char issuer[32];
    out_field("Serial:", jstr(doc, "serial", "?"));
    out_field("Subject:", jstr(doc, "subject", ""));
    out_field("Profile:", jstr(doc, "profile", "?"));
    out_field("Issuer:", jscalar(doc, "issuer", issuer, sizeof issuer, "?"));
    out_field("Not before:", jstr(doc, "not_before", "?"));
    out_field("Not after:", jstr(doc, "not_after", "?"));
    out_field("Status:", jstr(doc, "status", "?"));
    if (jstr(doc, "revoked_at", NULL)) out_field("Revoked at:", jstr(doc, "revoked_at", ""));
    if (jstr(doc, "reason", NULL)) out_field("Reason:", jstr(doc, "reason", ""));
    if (jstr(doc, "renews", NULL)) out_field("Renews:", jstr(doc, "renews", ""));
    if (jstr(doc, "renewed_by", NULL)) out_field("Renewed by:", jstr(doc, "renewed_by", ""));
}

int cmd_cert_show(cli *c) {
    char serial[41], path[64];
    iotca_rc rc = normalise_serial("SERIAL", c->args[0], serial);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc == IOTCA_OK && c->out) rc = out_path_free("--out", c->out);
    if (rc != IOTCA_OK) return cli_report(rc);
    snprintf(path, sizeof path, "/v1/certificates/%s", serial);
    json_t *doc = NULL;
    int code = http_json(c, "GET", path, NULL, &doc);
    if (code != EXIT_OK) return code;
    if (c->json) out_json(doc);
    else print_cert(doc);
    const char *pem = jstr(doc, "certificate", NULL);
    if (c->out && pem == NULL) {
        cli_err("the server's answer carries no certificate to write to --out");
        code = EXIT_SERVER;
    } else if (c->out && iotca_file_create(c->out, pem, strlen(pem), 0644) != IOTCA_OK) {
        cli_err("--out: %s", iotca_error_detail());
        code = EXIT_LOCAL;
    } else if (c->out && !c->json) {
        out_field("Written to:", c->out);
    }
    json_decref(doc);
    return code;
}

int cmd_cert_revoke(cli *c) {
    char serial[41], path[80];
    iotca_reason reason = IOTCA_REASON_UNSPECIFIED;
    iotca_rc rc = normalise_serial("SERIAL", c->args[0], serial);
    if (rc == IOTCA_OK && c->reason) rc = iotca_reason_parse(c->reason, &reason);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    snprintf(path, sizeof path, "/v1/certificates/%s/revoke", serial);
    json_t *body = json_pack("{s:s}", "reason", iotca_reason_name(reason)), *doc = NULL;
    int code = body ? http_json(c, "POST", path, body, &doc) : EXIT_LOCAL;
    json_decref(body);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
    } else {
        fputs("revoked ", stdout);
        out_safe(stdout, jstr(doc, "serial", serial));
        fputs(" (", stdout);
        out_safe(stdout, jstr(doc, "reason", iotca_reason_name(reason)));
        fputs(") at ", stdout);
        out_safe(stdout, jstr(doc, "revoked_at", "?"));
        fputs("; it is listed in the next CRL and OCSP answers\n", stdout);
    }
    json_decref(doc);
    return code;
}

/* The query of a `cert list` page, from the flags; the cursor is added per page. */
static iotca_rc list_query(const cli *c, iotca_buf *q) {
    if (c->profile) IOTCA_GUARD(http_query_add(q, "profile", c->profile));
    if (c->status) {
        IOTCA_ENSURE(strcmp(c->status, "valid") == 0 || strcmp(c->status, "revoked") == 0, IOTCA_E_USAGE,
                     "--status must be valid or revoked (got '%s')", c->status);
        IOTCA_GUARD(http_query_add(q, "status", c->status));
    }
    IOTCA_ENSURE(!c->include_revoked || c->expiring, IOTCA_E_USAGE,
                 "--include-revoked applies to --expiring (without --expiring every status is listed)");
    IOTCA_ENSURE(!c->include_revoked || !c->status, IOTCA_E_USAGE,
                 "--include-revoked and --status do not go together: --status %s already says which", c->status);
    /* what is about to expire is what needs renewing: a revoked certificate never does */
    if (c->expiring && !c->status && !c->include_revoked) IOTCA_GUARD(http_query_add(q, "status", "valid"));
    if (c->expiring) {
        long secs;
        iotca_rc rc = iotca_duration_parse(c->expiring, &secs);
        IOTCA_ENSURE(rc == IOTCA_OK, IOTCA_E_USAGE, "--expiring takes a duration like 30d, 12h or 3600s (got '%s')",
                     c->expiring);
        char when[32];
        fmt_time(time(NULL) + secs, when);
        IOTCA_GUARD(http_query_add(q, "expires_before", when));
    }
    if (c->limit) {
        char *end;
        long l = strtol(c->limit, &end, 10);
        IOTCA_ENSURE(*end == 0 && l >= 1 && l <= 1000, IOTCA_E_USAGE, "--limit must be a number from 1 to 1000");
        IOTCA_GUARD(http_query_add(q, "limit", c->limit));
    }
    return IOTCA_OK;
}

static void add_rows(table *t, const json_t *certs) {
    size_t i;
    const json_t *e;
    json_array_foreach(certs, i, e) {
        const char *row[] = {jstr(e, "serial", "?"), jstr(e, "profile", "?"), jstr(e, "status", "?"),
                             jstr(e, "not_after", "?"), jstr(e, "subject", "")};
        table_add(t, row);
    }
}

int cmd_cert_list(cli *c) {
    iotca_buf q = {0}, path = {0};
    char cursor[41] = "";
    iotca_rc rc = list_query(c, &q);
    if (rc == IOTCA_OK && c->cursor) rc = normalise_serial("--cursor", c->cursor, cursor);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc != IOTCA_OK) {
        iotca_buf_free(&q);
        return cli_report(rc);
    }
    static const char *const headers[] = {"SERIAL", "PROFILE", "STATUS", "NOT AFTER", "SUBJECT"};
    table t;
    table_init(&t, 5, headers);
    json_t *all = json_array(), *doc = NULL;
    const char *next = NULL;
    int code = EXIT_OK;
    for (;;) {
        iotca_buf_clear(&path);
        if (iotca_buf_append_str(&path, "/v1/certificates") != IOTCA_OK ||
            iotca_buf_append(&path, q.data, q.len) != IOTCA_OK ||
            (cursor[0] && iotca_buf_printf(&path, "%ccursor=%s", q.len ? '&' : '?', cursor) != IOTCA_OK) ||
            iotca_buf_cstr(&path) != IOTCA_OK) {
            code = cli_report(IOTCA_E_INTERNAL);
            break;
        }
        json_decref(doc);
        if ((code = http_json(c, "GET", (const char *)path.data, NULL, &doc)) != EXIT_OK) break;
        const json_t *certs = json_object_get(doc, "certificates");
        if (!json_is_array(certs)) {
            cli_err("the server's answer lacks the certificates list");
            code = EXIT_SERVER;
            break;
        }
        add_rows(&t, certs);
        json_array_extend(all, (json_t *)certs);
        next = jstr(doc, "next_cursor", NULL);
        if (next == NULL) break;
        char prev[41];
        memcpy(prev, cursor, sizeof prev);
        if (normalise_serial("next_cursor", next, cursor) != IOTCA_OK || strcmp(prev, cursor) == 0) {
            /* a page said more follow without a usable cursor: what was listed is still right */
            cli_err("the server's next_cursor '%s' is not a serial after the last one; %s", next,
                    c->all ? "cannot list the rest" : "cannot say where the next page starts");
            code = c->all ? EXIT_SERVER : EXIT_OK;
            next = NULL;
            break;
        }
        if (!c->all) break;
    }
    if (code == EXIT_OK && c->json && !c->all) {
        out_json(doc); /* one page: the server's document as it is */
    } else if (code == EXIT_OK && c->json) {
        json_t *out = json_pack("{s:O, s:o}", "certificates", all, "next_cursor", json_null());
        out_json(out);
        json_decref(out);
    } else if (code == EXIT_OK) {
        if (t.nrows > 1) table_print(&t, stdout);
        else puts("no certificates match");
        if (next && !c->all) {
            fflush(stdout); /* the hint follows the table on a terminal */
            fputs("iotca: more certificates follow; continue with --cursor ", stderr);
            out_safe(stderr, next);
            fputs(" or list them all with --all\n", stderr);
        }
    }
    json_decref(doc);
    json_decref(all);
    table_free(&t);
    iotca_buf_free(&q);
    iotca_buf_free(&path);
    return code;
}
