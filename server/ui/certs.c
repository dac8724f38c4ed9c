/* The certificate search page: by serial, by text in the subject or SANs, by profile, status and expiry, paged.
 * A provisioner sees only the profiles its token may use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotca/ca_dashboard.h"
#include "ui.h"
#include "v1.h"

#define PAGE 50

static const char *status_of(const iotca_cert_rec *c, time_t now) {
    return c->revoked ? "revoked" : c->not_after <= now ? "expired" : "valid";
}

/* The search form, holding what was asked. */
static void search_form(iotca_buf *b, request *r, const ui_ctx *ctx, const char *q, const char *profile,
                        const char *status, const char *before) {
    char names[1024];
    iotca_ca_profile_names(r->srv->ca, ctx->role == IOTCA_ROLE_PROVISIONER ? ctx->scope : NULL, names, sizeof names);
    iotca_html(b,
               "<form class=\"search\" method=\"get\" action=\"/ui/certs\"><label>Serial, subject or SAN"
               "<input type=\"search\" name=\"q\" id=\"q\" value=\"%s\" maxlength=\"128\"></label><label>Profile"
               "<select name=\"profile\" id=\"profile\"><option value=\"\">any</option>",
               q ? q : "");
    char *save = NULL;
    for (char *n = strtok_r(names, ", ", &save); n; n = strtok_r(NULL, ", ", &save))
        if (strcmp(n, "none") != 0 && strcmp(n, "...") != 0)
            iotca_html(b, "<option%H>%s</option>", profile && strcmp(profile, n) == 0 ? " selected" : "", n);
    static const char *const st[] = {"", "valid", "revoked"};
    iotca_html(b, "</select></label><label>Status<select name=\"status\" id=\"status\">");
    for (size_t i = 0; i < 3; i++)
        iotca_html(b, "<option value=\"%s\"%H>%s</option>", st[i],
                   status && strcmp(status, st[i]) == 0 ? " selected" : "", i ? st[i] : "any");
    iotca_html(b,
               "</select></label><label>Expiring before<input type=\"date\" name=\"expires_before\" "
               "id=\"expires_before\" value=\"%s\"></label><button type=\"submit\" id=\"search\">Search</button>"
               "</form>",
               before ? before : "");
}

static void results(iotca_buf *b, const iotca_cert_rec *list, size_t n, time_t now) {
    if (n == 0) {
        iotca_html(b, "<p class=\"muted\" id=\"no-results\">No certificate matches.</p>");
        return;
    }
    iotca_html(b, "<div class=\"scroll\"><table id=\"results\"><thead><tr><th>Serial</th><th>Subject</th>"
                  "<th>Profile</th><th>Valid until</th><th>Status</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const char *st = status_of(&list[i], now);
        iotca_html(b,
                   "<tr class=\"cert\"><td class=\"mono\"><a href=\"/ui/certs/%u\">%s</a></td><td>%s</td>"
                   "<td>%s</td><td>%T</td><td><span class=\"state %s\">%s</span></td></tr>",
                   list[i].serial, list[i].serial, list[i].subject, list[i].profile, list[i].not_after, st, st);
    }
    iotca_html(b, "</tbody></table></div>");
}

/* The filter from the query; false with out filled when a value is malformed. */
static bool filter_of(request *r, response *out, const ui_ctx *ctx, iotca_cert_filter *f, char after[41]) {
    const char *q = query(r, "q"), *status = query(r, "status"), *before = query(r, "expires_before"),
               *cursor = query(r, "after"), *profile = query(r, "profile");
    *f = (iotca_cert_filter){.status = -1, .limit = PAGE};
    f->profile = profile && *profile ? profile : NULL;
    if (q && *q) {
        if (strlen(q) > 128) {
            ui_page_error(out, ctx, 400, "Bad request", "the search text is longer than 128 bytes");
            return false;
        }
        f->text = q;
    }
    if (status && *status) {
        if (strcmp(status, "valid") != 0 && strcmp(status, "revoked") != 0) {
            ui_page_error(out, ctx, 400, "Bad request", "status must be valid or revoked");
            return false;
        }
        f->status = strcmp(status, "revoked") == 0;
    }
    if (before && *before && v1_parse_time(before, &f->expires_before) != IOTCA_OK) {
        ui_page_error(out, ctx, 400, "Bad request", "expiring before must be a date (2030-01-31)");
        return false;
    }
    if (cursor && *cursor) {
        if (!v1_serial_param(cursor, after)) {
            ui_page_error(out, ctx, 400, "Bad request", "the page cursor is not a serial");
            return false;
        }
        f->after = after;
    }
    return true;
}

void ui_certs(request *r, const char *const *p, response *out) {
    (void)p;
    ui_ctx ctx;
    if (!ui_begin(r, out, IOTCA_ROLE_PROVISIONER, NULL, &ctx)) return;
    iotca_cert_filter f;
    char after[41], next[41] = "";
    if (!filter_of(r, out, &ctx, &f, after)) return;
    time_t now = time(NULL);
    const char *scope = ctx.role == IOTCA_ROLE_PROVISIONER ? ctx.scope : "";
    iotca_buf b = {0};
    ui_page_start(&b, &ctx, "Certificates", "/ui/certs");
    iotca_html(&b, "<h1>Certificates</h1><section id=\"search-section\">");
    search_form(&b, r, &ctx, query(r, "q"), f.profile, query(r, "status"), query(r, "expires_before"));
    /* a serial typed whole: that certificate first, whatever the text search finds */
    iotca_cert_rec exact = {0};
    bool has_exact = f.text && !f.after && v1_cert_visible(r->srv->ca, ctx.role, ctx.scope, f.text, &exact) == IOTCA_OK;
    if (has_exact) {
        iotca_html(&b, "<h2>Serial %s</h2>", exact.serial);
        results(&b, &exact, 1, now);
    }
    iotca_cert_rec_free(&exact);
    iotca_cert_rec *list = NULL;
    size_t n = 0;
    if (iotca_ca_cert_search(r->srv->ca, &f, scope, &list, &n, next) != IOTCA_OK) {
        ui_unreadable(&b, r, "The inventory");
    } else if (!has_exact || n) {
        results(&b, list, n, now);
        if (next[0])
            iotca_html(&b,
                       "<p><a id=\"next-page\" href=\"/ui/certs?q=%u&amp;profile=%u&amp;status=%u&amp;"
                       "expires_before=%u&amp;after=%u\">Next page</a></p>",
                       query(r, "q"), f.profile, query(r, "status"), query(r, "expires_before"), next);
    }
    for (size_t i = 0; i < n; i++) iotca_cert_rec_free(&list[i]);
    free(list);
    iotca_html(&b, "</section>");
    ui_page_send(out, 200, &b);
}
