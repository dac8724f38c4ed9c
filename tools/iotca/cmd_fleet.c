/* iotca fleet check: will the devices holding this trust store accept every chain the CA will serve until
 * their end of life, as their TLS stack validates? Offline on chain files, or against the daemon's schedule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/fleet.h"
#include "iotca/file.h"
#include "iotca/json_views.h"
#include "iotca/pem.h"
#include "iotca/policy.h"

#include <curl/curl.h>

#define MAX_STORE 64
#define MAX_CHAINS 16
#define MAX_PER_CHAIN (IOTCA_SERVED_MAX + 1) /* the leaf and the CA certificates after it */

static void print_time(time_t t) {
    char s[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%SZ", &tm);
    fputs(s, stdout);
}

/* The daemon checks its own schedule (active and staged issuers); with every, for devices refreshing their
 * store from its cacerts when they re-enroll. */
static int online(cli *c, const char *stack, const char *until, const char *every) {
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
    if (every) json_object_set_new(body, "reenroll_every", json_string(every));
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

/* The certificate chain a live TLS server sends (leaf first), fetched without trusting it: what is
 * being checked is exactly what devices receive. Appends each certificate's DER to der[]. */
static iotca_rc endpoint_chain(const char *hostport, iotca_buf *der, size_t max, size_t *n) {
    *n = 0;
    IOTCA_ENSURE(strlen(hostport) < 256 && strchr(hostport, ':') && !strchr(hostport, '/'), IOTCA_E_USAGE,
                 "--endpoint takes host:port");
    char url[300];
    snprintf(url, sizeof url, "https://%s/", hostport);
    CURL *h = curl_easy_init();
    IOTCA_ENSURE(h != NULL, IOTCA_E_INTERNAL, "cannot initialise libcurl");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L); /* the handshake only: nothing is sent */
    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* we inspect the chain; we do not trust it */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    CURLcode cc = curl_easy_perform(h);
    iotca_rc rc = IOTCA_OK;
    struct curl_certinfo *ci = NULL;
    if (cc != CURLE_OK) rc = iotca_error_set(IOTCA_E_STORAGE, "cannot complete a TLS handshake with %s: %s", hostport, curl_easy_strerror(cc));
    else if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL || ci->num_of_certs < 1)
        rc = iotca_error_set(IOTCA_E_STORAGE, "%s sent no certificate chain", hostport);
    for (int i = 0; rc == IOTCA_OK && ci && i < ci->num_of_certs && *n < max; i++)
        for (struct curl_slist *s = ci->certinfo[i]; s; s = s->next)
            if (strncmp(s->data, "Cert:", 5) == 0) {
                iotca_slice text = iotca_slice_of(s->data + 5, strlen(s->data + 5));
                if (iotca_pem_next(&text, "CERTIFICATE", &der[*n], NULL) == IOTCA_OK) (*n)++;
            }
    if (rc == IOTCA_OK && *n == 0) rc = iotca_error_set(IOTCA_E_STORAGE, "could not read the chain %s sent", hostport);
    curl_easy_cleanup(h);
    return rc;
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
    if (c->endpoint && c->n_chains) return cli_report(iotca_error_set(IOTCA_E_USAGE, "--endpoint and --chain exclude each other"));
    bool offline = c->n_chains > 0 || c->endpoint;
    if (c->refresh_from && !c->reenroll_every)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "--refresh-from needs --reenroll-every"));
    if (offline && !c->refresh_from != !c->reenroll_every)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "an offline check takes --refresh-from and --reenroll-every "
                                                         "together (the daemon's own check uses its cacerts)"));
    long every = 0;
    if (c->reenroll_every && iotca_duration_parse(c->reenroll_every, &every) != IOTCA_OK)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "--reenroll-every: %s", iotca_error_detail()));
    if (c->refresh_from && !offline)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "--refresh-from checks --chain or --endpoint offline; "
                                                         "against the daemon, --reenroll-every alone uses its "
                                                         "cacerts"));
    if (!offline) return online(c, iotca_stack_name(stack), c->until, c->reenroll_every);
    if (c->n_chains > MAX_CHAINS) return cli_report(iotca_error_set(IOTCA_E_USAGE, "at most %d --chain", MAX_CHAINS));

    iotca_buf store[MAX_STORE] = {{0}}, chains[MAX_CHAINS][MAX_PER_CHAIN] = {{{0}}}, cac[MAX_STORE] = {{0}};
    iotca_slice ss[MAX_STORE], cs[MAX_CHAINS][MAX_PER_CHAIN], cas[MAX_STORE];
    iotca_served sched[MAX_CHAINS] = {{0}};
    size_t ns = 0;
    iotca_check_report *rep = calloc(1, sizeof *rep);
    rc = rep ? load_certs(c->trust_store, store, MAX_STORE, &ns) : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < ns; i++) ss[i] = iotca_buf_slice(&store[i]);
    size_t n_cac = 0;
    if (rc == IOTCA_OK && c->refresh_from) rc = load_certs(c->refresh_from, cac, MAX_STORE, &n_cac);
    for (size_t i = 0; i < n_cac; i++) cas[i] = iotca_buf_slice(&cac[i]);
    iotca_refresh refresh = {.cacerts = cas, .n = n_cac, .every = every};
    size_t n_sched = c->n_chains;
    if (rc == IOTCA_OK && c->endpoint) {
        size_t n = 0;
        rc = endpoint_chain(c->endpoint, chains[0], MAX_PER_CHAIN, &n);
        /* the leaf is the server's own: each stack builds its path from it over the CAs after it and the store */
        for (size_t i = 1; i < n; i++) cs[0][i - 1] = iotca_buf_slice(&chains[0][i]);
        if (n > 0) sched[0].leaf = iotca_buf_slice(&chains[0][0]);
        sched[0].from = now;
        sched[0].certs = cs[0];
        sched[0].n = n > 1 ? n - 1 : 0;
        n_sched = 1;
        if (rc == IOTCA_OK && n < 2) rc = iotca_error_set(IOTCA_E_POLICY, "%s sends no intermediate: servers must send the chain (SPEC §1)", c->endpoint);
    }
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
        /* a chain file may start with the server's leaf (not a CA): it is judged too, and the CA certificates
         * follow it in the server's order; without one, the first certificate is the issuing CA */
        size_t skip = 0;
        iotca_cert *first = NULL;
        if (rc == IOTCA_OK && iotca_cert_parse(iotca_buf_slice(&chains[k][0]), &first) == IOTCA_OK &&
            !iotca_cert_get(first)->is_ca) {
            skip = 1;
            sched[k].leaf = iotca_buf_slice(&chains[k][0]);
        }
        iotca_cert_free(first);
        for (size_t i = skip; i < n; i++) cs[k][i - skip] = iotca_buf_slice(&chains[k][i]);
        sched[k].certs = cs[k];
        sched[k].n = n - skip;
        if (rc == IOTCA_OK && k > 0 && sched[k].from < sched[k - 1].from)
            rc = iotca_error_set(IOTCA_E_USAGE, "give --chain entries in date order");
    }
    if (rc == IOTCA_OK) rc = iotca_fleet_check_refreshing(ss, ns, &refresh, sched, n_sched, stack, now, until, rep);
    int code = EXIT_OK;
    if (rc != IOTCA_OK) {
        code = cli_report(rc);
    } else if (c->json) {
        json_t *pts = json_array();
        for (size_t i = 0; i < rep->n; i++)
            /* RFC 3339, as POST /v1/fleet/check answers (lib/json: one formatter for the daemon and the CLI) */
            json_array_append_new(pts, json_pack("{s:o, s:b, s:s}", "at", iotca_json_time(rep->points[i].at), "ok",
                                                 rep->points[i].ok, "reason", rep->points[i].reason));
        json_t *doc = json_pack("{s:s, s:o, s:o}", "stack", iotca_stack_name(stack), "points", pts, "first_failure",
                                iotca_json_time(rep->first_failure));
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
    for (size_t i = 0; i < n_cac; i++) iotca_buf_free(&cac[i]);
    for (size_t k = 0; k < MAX_CHAINS; k++)
        for (size_t i = 0; i < MAX_PER_CHAIN; i++) iotca_buf_free(&chains[k][i]);
    free(rep);
    return code;
}
