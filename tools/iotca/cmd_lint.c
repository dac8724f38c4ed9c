/* iotca lint: checks a device trust store offline, before it is flashed into a fleet (SPEC §7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/fleet.h"
#include "iotca/file.h"
#include "iotca/pem.h"

#define PEM_FILE_MAX (1 << 20)
#define MAX_CERTS 64

/* Reads every CERTIFICATE block of a PEM file (or one DER certificate). */
iotca_rc load_certs(const char *path, iotca_buf *der, size_t max, size_t *n) {
    iotca_buf text = {0};
    *n = 0;
    iotca_rc rc = iotca_file_read(path, PEM_FILE_MAX, &text);
    if (rc == IOTCA_OK && text.len && text.data[0] == 0x30) {
        rc = iotca_buf_append(&der[0], text.data, text.len);
        *n = rc == IOTCA_OK;
    } else if (rc == IOTCA_OK) {
        iotca_slice in = iotca_buf_slice(&text);
        while (*n < max && iotca_pem_next(&in, "CERTIFICATE", &der[*n], NULL) == IOTCA_OK) (*n)++;
        if (*n == 0) rc = iotca_error_set(IOTCA_E_PARSE, "%s holds no certificate", path);
        else if (*n == max && iotca_pem_next(&in, "CERTIFICATE", &der[0], NULL) == IOTCA_OK)
            rc = iotca_error_set(IOTCA_E_USAGE, "%s holds more than %zu certificates", path, max);
    }
    iotca_buf_free(&text);
    return rc;
}

iotca_rc parse_date(const char *s, time_t *out) {
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    IOTCA_ENSURE(end && (*end == 0 || (*end == 'T' && strptime(end, "T%H:%M:%SZ", &tm) && strlen(end) == 10)),
                 IOTCA_E_USAGE, "'%s' is not a date like 2040-01-01 (or 2040-01-01T00:00:00Z)", s);
    *out = timegm(&tm);
    return IOTCA_OK;
}

int cmd_lint(cli *c) {
    if (c->trust_store == NULL) return cli_report(iotca_error_set(IOTCA_E_USAGE, "lint needs --trust-store FILE"));
    iotca_stack stack = IOTCA_STACK_OPENSSL;
    time_t until = 0;
    iotca_rc rc = c->stack ? iotca_stack_parse(c->stack, &stack) : IOTCA_OK;
    if (rc == IOTCA_OK && c->until) rc = parse_date(c->until, &until);
    if (rc != IOTCA_OK) return cli_report(rc);
    iotca_buf store[MAX_CERTS] = {{0}}, chain[16] = {{0}};
    size_t ns = 0, nc = 0;
    iotca_slice ss[MAX_CERTS], cs[16];
    iotca_lint_report *rep = calloc(1, sizeof *rep);
    rc = rep ? load_certs(c->trust_store, store, MAX_CERTS, &ns) : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    if (rc == IOTCA_OK && c->n_chains > 1) rc = iotca_error_set(IOTCA_E_USAGE, "lint takes one --chain");
    if (rc == IOTCA_OK && c->n_chains == 1) rc = load_certs(c->chains[0], chain, 16, &nc);
    for (size_t i = 0; i < ns; i++) ss[i] = iotca_buf_slice(&store[i]);
    for (size_t i = 0; i < nc; i++) cs[i] = iotca_buf_slice(&chain[i]);
    /* the served chain file may start with a leaf: only its CA certificates are linted against the store */
    if (rc == IOTCA_OK) rc = iotca_lint_trust_store(ss, ns, cs, nc, stack, time(NULL), until, rep);
    int code = EXIT_OK;
    if (rc != IOTCA_OK) {
        code = cli_report(rc);
    } else if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < rep->n; i++) {
            const iotca_finding *f = &rep->findings[i];
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "severity",
                                                 f->severity == IOTCA_LINT_ERROR ? "error" : "warning", "code", f->code,
                                                 "subject", f->subject, "message", f->message));
        }
        json_t *doc = json_pack("{s:s, s:I, s:I, s:o}", "stack", iotca_stack_name(stack), "errors",
                                (json_int_t)rep->errors, "warnings", (json_int_t)rep->warnings, "findings", arr);
        out_json(doc);
        json_decref(doc);
    } else {
        for (size_t i = 0; i < rep->n; i++) {
            const iotca_finding *f = &rep->findings[i];
            printf("%s %s: ", f->severity == IOTCA_LINT_ERROR ? "ERROR" : "warning", f->code);
            if (f->subject[0]) {
                out_safe(stdout, f->subject);
                printf(": ");
            }
            out_safe(stdout, f->message);
            printf("\n");
        }
        printf("%zu certificate(s) in the trust store, stack %s: %zu error(s), %zu warning(s)\n", ns,
               iotca_stack_name(stack), rep->errors, rep->warnings);
    }
    if (rc == IOTCA_OK && rep->errors) code = EXIT_FINDINGS;
    for (size_t i = 0; i < ns; i++) iotca_buf_free(&store[i]);
    for (size_t i = 0; i < nc; i++) iotca_buf_free(&chain[i]);
    free(rep);
    return code;
}
