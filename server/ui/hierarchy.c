/* The dashboard's first page: the hierarchy. Roots with their pins and expiry, cross-signs, and (for an admin)
 * the issuers of each group with state and dates, the next issuer and when it activates, and the advance
 * warnings (SPEC §7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotca/ca_dashboard.h"
#include "ui.h"

#define MAX_ANCHORS 32

static long days_left(time_t t, time_t now) { return (long)((t - now) / 86400); }

static void roots_section(iotca_buf *b, iotca_ca *ca, time_t now) {
    iotca_ca_anchor a[MAX_ANCHORS];
    size_t n;
    iotca_ca_anchors(ca, a, MAX_ANCHORS, &n);
    iotca_html(b, "<section id=\"roots\"><h2>Roots</h2><div class=\"scroll\"><table><thead><tr><th>Root</th>"
                  "<th>Key</th><th>Valid until</th><th>Days left</th><th>SPKI SHA-256 pin</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        if (a[i].cross) continue;
        iotca_buf pin = {0};
        if (iotca_hex_encode(a[i].pin, sizeof a[i].pin, &pin) != IOTCA_OK) iotca_buf_free(&pin);
        long d = days_left(a[i].not_after, now);
        iotca_html(b,
                   "<tr class=\"root\"><td>%s</td><td>%s</td><td>%T</td><td class=\"num %H\">%ld</td>"
                   "<td class=\"mono\">%s</td></tr>",
                   a[i].subject, a[i].key, a[i].not_after, d < 180 ? "warn" : "", d,
                   pin.data ? (const char *)pin.data : "?");
        iotca_buf_free(&pin);
    }
    iotca_html(b, "</tbody></table></div>");
    size_t crosses = 0;
    for (size_t i = 0; i < n; i++) crosses += a[i].cross;
    if (crosses == 0) {
        iotca_html(b, "<p class=\"muted\" id=\"no-cross\">No cross-certificates are configured.</p></section>");
        return;
    }
    iotca_html(b, "<h2>Cross-signs</h2><div class=\"scroll\"><table id=\"cross\"><thead><tr><th>Certifies</th>"
                  "<th>Signed by</th><th>Valid until</th><th>State</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        if (!a[i].cross) continue;
        bool live = a[i].not_after > now;
        iotca_html(b, "<tr class=\"cross\"><td>%s</td><td>%s</td><td>%T</td><td class=\"%H\">%s</td></tr>",
                   a[i].subject, a[i].issuer, a[i].not_after, live ? "ok" : "bad",
                   live ? "valid: devices may still chain through it" : "ended");
    }
    iotca_html(b, "</tbody></table></div></section>");
}

/* One group's issuers, newest first as the store lists them. */
static void group_table(iotca_buf *b, const iotca_issuer_rec *list, size_t n, const char *group) {
    iotca_html(b,
               "<h3>Group %s</h3><div class=\"scroll\"><table class=\"issuers\" data-group=\"%s\"><thead><tr>"
               "<th>Issuer</th><th>State</th><th>Valid from</th><th>Valid until</th><th>Active from</th></tr>"
               "</thead><tbody>",
               group, group);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].group, group) != 0 || list[i].state == IOTCA_ISSUER_ABANDONED) continue;
        const char *st = iotca_issuer_state_name(list[i].state);
        iotca_html(b,
                   "<tr class=\"issuer\" data-state=\"%s\"><td>%s <span class=\"muted\">#%lld</span></td>"
                   "<td><span class=\"state %s\">%s</span></td>",
                   st, list[i].name, (long long)list[i].id, st, st);
        if (list[i].cert.len)
            iotca_html(b, "<td>%T</td><td>%T</td>", list[i].not_before, list[i].not_after);
        else
            iotca_html(b, "<td colspan=\"2\" class=\"muted\">awaiting the ceremony</td>");
        if (list[i].activate_at)
            iotca_html(b, "<td>%D</td></tr>", list[i].activate_at);
        else
            iotca_html(b, "<td class=\"muted\">-</td></tr>");
    }
    iotca_html(b, "</tbody></table></div>");
}

static void issuers_section(iotca_buf *b, const iotca_issuer_rec *list, size_t n) {
    iotca_html(b, "<section id=\"issuers\"><h2>Issuers</h2>");
    long next = iotca_issuer_next(list, n);
    if (next >= 0 && list[next].state == IOTCA_ISSUER_STAGED)
        iotca_html(b, "<p id=\"next\">Next: <strong>%s</strong> (group %s) activates on <strong>%D</strong>.</p>",
                   list[next].name, list[next].group, list[next].activate_at);
    else if (next >= 0)
        iotca_html(b,
                   "<p id=\"next\">Next: <strong>%s</strong> (group %s) awaits its certificate from the offline "
                   "ceremony.</p>",
                   list[next].name, list[next].group);
    else
        iotca_html(b, "<p id=\"next\" class=\"warn\">No next issuer is pending or staged.</p>");
    for (size_t i = 0; i < n; i++) {
        bool seen = list[i].state == IOTCA_ISSUER_ABANDONED;
        for (size_t j = 0; j < i && !seen; j++) seen = strcmp(list[j].group, list[i].group) == 0;
        if (!seen) group_table(b, list, n, list[i].group);
    }
    if (n == 0) iotca_html(b, "<p class=\"muted\">No issuer yet: make one with <code>iotca issuers new</code>.</p>");
    iotca_html(b, "</section>");
}

void ui_warnings_section(iotca_buf *b, request *r, time_t now) {
    iotca_warning w[IOTCA_MAX_WARNINGS];
    size_t n = 0;
    iotca_html(b, "<section id=\"warnings\"><h2>Advance warnings</h2>");
    if (iotca_ca_warnings(r->srv->ca, now, w, &n) != IOTCA_OK) {
        ui_unreadable(b, r, "The warnings");
        iotca_html(b, "</section>");
        return;
    }
    if (n == 0) {
        iotca_html(b, "<p class=\"ok\">Nothing is due within 180 days.</p></section>");
        return;
    }
    iotca_html(b, "<div class=\"scroll\"><table><thead><tr><th>Within</th><th>Days left</th><th>What</th>"
                  "<th>Warning</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++)
        iotca_html(b,
                   "<tr class=\"warning\"><td class=\"%H\">%d d</td><td class=\"num\">%ld</td><td>%s</td>"
                   "<td>%s</td></tr>",
                   w[i].threshold_days <= 30 ? "bad" : "warn", w[i].threshold_days, w[i].days_left, w[i].subject,
                   w[i].message);
    iotca_html(b, "</tbody></table></div></section>");
}

void ui_overview(request *r, const char *const *p, response *out) {
    (void)p;
    ui_ctx ctx;
    if (!ui_begin(r, out, IOTCA_ROLE_NONE, NULL, &ctx)) return;
    time_t now = time(NULL);
    iotca_buf b = {0};
    ui_page_start(&b, &ctx, "Hierarchy", "/ui/");
    iotca_html(&b, "<h1>Hierarchy</h1>");
    roots_section(&b, r->srv->ca, now);
    if (ctx.role >= IOTCA_ROLE_ADMIN) {
        iotca_issuer_rec *list = NULL;
        size_t n = 0;
        if (iotca_ca_issuers(r->srv->ca, &list, &n) == IOTCA_OK)
            issuers_section(&b, list, n);
        else
            ui_unreadable(&b, r, "The issuers");
        iotca_issuer_recs_free(list, n);
        ui_warnings_section(&b, r, now);
    } else {
        iotca_html(&b, "<p class=\"muted\">Issuers, the timeline and fleet risk are shown to admin tokens.</p>");
    }
    ui_page_send(out, 200, &b);
}
