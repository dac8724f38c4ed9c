/* The fleet risk page (admin): every registered trust profile against the chain each issuer group will serve,
 * as the profile's TLS stack validates it (the fleet check of SPEC §7), with a verdict for each upcoming change
 * (ok, or the first date it breaks and why), and the advance warnings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotca/ca_dashboard.h"
#include "ui.h"

static void risk_row(iotca_buf *b, const iotca_ca_risk *k) {
    const iotca_check_report *rep = k->report;
    iotca_html(b,
               "<tr class=\"risk\" data-profile=\"%s\" data-group=\"%s\"><td>%s</td><td>%s</td><td>%s</td>"
               "<td>%T</td>",
               k->profile, k->group, k->profile, k->stack, k->group, k->until);
    if (k->error[0]) {
        iotca_html(b, "<td class=\"bad verdict\">cannot be checked: %s</td></tr>", k->error);
        return;
    }
    if (rep->n == 0) {
        iotca_html(b, "<td class=\"muted verdict\">no verdict: its end of life has passed</td></tr>");
        return;
    }
    if (rep->first_failure) {
        const char *why = "";
        for (size_t i = 0; i < rep->n && !*why; i++)
            if (!rep->points[i].ok) why = rep->points[i].reason;
        iotca_html(b, "<td class=\"bad verdict\">breaks on <strong class=\"breaks-on\">%T</strong>: %s</td></tr>",
                   rep->first_failure, why);
    } else {
        iotca_html(b, "<td class=\"ok verdict\">ok until %T</td></tr>", k->until);
    }
}

/* Each change the check looked at, with its verdict, folded away under the profile's row. */
static void changes_row(iotca_buf *b, const iotca_ca_risk *k) {
    const iotca_check_report *rep = k->report;
    if (rep->n == 0) return;
    iotca_html(b,
               "<tr class=\"changes\"><td colspan=\"5\"><details><summary>%zu changes checked</summary><table>"
               "<thead><tr><th>Date</th><th>Verdict</th><th>Why, or the path that validates</th></tr></thead><tbody>",
               rep->n);
    for (size_t i = 0; i < rep->n; i++)
        iotca_html(b, "<tr><td>%D</td><td class=\"%H\">%H</td><td>%s</td></tr>", rep->points[i].at,
                   rep->points[i].ok ? "ok" : "bad", rep->points[i].ok ? "ok" : "breaks", rep->points[i].reason);
    iotca_html(b, "</tbody></table></details></td></tr>");
}

void ui_risk(request *r, const char *const *p, response *out) {
    (void)p;
    ui_ctx ctx;
    if (!ui_begin(r, out, IOTCA_ROLE_ADMIN, NULL, &ctx)) return;
    time_t now = time(NULL);
    iotca_ca_risk *risks = NULL;
    size_t n = 0;
    iotca_buf b = {0};
    ui_page_start(&b, &ctx, "Fleet risk", "/ui/risk");
    iotca_html(&b, "<h1>Fleet risk</h1><section id=\"risk\"><p class=\"muted\">Each registered trust profile (a device "
                   "trust store in the field) against the chain each issuer group serves now and at every scheduled "
                   "change, until the devices' end of life, as their TLS stack validates it.</p>");
    if (iotca_ca_fleet_risk(r->srv->ca, now, &risks, &n) != IOTCA_OK) {
        ui_unreadable(&b, r, "The fleet risk");
    } else if (n == 0) {
        iotca_html(&b, "<p class=\"warn\" id=\"no-profiles\">No trust profile is registered (or no issuer serves "
                       "yet): nothing tells whether a rotation breaks a fleet. Register the stores in the field with "
                       "<code>POST /v1/trust-profiles</code>.</p>");
    } else {
        size_t broken = 0;
        for (size_t i = 0; i < n; i++) broken += risks[i].report->first_failure != 0 || risks[i].error[0];
        iotca_html(&b,
                   "<p id=\"risk-summary\" class=\"%H\">%zu of %zu profile and group pairs break before their "
                   "end of life.</p><div class=\"scroll\"><table id=\"risk-table\"><thead><tr><th>Trust profile"
                   "</th><th>Stack</th><th>Issuer group</th><th>End of life</th><th>Verdict</th></tr></thead>"
                   "<tbody>",
                   broken ? "bad" : "ok", broken, n);
        for (size_t i = 0; i < n; i++) {
            risk_row(&b, &risks[i]);
            changes_row(&b, &risks[i]);
        }
        iotca_html(&b, "</tbody></table></div>");
    }
    iotca_html(&b, "</section>");
    ui_warnings_section(&b, r, now);
    iotca_ca_risks_free(risks, n);
    ui_page_send(out, 200, &b);
}
