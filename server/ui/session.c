/* The dashboard's logins: an API token is exchanged at the login page for a session cookie (HttpOnly,
 * SameSite=Strict, Secure over HTTPS) that lasts UI_SESSION_TTL at most and UI_SESSION_IDLE unused
 * (sessions.c keeps them). A session keeps its token in memory and presents it again on every page, so a
 * token revoked or expired ends its sessions at once and the role shown is the token's as it stands. Forms
 * carry the session's own random token (CSRF), compared in constant time, and must come from the dashboard's
 * origin. Sessions live in this process: a restart logs everyone out. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ui.h"

#define UI_LOGIN_TTL 600
#define COOKIE "iotca_session"
#define LOGIN_COOKIE "iotca_login"
#define ID_HEX UI_ID_HEX

static bool https(request *r) { return r->srv->tls_cert.len > 0; }

/* Whether the request comes from a page of this origin: Sec-Fetch-Site same-origin when the browser says,
 * and an Origin whose host and port are this request's Host. A browser sends both on every POST; a client
 * that sends neither (curl) still needs the form token. */
static bool same_origin(request *r) {
    const char *site = header(r, "Sec-Fetch-Site"), *origin = header(r, "Origin"), *host = header(r, "Host");
    if (site && strcmp(site, "same-origin") != 0) return false;
    if (origin == NULL) return true;
    const char *rest = strstr(origin, "://");
    return host != NULL && rest != NULL && strcmp(rest + 3, host) == 0 &&
           strncmp(origin, https(r) ? "https" : "http", (size_t)(rest - origin)) == 0 &&
           (size_t)(rest - origin) == strlen(https(r) ? "https" : "http");
}

static void set_cookie(request *r, response *out, const char *name, const char *value, long max_age) {
    respond_header(out, "Set-Cookie", "%s=%s; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=%ld%s", name, value, max_age,
                   https(r) ? "; Secure" : "");
}

bool ui_read_form(request *r, response *out, ui_form *f) {
    const char *ct = header(r, "Content-Type"), *why = "";
    if (ct == NULL || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        ui_page_error(out, NULL, 415, "Not a form", "the dashboard takes application/x-www-form-urlencoded forms");
        return false;
    }
    if (!ui_form_parse(r->body.data, r->body.len, f, &why)) {
        ui_page_error(out, NULL, 400, "Malformed form", why);
        return false;
    }
    return true;
}

bool ui_begin(request *r, response *out, iotca_role need, const ui_form *form, ui_ctx *ctx) {
    memset(ctx, 0, sizeof *ctx);
    bool post = strcmp(r->method, "POST") == 0;
    char cookie[ID_HEX + 1], token[UI_TOKEN_MAX];
    bool live = ui_cookie_get(header(r, "Cookie"), COOKIE, cookie, sizeof cookie) &&
                ui_session_use(cookie, time(NULL), token, ctx->csrf);
    if (!live) {
        if (post)
            ui_page_error(out, NULL, 403, "Not logged in", "log in again: this session has ended");
        else
            ui_redirect(out, "/ui/login");
        return false;
    }
    iotca_rc rc = iotca_ca_token_check(r->srv->ca, token, &ctx->role, ctx->scope);
    snprintf(r->actor, sizeof r->actor, "token:%.16s", token + 6);
    snprintf(r->token_id, sizeof r->token_id, "%.16s", token + 6);
    iotca_wipe(token, sizeof token);
    if (rc == IOTCA_E_STORAGE) {
        ui_page_error(out, NULL, 503, "Unavailable", "the database cannot be read now; try again shortly");
        return false;
    }
    if (rc != IOTCA_OK) { /* revoked or expired since the login: the session ends with it */
        snprintf(r->auth_failure, sizeof r->auth_failure, "session: %s", iotca_error_detail());
        ui_session_end(cookie);
        if (post)
            ui_page_error(out, NULL, 403, "Not logged in", "this session's token no longer holds");
        else
            ui_redirect(out, "/ui/login");
        return false;
    }
    if (post) {
        const char *csrf = form ? ui_form_get(form, "csrf") : NULL;
        if (!same_origin(r) || csrf == NULL || strlen(csrf) != ID_HEX || !iotca_ct_equal(csrf, ctx->csrf, ID_HEX)) {
            ui_page_error(out, ctx, 403, "Refused",
                          "this form did not come from this dashboard (a missing or wrong form token, or another "
                          "site's page)");
            return false;
        }
    }
    r->role = ctx->role; /* for the request's log line */
    if (ctx->role < need) {
        ui_page_error(out, ctx, 403, "Not for this role", "this token's role may not open this page");
        return false;
    }
    return true;
}

/* The login form; err says why the last try failed. A fresh form token goes in a short-lived cookie, so a
 * login cannot be posted from another site's page (login CSRF). */
static void login_page(request *r, response *out, unsigned status, const char *err) {
    char pre[ID_HEX + 1];
    if (!ui_random_hex(pre)) {
        ui_page_error(out, NULL, 500, "Internal error", "no randomness for the login form");
        return;
    }
    iotca_buf b = {0};
    ui_page_start(&b, NULL, "Log in", "");
    iotca_html(&b, "<section class=\"login\"><h1>Log in</h1>%H", err ? "<p class=\"error\" id=\"login-error\">" : "");
    if (err) iotca_html(&b, "%s</p>", err);
    iotca_html(&b,
               "<form method=\"post\" action=\"/ui/login\"><label for=\"token\">API token</label>"
               "<input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required "
               "placeholder=\"iotca_...\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">"
               "<button type=\"submit\" id=\"login\">Log in</button></form>"
               "<p class=\"hint\">An admin or provisioner token from <code>iotcad token create</code>. The session "
               "lasts %d hours at most, %d minutes unused.</p></section>",
               pre, UI_SESSION_TTL / 3600, UI_SESSION_IDLE / 60);
    set_cookie(r, out, LOGIN_COOKIE, pre, UI_LOGIN_TTL);
    ui_page_send(out, status, &b);
}

void ui_login_get(request *r, const char *const *p, response *out) {
    (void)p;
    login_page(r, out, 200, NULL);
}

void ui_login_post(request *r, const char *const *p, response *out) {
    (void)p;
    ui_form f;
    if (!ui_read_form(r, out, &f)) return;
    char pre[ID_HEX + 1];
    const char *csrf = ui_form_get(&f, "csrf"), *token = ui_form_get(&f, "token");
    const char *bad = !same_origin(r)                          ? "it came from another origin"
                      : csrf == NULL || strlen(csrf) != ID_HEX ? "the form has no form token"
                      : !ui_cookie_get(header(r, "Cookie"), LOGIN_COOKIE, pre, sizeof pre) || strlen(pre) != ID_HEX
                          ? "no login cookie (expired, or blocked as cross-site)"
                      : !iotca_ct_equal(pre, csrf, ID_HEX) ? "the form token is not the login cookie's"
                                                           : NULL;
    if (bad) {
        const char *o = header(r, "Origin"), *site = header(r, "Sec-Fetch-Site");
        /* 15 + 56 + 9 + 40 + 17 + 16 + 1 bytes: fits auth_failure's 160 */
        snprintf(r->auth_failure, sizeof r->auth_failure, "login refused: %.56s (Origin %.40s, Sec-Fetch-Site %.16s)",
                 bad, o ? o : "none", site ? site : "none");
        login_page(r, out, 403, "This login form expired or came from another site; try again.");
        return;
    }
    iotca_role role = IOTCA_ROLE_NONE;
    char scope[1024];
    iotca_rc rc = token && strlen(token) < UI_TOKEN_MAX ? iotca_ca_token_check(r->srv->ca, token, &role, scope)
                                                        : iotca_error_set(IOTCA_E_USAGE, "malformed token");
    if (rc == IOTCA_E_STORAGE) {
        ui_page_error(out, NULL, 503, "Unavailable", "the database cannot be read now; try again shortly");
        return;
    }
    if (rc != IOTCA_OK) {
        snprintf(r->auth_failure, sizeof r->auth_failure, "login: %s", iotca_error_detail());
        login_page(r, out, 401, "Unknown or wrong token.");
        return;
    }
    snprintf(r->actor, sizeof r->actor, "token:%.16s", token + 6);
    char id[ID_HEX + 1];
    if (!ui_session_begin(token, time(NULL), id)) {
        ui_page_error(out, NULL, 503, "Too many sessions", "every dashboard session is in use; try again later");
        return;
    }
    set_cookie(r, out, COOKIE, id, UI_SESSION_TTL);
    set_cookie(r, out, LOGIN_COOKIE, "", 0);
    log_event("info", "dashboard login", json_pack("{s:s, s:s}", "request_id", r->id, "actor", r->actor));
    ui_redirect(out, "/ui/");
}

void ui_logout(request *r, const char *const *p, response *out) {
    (void)p;
    ui_form f;
    ui_ctx ctx;
    if (!ui_read_form(r, out, &f) || !ui_begin(r, out, IOTCA_ROLE_NONE, &f, &ctx)) return;
    char cookie[ID_HEX + 1];
    if (ui_cookie_get(header(r, "Cookie"), COOKIE, cookie, sizeof cookie)) ui_session_end(cookie);
    set_cookie(r, out, COOKIE, "", 0);
    ui_redirect(out, "/ui/login");
}
