/* The dashboard's frame: every page's head, header and navigation, its security headers (a strict
 * Content-Security-Policy: no script at all, styles and images from this origin only, forms posting only
 * here, no framing), the stylesheet and icon it links, and its error pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ui.h"

/* No script runs on any page: default-src 'none' forbids it, inline or not. The SVG pictures are inline
 * markup with presentation attributes, which no style-src governs. */
#define CSP                                                                                                            \
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "               \
    "base-uri 'none'"

void ui_security_headers(response *out) {
    respond_header(out, "Content-Security-Policy", "%s", CSP);
    respond_header(out, "X-Content-Type-Options", "nosniff");
    respond_header(out, "Referrer-Policy", "same-origin"); /* "no-referrer" makes a browser send Origin: null */
    respond_header(out, "X-Frame-Options", "DENY");
}

static const struct {
    const char *path, *name;
    iotca_role need;
} nav[] = {
    {"/ui/", "Hierarchy", IOTCA_ROLE_NONE},       {"/ui/timeline", "Timeline", IOTCA_ROLE_ADMIN},
    {"/ui/risk", "Fleet risk", IOTCA_ROLE_ADMIN}, {"/ui/certs", "Certificates", IOTCA_ROLE_PROVISIONER},
    {"/ui/counts", "Counts", IOTCA_ROLE_NONE},
};

void ui_page_start(iotca_buf *b, const ui_ctx *ctx, const char *title, const char *active) {
    iotca_html(b,
               "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
               "<title>%s · iotca</title><link rel=\"stylesheet\" href=\"/ui/style.css\">"
               "<link rel=\"icon\" href=\"/ui/icon.svg\" type=\"image/svg+xml\"></head><body><header>"
               "<a class=\"brand\" href=\"/ui/\">iotca</a>",
               title);
    if (ctx) {
        iotca_html(b, "<nav>");
        for (size_t i = 0; i < sizeof nav / sizeof nav[0]; i++)
            if (ctx->role >= nav[i].need)
                iotca_html(b, "<a href=\"%s\"%H>%s</a>", nav[i].path,
                           strcmp(nav[i].path, active) == 0 ? " class=\"here\" aria-current=\"page\"" : "",
                           nav[i].name);
        iotca_html(b,
                   "</nav><form class=\"logout\" method=\"post\" action=\"/ui/logout\"><input type=\"hidden\" "
                   "name=\"csrf\" value=\"%s\"><span class=\"role\">%s</span><button type=\"submit\" "
                   "id=\"logout\">Log out</button></form>",
                   ctx->csrf, ctx->role == IOTCA_ROLE_ADMIN ? "admin" : "provisioner");
    }
    iotca_html(b, "</header><main>");
}

void ui_page_send(response *out, unsigned status, iotca_buf *b) {
    iotca_html(b, "</main></body></html>");
    respond_text(out, status, "text/html; charset=utf-8", (const char *)b->data, b->len);
    iotca_buf_free(b);
    ui_security_headers(out);
}

void ui_page_error(response *out, const ui_ctx *ctx, unsigned status, const char *title, const char *detail) {
    iotca_buf b = {0};
    ui_page_start(&b, ctx, title, "");
    iotca_html(&b, "<h1>%s</h1><p class=\"error\" id=\"error\">%s</p>", title, detail);
    if (ctx == NULL) iotca_html(&b, "<p><a href=\"/ui/login\">Log in</a></p>");
    out->error = status == 403 ? "forbidden" : status == 404 ? "not_found" : "refused";
    ui_page_send(out, status, &b);
}

bool ui_query_number(request *r, response *out, const ui_ctx *ctx, const char *name, long min, long max, long def,
                     long *v) {
    const char *s = query(r, name);
    *v = def;
    if (s == NULL) return true;
    char *end, detail[96];
    *v = strtol(s, &end, 10);
    if (*s != 0 && *end == 0 && *v >= min && *v <= max) return true;
    snprintf(detail, sizeof detail, "%s must be a whole number from %ld to %ld", name, min, max);
    ui_page_error(out, ctx, 400, "Bad request", detail);
    return false;
}

void ui_unreadable(iotca_buf *b, request *r, const char *what) {
    log_event("error", "dashboard read failed",
              json_pack("{s:s, s:s, s:s}", "request_id", r->id, "what", what, "detail", iotca_error_detail()));
    iotca_html(b, "<p class=\"error\">%s cannot be read now (request id %s; the log says why).</p>", what, r->id);
}

void ui_redirect(response *out, const char *location) {
    respond_text(out, 303, "text/plain; charset=utf-8", "", 0);
    respond_header(out, "Location", "%s", location);
    ui_security_headers(out);
}

void ui_refuse(request *r, response *out, unsigned status, const char *code, const char *detail) {
    (void)r;
    ui_page_error(out, NULL, status, status == 405 ? "Method not allowed" : "Refused", detail);
    out->error = code;
}

void ui_root(request *r, const char *const *p, response *out) {
    (void)r, (void)p;
    ui_redirect(out, "/ui/");
}

/* Small screens first: tables scroll sideways inside their box, the navigation wraps, pictures scale. */
static const char style[] =
    ":root{--fg:#1d232b;--muted:#5b6572;--line:#d9dee5;--bg:#f6f7f9;--ok:#1d7a3e;--bad:#b3261e;--warn:#9a5b00}"
    "*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:var(--fg);background:var(--bg)}header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;"
    "padding:.6rem 1rem;background:#14202e;color:#fff}header a{color:#dfe7f1;text-decoration:none}"
    ".brand{font-weight:700;font-size:1.1rem;color:#fff}nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem;flex:1}"
    "nav a.here{color:#fff;border-bottom:2px solid #6fb3ff}.logout{display:flex;gap:.5rem;align-items:center}"
    ".role{font-size:.8rem;color:#9fb0c3}main{padding:1rem;max-width:1200px;margin:0 auto}"
    "h1{font-size:1.4rem;margin:.2rem 0 "
    "1rem;overflow-wrap:anywhere}p,dd,h2,h3{overflow-wrap:anywhere}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}"
    "section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;"
    "border-bottom:1px solid var(--line);vertical-align:top}th{font-weight:600;color:var(--muted);font-size:.85rem}"
    "td.num{text-align:right}td{white-space:nowrap}td:first-child,td:last-child,td.mono{white-space:normal}code,pre,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}"
    "pre{white-space:pre-wrap;word-break:break-all;background:#f1f3f6;padding:.6rem;border-radius:4px}"
    ".mono{word-break:break-all}.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}"
    ".warn{color:var(--warn);font-weight:600}.muted{color:var(--muted)}.error{color:var(--bad)}"
    ".state{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.8rem;background:#e8ecf1}"
    ".state.active{background:#d6f0df}.state.staged{background:#dbe9ff}.state.retiring{background:#ffe8c7}"
    ".state.revoked{background:#ffd9d6}"
    "form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}form.search label{display:flex;"
    "flex-direction:column;font-size:.8rem;color:var(--muted)}input,select,button{font:inherit;padding:.35rem .5rem;"
    "border:1px solid #b8c1cc;border-radius:4px;background:#fff}button{background:#1f5fa8;color:#fff;border:0;"
    "cursor:pointer}button.danger{background:var(--bad)}.login{max-width:26rem;margin:2rem auto}.login form{"
    "display:flex;flex-direction:column;gap:.6rem}.hint{font-size:.85rem;color:var(--muted)}svg{width:100%;"
    "height:auto;display:block}dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}"
    "dt{color:var(--muted)}dd{margin:0;word-break:break-word}"
    "@media "
    "(max-width:600px){main{padding:.5rem}nav{order:3;flex-basis:100%}.logout{margin-left:auto}dl{grid-template-"
    "columns:1fr}dt{margin-top:.4rem}"
    "th,td{padding:.3rem}}";

void ui_style(request *r, const char *const *p, response *out) {
    (void)r, (void)p;
    respond_text(out, 200, "text/css; charset=utf-8", style, sizeof style - 1);
    ui_security_headers(out);
}

static const char icon[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><rect width=\"16\" "
    "height=\"16\" rx=\"3\" fill=\"#14202e\"/><path d=\"M4 11l4-7 4 7z\" fill=\"#6fb3ff\"/></svg>";

void ui_icon(request *r, const char *const *p, response *out) {
    (void)r, (void)p;
    respond_text(out, 200, "image/svg+xml", icon, sizeof icon - 1);
    ui_security_headers(out);
}
