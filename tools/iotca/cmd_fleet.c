/* iotca fleet check: will the devices holding this trust store accept every chain the CA will serve until
 * their end of life, as their TLS stack validates? Offline on chain files, or against the daemon's schedule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/fleet.h"
#include "iotca/file.h"

#define MAX_STORE 64
#define MAX_CHAINS 16
#define MAX_PER_CHAIN 8

static void print_time(time_t t) {
    char s[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%SZ", &tm);
    fputs(s, stdout);
}

/* The daemon checks its own schedule (active and staged issuers). */
static int online(cli *c, const char *stack, const char *until) {
    iotca_rc rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    iotca_buf pem = {0};
    rc = iotca_file_read(c->trust_store, 1 << 20, &pem);
    if (rc == IOTCA_OK) rc = iotca_buf_cstr(&pem);
    if (rc != IOTCA_OK) {
        iotca_buf_free(&pem);
        return cli_report(rc);
    }
    json_t *body = json_pack("{s:s, s:s, s:s}", "trust_store", (const char *)pem.data, "stack", stack, "until", until);
    iotca_buf_free(&pem);
    json_t *res = NULL;
    int code = http_json(c, "POST", "/v1/fleet/check", body, &res);
    json_decref(body);
    if (code != EXIT_OK) return code;
    if (c->json) out_json(res);
    else {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(res, "points"), i, p) {
            printf("%s  %s  ", jstr(p, "at", "?"), json_is_true(json_object_get(p, "ok")) ? "ok    " : "BREAKS");
            out_safe(stdout, jstr(p, "reason", ""));
            printf("\n");
        }
    }
    bool broken = !json_is_null(json_object_get(res, "first_failure"));
    if (!c->json)
        printf(broken ? "first failure: %s\n" : "ok through %s\n",
               broken ? jstr(res, "first_failure", "?") : until);
    json_decref(res);
    return broken ? EXIT_FINDINGS : EXIT_OK;
}

int cmd_fleet_check(cli *c) {
    if (c->trust_store == NULL || c->until == NULL)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "fleet check needs --trust-store FILE and --until DATE"));
    iotca_stack stack = IOTCA_STACK_OPENSSL;
    time_t until = 0, now = time(NULL);
    iotca_rc rc = c->stack ? iotca_stack_parse(c->stack, &stack) : IOTCA_OK;
    if (rc == IOTCA_OK) rc = parse_date(c->until, &until);
    if (rc == IOTCA_OK && until <= now) rc = iotca_error_set(IOTCA_E_USAGE, "--until must be in the future");
    if (rc != IOTCA_OK) return cli_report(rc);
    if (c->n_chains == 0) return online(c, iotca_stack_name(stack), c->until);
    if (c->n_chains > MAX_CHAINS) return cli_report(iotca_error_set(IOTCA_E_USAGE, "at most %d --chain", MAX_CHAINS));

    iotca_buf store[MAX_STORE] = {{0}}, chains[MAX_CHAINS][MAX_PER_CHAIN] = {{{0}}};
    iotca_slice ss[MAX_STORE], cs[MAX_CHAINS][MAX_PER_CHAIN];
    iotca_served sched[MAX_CHAINS];
    size_t ns = 0;
    iotca_check_report *rep = calloc(1, sizeof *rep);
    rc = rep ? load_certs(c->trust_store, store, MAX_STORE, &ns) : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < ns; i++) ss[i] = iotca_buf_slice(&store[i]);
    for (size_t k = 0; k < c->n_chains && rc == IOTCA_OK; k++) {
        /* FILE or FILE@DATE */
        char path[1024];
        snprintf(path, sizeof path, "%s", c->chains[k]);
        char *at = strrchr(path, '@');
        sched[k].from = now;
        if (at) {
            *at = 0;
            rc = parse_date(at + 1, &sched[k].from);
        }
        size_t n = 0;
        if (rc == IOTCA_OK) rc = load_certs(path, chains[k], MAX_PER_CHAIN, &n);
        /* a chain file may start with the server's leaf: the CA certificates follow it */
        size_t skip = 0;
        iotca_cert *first = NULL;
        if (rc == IOTCA_OK && iotca_cert_parse(iotca_buf_slice(&chains[k][0]), &first) == IOTCA_OK &&
            !iotca_cert_get(first)->is_ca && n > 1)
            skip = 1;
        iotca_cert_free(first);
        for (size_t i = skip; i < n; i++) cs[k][i - skip] = iotca_buf_slice(&chains[k][i]);
        sched[k].certs = cs[k];
        sched[k].n = n - skip;
        if (rc == IOTCA_OK && k > 0 && sched[k].from < sched[k - 1].from)
            rc = iotca_error_set(IOTCA_E_USAGE, "give --chain entries in date order");
    }
    if (rc == IOTCA_OK) rc = iotca_fleet_check(ss, ns, sched, c->n_chains, stack, now, until, rep);
    int code = EXIT_OK;
    if (rc != IOTCA_OK) {
        code = cli_report(rc);
    } else if (c->json) {
        json_t *pts = json_array();
        for (size_t i = 0; i < rep->n; i++)
            json_array_append_new(pts, json_pack("{s:I, s:b, s:s}", "at", (json_int_t)rep->points[i].at, "ok",
                                                 rep->points[i].ok, "reason", rep->points[i].reason));
        json_t *doc = json_pack("{s:s, s:o, s:o}", "stack", iotca_stack_name(stack), "points", pts, "first_failure",
                                rep->first_failure ? json_integer((json_int_t)rep->first_failure) : json_null());
        out_json(doc);
        json_decref(doc);
    } else {
        for (size_t i = 0; i < rep->n; i++) {
            print_time(rep->points[i].at);
            printf("  %s  ", rep->points[i].ok ? "ok    " : "BREAKS");
            out_safe(stdout, rep->points[i].reason);
            printf("\n");
        }
        if (rep->first_failure) {
            printf("first failure (%s): ", iotca_stack_name(stack));
            print_time(rep->first_failure);
            printf("\n");
        } else {
            printf("ok through %s for %s\n", c->until, iotca_stack_name(stack));
        }
    }
    if (rc == IOTCA_OK && rep->first_failure) code = EXIT_FINDINGS;
    for (size_t i = 0; i < ns; i++) iotca_buf_free(&store[i]);
    for (size_t k = 0; k < MAX_CHAINS; k++)
        for (size_t i = 0; i < MAX_PER_CHAIN; i++) iotca_buf_free(&chains[k][i]);
    free(rep);
    return code;
}
