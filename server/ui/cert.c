/* One certificate's page: its names, dates, issuer, status as OCSP answers it and as the published CRL lists
 * it, the PEM and its chain; and, for a role that may revoke it, the revocation form (POST, with the session's
 * form token). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotca/ca_dashboard.h"
#include "iotca/pem.h"
#include "ui.h"
#include "v1.h"

/* The certificate named by the path, if the session may see it: else out holds a 404 page. */
static bool load(request *r, response *out, const ui_ctx *ctx, const char *param, iotca_cert_rec *c) {
    iotca_rc rc = v1_cert_visible(r->srv->ca, ctx->role, ctx->scope, param, c);
    if (rc == IOTCA_E_USAGE)
        ui_page_error(out, ctx, 404, "Not found", "no certificate with that serial");
    else if (rc != IOTCA_OK)
        ui_page_error(out, ctx, 503, "Unavailable", "the inventory cannot be read now");
    return rc == IOTCA_OK;
}

/* What the published CRL of the certificate's issuer says of it. */
static void crl_state(iotca_buf *b, request *r, const iotca_cert_rec *c) {
    iotca_crl_rec crl = {0};
    if (iotca_ca_crl_info(r->srv->ca, c->issuer_id, &crl) != IOTCA_OK || crl.this_update == 0) {
        iotca_html(b, "<dd id=\"crl-state\" class=\"muted\">no CRL published yet</dd>");
    } else if (!c->revoked) {
        iotca_html(b, "<dd id=\"crl-state\">not listed (CRL number %ld of %D)</dd>", (long)crl.number, crl.this_update);
    } else if (crl.this_update >= c->revoked_at) {
        iotca_html(b, "<dd id=\"crl-state\" class=\"bad\">listed on CRL number %ld of %D</dd>", (long)crl.number,
                   crl.this_update);
    } else {
        iotca_html(b,
                   "<dd id=\"crl-state\" class=\"warn\">not yet listed: CRL number %ld of %D is older; the next "
                   "one lists it</dd>",
                   (long)crl.number, crl.this_update);
    }
    iotca_buf_free(&crl.der);
}

static void details(iotca_buf *b, request *r, const iotca_cert_rec *c) {
    iotca_ca_cert_desc d;
    bool described = iotca_ca_cert_describe(iotca_buf_slice(&c->der), &d) == IOTCA_OK;
    iotca_buf fp = {0};
    if (!described || iotca_hex_encode(d.sha256, sizeof d.sha256, &fp) != IOTCA_OK) iotca_buf_free(&fp);
    time_t now = time(NULL);
    const char *status = c->revoked ? "revoked" : c->not_after <= now ? "expired" : "valid";
    iotca_html(b,
               "<section><dl><dt>Serial</dt><dd class=\"mono\" id=\"serial\">%s</dd><dt>Subject</dt>"
               "<dd id=\"subject\">%s</dd><dt>Names</dt><dd id=\"names\">%s</dd><dt>Profile</dt><dd>%s</dd>"
               "<dt>Issuer</dt><dd>%s <span class=\"muted\">#%lld</span></dd><dt>Key</dt><dd>%s</dd>"
               "<dt>Valid</dt><dd>%D to %D</dd><dt>SHA-256</dt><dd class=\"mono\">%s</dd><dt>Status</dt>"
               "<dd><span class=\"state %s\" id=\"status\">%s</span></dd>",
               c->serial, c->subject, described && d.names[0] ? d.names : "none", c->profile,
               described ? d.issuer : "?", (long long)c->issuer_id, described ? d.key : "?", c->not_before,
               c->not_after, fp.data ? (const char *)fp.data : "?", status, status);
    iotca_buf_free(&fp);
    if (c->revoked)
        iotca_html(b, "<dt>Revoked</dt><dd>%D, reason %s</dd>", c->revoked_at,
                   iotca_reason_name((iotca_reason)c->reason));
    iotca_html(b, "<dt>OCSP</dt><dd id=\"ocsp-state\" class=\"%H\">%H</dd><dt>CRL</dt>", c->revoked ? "bad" : "ok",
               c->revoked ? "revoked: the responder answers revoked" : "good: the responder answers good");
    crl_state(b, r, c);
    if (c->renews[0]) iotca_html(b, "<dt>Renews</dt><dd><a href=\"/ui/certs/%u\">%s</a></dd>", c->renews, c->renews);
    if (c->renewed_by[0])
        iotca_html(b, "<dt>Renewed by</dt><dd><a href=\"/ui/certs/%u\">%s</a></dd>", c->renewed_by, c->renewed_by);
    iotca_html(b, "</dl></section>");
}

static void pems(iotca_buf *b, request *r, const iotca_cert_rec *c) {
    iotca_buf pem = {0}, chain = {0};
    if (iotca_pem_encode("CERTIFICATE", c->der.data, c->der.len, &pem) == IOTCA_OK && iotca_buf_cstr(&pem) == IOTCA_OK)
        iotca_html(b, "<section><h2>Certificate (PEM)</h2><pre id=\"pem\">%s</pre>", (const char *)pem.data);
    if (iotca_ca_chain(r->srv->ca, c->issuer_id, &chain) == IOTCA_OK && iotca_buf_cstr(&chain) == IOTCA_OK)
        iotca_html(b, "<h2>Chain (issuer up to, not including, the root)</h2><pre id=\"chain\">%s</pre>",
                   (const char *)chain.data);
    iotca_html(b, "</section>");
    iotca_buf_free(&pem);
    iotca_buf_free(&chain);
}

static void revoke_form(iotca_buf *b, const ui_ctx *ctx, const iotca_cert_rec *c) {
    static const char *const reasons[] = {"unspecified", "keyCompromise",        "affiliationChanged",
                                          "superseded",  "cessationOfOperation", "privilegeWithdrawn"};
    iotca_html(b,
               "<section id=\"revoke-section\"><h2>Revoke</h2><form method=\"post\" action=\"/ui/certs/%u/revoke\">"
               "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><label>Reason <select name=\"reason\" "
               "id=\"reason\">",
               c->serial, ctx->csrf);
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) iotca_html(b, "<option>%s</option>", reasons[i]);
    iotca_html(b, "</select></label> <button type=\"submit\" class=\"danger\" id=\"revoke\">Revoke this certificate"
                  "</button></form><p class=\"hint\">OCSP answers revoked at once; the CRL follows.</p></section>");
}

void ui_cert(request *r, const char *const *p, response *out) {
    ui_ctx ctx;
    if (!ui_begin(r, out, IOTCA_ROLE_PROVISIONER, NULL, &ctx)) return;
    iotca_cert_rec c = {0};
    if (!load(r, out, &ctx, p[0], &c)) return;
    iotca_buf b = {0};
    ui_page_start(&b, &ctx, "Certificate", "/ui/certs");
    iotca_html(&b, "<h1>Certificate %s</h1>", c.subject);
    details(&b, r, &c);
    if (!c.revoked && c.not_after > time(NULL)) revoke_form(&b, &ctx, &c);
    pems(&b, r, &c);
    iotca_cert_rec_free(&c);
    ui_page_send(out, 200, &b);
}

void ui_cert_revoke(request *r, const char *const *p, response *out) {
    ui_form f;
    ui_ctx ctx;
    if (!ui_read_form(r, out, &f) || !ui_begin(r, out, IOTCA_ROLE_PROVISIONER, &f, &ctx)) return;
    iotca_cert_rec c = {0};
    if (!load(r, out, &ctx, p[0], &c)) return;
    snprintf(r->audit_subject, sizeof r->audit_subject, "%s", c.serial);
    const char *reason_s = ui_form_get(&f, "reason");
    iotca_reason reason;
    iotca_rc rc = v1_cert_revoke_logged(r, c.serial, reason_s ? reason_s : "unspecified", &reason);
    if (rc == IOTCA_OK) {
        char where[80];
        snprintf(where, sizeof where, "/ui/certs/%s", c.serial);
        ui_redirect(out, where);
    } else if (rc == IOTCA_E_POLICY) {
        ui_page_error(out, &ctx, 409, "Already revoked", "this certificate is already revoked");
    } else if (rc == IOTCA_E_USAGE) {
        ui_page_error(out, &ctx, 400, "Bad request", "that is not a revocation reason");
    } else {
        ui_page_error(out, &ctx, 503, "Unavailable", "the revocation could not be recorded now; nothing changed");
    }
    iotca_cert_rec_free(&c);
}
