/* The counts page: certificates issued, issuance refused and certificates revoked per week, counted by the
 * store (so every replica's work, and what happened before the last restart), as a chart and a table.
 * ?weeks=N (4 to 260, default 26) sets how far back. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotca/ca_dashboard.h"
#include "ui.h"

#define WEEK 604800L

/* The requests that issue, as the audit trail names them ("<method> <path>", http/audit.c) with the paths of
 * routes.c: REST issuance, renewal and bridges, EST enrolment (simpleenroll, simplereenroll, serverkeygen) and
 * ACME finalize. A refusal is a 4xx answer. */
static const char *const issuing[] = {"POST /v1/certificates",
                                      "POST /v1/certificates/%/renew",
                                      "POST /v1/bridges",
                                      "POST /v1/certificates/bridge",
                                      "POST /.well-known/est/%enroll",
                                      "POST /.well-known/est/%serverkeygen",
                                      "POST /acme/%/order/%/finalize",
                                      NULL};

/* Adds the rows of one count into the weeks' field at offset field. */
static void merge(iotca_count_week *w, size_t nw, const iotca_week_count *c, size_t n, size_t field) {
    for (size_t i = 0; i < n; i++)
        if (c[i].week < nw) *(unsigned long *)((char *)&w[c[i].week] + field) += c[i].n;
}

/* Fills the weeks from since: issued, refused, revoked. */
static bool counted(iotca_ca *ca, time_t since, size_t nw, iotca_count_week *w) {
    iotca_week_count *c = NULL;
    size_t n = 0;
    bool ok = iotca_ca_weekly(ca, IOTCA_WEEKLY_ISSUED, since, nw, &c, &n) == IOTCA_OK;
    if (ok) merge(w, nw, c, n, offsetof(iotca_count_week, issued));
    free(c);
    c = NULL;
    ok = ok && iotca_ca_weekly(ca, IOTCA_WEEKLY_REVOKED, since, nw, &c, &n) == IOTCA_OK;
    if (ok) merge(w, nw, c, n, offsetof(iotca_count_week, revoked));
    free(c);
    c = NULL;
    ok = ok && iotca_ca_weekly_audit(ca, since, nw, issuing, "4%", &c, &n) == IOTCA_OK;
    if (ok) merge(w, nw, c, n, offsetof(iotca_count_week, refused));
    free(c);
    for (size_t i = 0; i < nw; i++) w[i].week = since + (time_t)i * WEEK;
    return ok;
}

void ui_counts(request *r, const char *const *p, response *out) {
    (void)p;
    ui_ctx ctx;
    if (!ui_begin(r, out, IOTCA_ROLE_NONE, NULL, &ctx)) return;
    long nweeks;
    if (!ui_query_number(r, out, &ctx, "weeks", 4, 260, 26, &nweeks)) return;
    time_t now = time(NULL), this_week = now - now % WEEK, since = this_week - (nweeks - 1) * WEEK;
    iotca_count_week *w = calloc((size_t)nweeks, sizeof *w);
    iotca_buf b = {0}, svg = {0};
    ui_page_start(&b, &ctx, "Counts", "/ui/counts");
    iotca_html(&b, "<h1>Counts</h1><section id=\"counts\"><p class=\"muted\">Per week, from the store: certificates "
                   "issued, issuance requests refused (REST, renewal, EST and ACME), certificates revoked. "
                   "<a href=\"/ui/counts?weeks=13\">13 weeks</a>, <a href=\"/ui/counts?weeks=52\">52 weeks</a>, "
                   "<a href=\"/ui/counts?weeks=260\">5 years</a>.</p>");
    bool ok = w != NULL && counted(r->srv->ca, since, (size_t)nweeks, w);
    if (!ok || iotca_counts_svg(w, (size_t)nweeks, &svg) != IOTCA_OK || iotca_buf_cstr(&svg) != IOTCA_OK) {
        ui_unreadable(&b, r, "The counts");
        goto send;
    }
    iotca_html(&b,
               "%H<div class=\"scroll\"><table id=\"counts-table\"><thead><tr><th>Week of</th><th>Issued</th>"
               "<th>Refused</th><th>Revoked</th></tr></thead><tbody>",
               (const char *)svg.data);
    unsigned long ti = 0, tf = 0, tr = 0;
    for (long i = nweeks - 1; i >= 0; i--) {
        ti += w[i].issued, tf += w[i].refused, tr += w[i].revoked;
        iotca_html(&b,
                   "<tr><td>%T</td><td class=\"num\">%ld</td><td class=\"num\">%ld</td><td class=\"num\">%ld</td>"
                   "</tr>",
                   w[i].week, (long)w[i].issued, (long)w[i].refused, (long)w[i].revoked);
    }
    iotca_html(&b,
               "</tbody><tfoot><tr><th>Total</th><td class=\"num\" id=\"total-issued\">%ld</td><td class=\"num\" "
               "id=\"total-refused\">%ld</td><td class=\"num\" id=\"total-revoked\">%ld</td></tr></tfoot></table>"
               "</div>",
               (long)ti, (long)tf, (long)tr);
send:
    iotca_html(&b, "</section>");
    ui_page_send(out, 200, &b);
    iotca_buf_free(&svg);
    free(w);
}
