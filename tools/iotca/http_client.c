/* The REST client: one libcurl request per call, bounded in size and time, with errors mapped to exit codes. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S 60L

bool http_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }
void http_global_cleanup(void) { curl_global_cleanup(); }

/* True for localhost, 127.0.0.0/8 and ::1: where plain HTTP stays on the machine (SPEC §6: behind a proxy). */
static bool loopback_host(const char *url) {
    CURLU *u = curl_url();
    char *host = NULL;
    bool lo = false;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        lo = strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0;
    curl_free(host);
    curl_url_cleanup(u);
    return lo;
}

iotca_rc http_check_target(const cli *c) {
    IOTCA_ENSURE(c->url != NULL, IOTCA_E_USAGE, "no server URL: pass --url URL or set IOTCA_URL");
    IOTCA_ENSURE(strncmp(c->url, "https://", 8) == 0 || strncmp(c->url, "http://", 7) == 0, IOTCA_E_USAGE,
                 "the server URL must start with https:// or http://");
    for (const char *p = c->url; *p; p++)
        IOTCA_ENSURE(*p > ' ' && *p < 0x7f && *p != '?' && *p != '#', IOTCA_E_USAGE,
                     "the server URL must be a plain base URL (no spaces, query or fragment)");
    if (c->token) {
        /* checked so a pasted token cannot smuggle a second header line; the token itself is never printed */
        size_t n = strlen(c->token);
        IOTCA_ENSURE(n > 0 && n <= 4096, IOTCA_E_USAGE, "the API token is empty or too long");
        for (const char *p = c->token; *p; p++)
            IOTCA_ENSURE(*p > ' ' && *p < 0x7f, IOTCA_E_USAGE,
                         "the API token contains spaces or control characters (a stray newline?)");
    }
    if (c->token && strncmp(c->url, "http://", 7) == 0 && !loopback_host(c->url))
        cli_err("warning: the API token goes unencrypted over plain http to a non-loopback host; use https://");
    if (c->cacert) {
        FILE *f = fopen(c->cacert, "r");
        IOTCA_ENSURE(f != NULL, IOTCA_E_USAGE, "--cacert %s cannot be read", c->cacert);
        fclose(f);
    }
    return IOTCA_OK;
}

/* The URL as shown in messages: without user:password@, which may hold a secret. */
static void display_url(const char *url, char *out, size_t n) {
    CURLU *u = curl_url();
    char *s = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_set(u, CURLUPART_USER, NULL, 0);
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
        curl_url_get(u, CURLUPART_URL, &s, 0);
    }
    snprintf(out, n, "%s", s ? s : "(unparseable URL)");
    curl_free(s);
    curl_url_cleanup(u);
}

typedef struct sink {
    iotca_buf *body;
    bool too_large;
} sink;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud) {
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->body->len + n > HTTP_MAX_RESPONSE) {
        s->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return iotca_buf_append(s->body, p, n) == IOTCA_OK ? n : 0;
}

/* Removes the token from the header list's memory before freeing it. */
static void free_headers(struct curl_slist *h) {
    for (struct curl_slist *i = h; i; i = i->next) iotca_wipe(i->data, strlen(i->data));
    curl_slist_free_all(h);
}

/* Performs one request. Returns EXIT_OK with *status and body filled for any HTTP answer, or prints the
 * network/TLS failure (naming the URL) and returns EXIT_SERVER. */
static int perform(const cli *c, const char *method, const char *path, const char *body, const char *ctype,
                   long *status, iotca_buf *resp, char *shown, size_t shown_n) {
    iotca_buf url = {0}, auth = {.secret = true};
    struct curl_slist *h = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    int code = EXIT_SERVER;
    size_t base = strlen(c->url);
    while (base > 0 && c->url[base - 1] == '/') base--; /* "https://ca/" and "https://ca" both work */
    if (iotca_buf_append(&url, c->url, base) != IOTCA_OK || iotca_buf_append_str(&url, path) != IOTCA_OK ||
        iotca_buf_cstr(&url) != IOTCA_OK) {
        cli_err("out of memory");
        iotca_buf_free(&url);
        return EXIT_LOCAL;
    }
    display_url((const char *)url.data, shown, shown_n);
    CURL *k = curl_easy_init();
    sink s = {resp, false};
    CURLcode cc = CURLE_FAILED_INIT;
    if (k == NULL) {
        cli_err("cannot start a request to %s", shown);
        goto out;
    }
    h = curl_slist_append(h, "Accept: application/json");
    if (ctype) {
        char ct[96];
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        h = curl_slist_append(h, ct);
    }
    if (c->token) {
        iotca_buf_printf(&auth, "Authorization: Bearer %s", c->token);
        iotca_buf_cstr(&auth);
        if (auth.data) h = curl_slist_append(h, (const char *)auth.data);
    }
    curl_easy_setopt(k, CURLOPT_URL, (const char *)url.data);
    curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect could carry the token elsewhere */
    curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(k, CURLOPT_USERAGENT, "iotca/0.1");
    curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(k, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
    curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->cacert) curl_easy_setopt(k, CURLOPT_CAINFO, c->cacert);
    curl_easy_setopt(k, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_RESPONSE);
    curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(k, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(k, CURLOPT_ERRORBUFFER, errbuf);
    if (body) {
        curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "POST") == 0 && body == NULL)
        curl_easy_setopt(k, CURLOPT_POSTFIELDS, "");
    cc = curl_easy_perform(k);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, status);
        code = EXIT_OK;
    } else if (s.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        cli_err("the response from %s is larger than %zu MiB; refusing it", shown, HTTP_MAX_RESPONSE >> 20);
    } else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE) {
        cli_err("TLS verification of %s failed: %s%s", shown, errbuf[0] ? errbuf : curl_easy_strerror(cc),
                c->cacert ? "" : " (pass the CA that signed the server's certificate with --cacert FILE)");
    } else {
        cli_err("cannot reach %s: %s", shown, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    }
out:
    curl_easy_cleanup(k);
    free_headers(h);
    iotca_buf_free(&auth);
    iotca_buf_free(&url);
    return code;
}

/* Explains a non-2xx answer and returns its exit code. */
static int explain(const cli *c, long status, const iotca_buf *resp, const char *shown) {
    json_t *doc = json_loadb((const char *)resp->data, resp->len, 0, NULL);
    const char *error = jstr(doc, "error", NULL), *detail = jstr(doc, "detail", "");
    if (c->json && json_is_object(doc)) out_json(doc);
    if (status >= 400 && status < 500) {
        fputs("iotca: ", stderr);
        out_safe(stderr, error ? error : "refused");
        fputs(": ", stderr);
        if (error) out_safe(stderr, detail);
        else fprintf(stderr, "HTTP %ld from %s", status, shown);
        fputc('\n', stderr);
        if (status == 401 && c->token == NULL) cli_err("hint: set IOTCA_TOKEN or pass --token");
        json_decref(doc);
        return EXIT_REFUSED;
    }
    if (status >= 300 && status < 400) {
        cli_err("%s answered with a redirect (HTTP %ld); give the final URL with --url", shown, status);
    } else {
        fprintf(stderr, "iotca: server failure at %s: HTTP %ld", shown, status);
        if (error) {
            fputs(" ", stderr);
            out_safe(stderr, error);
            fputs(": ", stderr);
            out_safe(stderr, detail);
        }
        fputc('\n', stderr);
    }
    json_decref(doc);
    return EXIT_SERVER;
}

int http_json(const cli *c, const char *method, const char *path, const json_t *body, json_t **out) {
    *out = NULL;
    char *text = NULL;
    if (body && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
        cli_err("out of memory");
        return EXIT_LOCAL;
    }
    long status = 0;
    iotca_buf resp = {0};
    char shown[512];
    int code = perform(c, method, path, text, text ? "application/json" : NULL, &status, &resp, shown, sizeof shown);
    free(text);
    if (code == EXIT_OK && (status < 200 || status > 299)) code = explain(c, status, &resp, shown);
    if (code == EXIT_OK) {
        json_error_t e;
        *out = json_loadb((const char *)resp.data, resp.len, JSON_REJECT_DUPLICATES, &e);
        if (!json_is_object(*out)) {
            cli_err("unexpected answer from %s (HTTP %ld): not a JSON object", shown, status);
            json_decref(*out);
            *out = NULL;
            code = EXIT_SERVER;
        }
    }
    iotca_buf_free(&resp);
    return code;
}

int http_text(const cli *c, const char *path, iotca_buf *out) {
    long status = 0;
    char shown[512];
    int code = perform(c, "GET", path, NULL, NULL, &status, out, shown, sizeof shown);
    if (code == EXIT_OK && (status < 200 || status > 299)) code = explain(c, status, out, shown);
    if (code == EXIT_OK && iotca_buf_cstr(out) != IOTCA_OK) code = EXIT_LOCAL;
    return code;
}

iotca_rc http_query_add(iotca_buf *q, const char *name, const char *value) {
    char *esc = curl_easy_escape(NULL, value, 0);
    IOTCA_ENSURE(esc != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = iotca_buf_printf(q, "%c%s=%s", q->len ? '&' : '?', name, esc);
    curl_free(esc);
    return rc;
}

const char *http_client_version(void) { return curl_version_info(CURLVERSION_NOW)->version; }
