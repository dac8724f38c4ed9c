/* The dashboard (SPEC §13, issue 27): the pages iotcad serves under /ui/, their sessions and forms. Pages are
 * drawn on the server from what lib/ca reads (iotca/ca_dashboard.h) with lib/ui's escaping and pictures; no
 * script runs in them. Every page but the login page and its static files needs a session. */
#ifndef IOTCAD_UI_H
#define IOTCAD_UI_H

#include "http.h"
#include "iotca/ui.h"

/* ---- forms and cookies (form.c) ---- */

#define UI_FORM_MAX_FIELDS 8
#define UI_FORM_MAX_BODY 8192
typedef struct ui_form {
    size_t n;
    char name[UI_FORM_MAX_FIELDS][32];
    char value[UI_FORM_MAX_FIELDS][1024];
} ui_form;
/* Parses an application/x-www-form-urlencoded body: at most UI_FORM_MAX_FIELDS fields, names under 32 bytes and
 * values under 1024 after decoding, no control byte but tab and line ends; false with *why (a static string)
 * otherwise. */
bool ui_form_parse(const uint8_t *body, size_t len, ui_form *f, const char **why);
/* The first value of field name, or NULL. */
const char *ui_form_get(const ui_form *f, const char *name);
/* The value of cookie name in a Cookie header (NULL: none) into out; false when absent or longer than cap - 1. */
bool ui_cookie_get(const char *header, const char *name, char *out, size_t cap);

/* ---- the session table (sessions.c) ---- */

#define UI_SESSIONS 1024
#define UI_SESSION_TTL (8 * 3600) /* a session lasts this long at most */
#define UI_SESSION_IDLE (30 * 60) /* and ends this long after its last use */
#define UI_ID_HEX 64              /* session ids and form tokens: 32 random bytes in hex */
#define UI_TOKEN_MAX 128
/* 32 bytes from the kernel's random source as 64 hex digits; false if it fails. */
bool ui_random_hex(char out[UI_ID_HEX + 1]);
/* Begins a session at now holding token (copied; under UI_TOKEN_MAX bytes) with a fresh form token; its id
 * into id. False when every slot holds a live session, the token is too long, or randomness fails. */
bool ui_session_begin(const char *token, time_t now, char id[UI_ID_HEX + 1]);
/* The live session id at now (ended ones are swept first): its token and form token copied out (the caller
 * wipes the token), its idle clock restarted. False when there is none (an unknown, malformed or ended id). */
bool ui_session_use(const char *id, time_t now, char token[UI_TOKEN_MAX], char csrf[UI_ID_HEX + 1]);
/* Ends session id (its memory wiped); nothing when there is none. */
void ui_session_end(const char *id);
/* The live sessions at now. */
size_t ui_session_count(time_t now);

/* ---- login, logout and admission (session.c) ---- */

/* A request's session, once ui_begin admitted it: the token's role and scope as they stand now, and the
 * session's form token. */
typedef struct ui_ctx {
    iotca_role role;
    char scope[1024];
    char csrf[65];
} ui_ctx;
/* Admits r to a page: a live session whose token still holds and has at least need. For a POST, form's "csrf"
 * must be the session's and the request must come from the dashboard's own origin (Origin and Sec-Fetch-Site,
 * when the browser sends them). Otherwise out holds the answer (GET: a redirect to the login page; POST: 403)
 * and it returns false. need NONE: any role. */
bool ui_begin(request *r, response *out, iotca_role need, const ui_form *form, ui_ctx *ctx);
/* Parses a POST's form for ui_begin; false with out filled (400) when the body is no form. */
bool ui_read_form(request *r, response *out, ui_form *f);
void ui_login_get(request *r, const char *const *p, response *out);
void ui_login_post(request *r, const char *const *p, response *out);
void ui_logout(request *r, const char *const *p, response *out);

/* ---- pages (page.c) ---- */

/* The head of a page into b: the document's head, the site's header with the pages the role may open (active
 * the one shown) and the logout form; ctx NULL for the login page. */
void ui_page_start(iotca_buf *b, const ui_ctx *ctx, const char *title, const char *active);
/* Closes the page and answers with it, with the dashboard's security headers. */
void ui_page_send(response *out, unsigned status, iotca_buf *b);
/* A page saying what went wrong (its detail escaped). */
void ui_page_error(response *out, const ui_ctx *ctx, unsigned status, const char *title, const char *detail);
/* The query parameter name as a whole number from min to max (def when absent) into *v; false with out holding
 * a 400 page naming the range otherwise. */
bool ui_query_number(request *r, response *out, const ui_ctx *ctx, const char *name, long min, long max, long def,
                     long *v);
/* What could not be read, in the page (with the request id to quote) and the detail in the log only. */
void ui_unreadable(iotca_buf *b, request *r, const char *what);
/* 303 See Other to location (a path of ours). */
void ui_redirect(response *out, const char *location);
/* The headers every dashboard answer carries: the Content-Security-Policy and its companions. */
void ui_security_headers(response *out);
/* The engine's own refusals of a request to a dashboard path (too large, a method it does not take), as a page. */
void ui_refuse(request *r, response *out, unsigned status, const char *code, const char *detail);
void ui_style(request *r, const char *const *p, response *out);
void ui_icon(request *r, const char *const *p, response *out);
void ui_root(request *r, const char *const *p, response *out);

/* ---- the pages themselves ---- */
/* The advance warnings due within 180 days at now, as a section (hierarchy.c). */
void ui_warnings_section(iotca_buf *b, request *r, time_t now);
void ui_overview(request *r, const char *const *p, response *out);    /* hierarchy.c */
void ui_timeline(request *r, const char *const *p, response *out);    /* timeline.c */
void ui_risk(request *r, const char *const *p, response *out);        /* risk.c */
void ui_counts(request *r, const char *const *p, response *out);      /* counts.c */
void ui_certs(request *r, const char *const *p, response *out);       /* certs.c */
void ui_cert(request *r, const char *const *p, response *out);        /* cert.c */
void ui_cert_revoke(request *r, const char *const *p, response *out); /* cert.c */

#endif
