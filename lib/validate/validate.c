/* ACME challenge validation (validate.h): c-ares lookups at the configured resolvers, then http-01 with libcurl pinned
 * to an address the lookup gave (CURLOPT_RESOLVE), or dns-01's TXT record. */
#include <arpa/inet.h>
#include <ares.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "iotca/jws.h"
#include "iotca/key.h"
#include "iotca/validate.h"
#include "validate_int.h"

#define BODY_MAX 8192
#define MAX_ADDRS 8

bool iotca_validate_address_allowed(const iotca_validate_config *cfg, const uint8_t *a, size_t len) {
    if (cfg->n_allowed == 0) {
        /* none configured: anything but this host and its link (RFC 8555 §10.2's server-side request forgery) */
        static const uint8_t zero[16] = {0};
        if (len == 4) return a[0] != 127 && a[0] != 0 && !(a[0] == 169 && a[1] == 254);
        bool loop = memcmp(a, zero, 15) == 0 && a[15] == 1;
        return !loop && memcmp(a, zero, 16) != 0 && !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
    }
    for (size_t i = 0; i < cfg->n_allowed; i++) {
        const iotca_ip *r = &cfg->allowed[i];
        if (r->len != len) continue;
        bool in = true;
        for (size_t k = 0; k < len && in; k++) in = (a[k] & r->mask[k]) == r->addr[k];
        if (in) return true;
    }
    return false;
}

/* ---- c-ares ---- */

typedef struct lookup {
    bool done;
    int status;
    uint8_t addr[MAX_ADDRS][16];
    size_t len[MAX_ADDRS], n;
    char txt[MAX_ADDRS][128];
    size_t n_txt;
} lookup;

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res) {
    (void)timeouts;
    lookup *l = arg;
    l->done = true;
    l->status = status;
    for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n && l->n < MAX_ADDRS; n = n->ai_next) {
        if (n->ai_family == AF_INET) {
            memcpy(l->addr[l->n], &((struct sockaddr_in *)(void *)n->ai_addr)->sin_addr, 4);
            l->len[l->n++] = 4;
        } else if (n->ai_family == AF_INET6) {
            memcpy(l->addr[l->n], &((struct sockaddr_in6 *)(void *)n->ai_addr)->sin6_addr, 16);
            l->len[l->n++] = 16;
        }
    }
    if (res) ares_freeaddrinfo(res);
}

static void on_txt(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
    (void)timeouts;
    lookup *l = arg;
    l->done = true;
    l->status = status;
    struct ares_txt_ext *txt = NULL;
    if (status != ARES_SUCCESS || ares_parse_txt_reply_ext(abuf, alen, &txt) != ARES_SUCCESS) return;
    for (struct ares_txt_ext *t = txt; t && l->n_txt < MAX_ADDRS; t = t->next)
        if (t->length < sizeof l->txt[0]) {
            memcpy(l->txt[l->n_txt], t->txt, t->length);
            l->txt[l->n_txt++][t->length] = 0;
        }
    ares_free_data(txt);
}

/* Runs c-ares until the lookup answers or the timeout passes. */
static void wait_for(ares_channel ch, lookup *l, unsigned timeout_ms) {
    struct timeval limit = {.tv_sec = timeout_ms / 1000, .tv_usec = (long)(timeout_ms % 1000) * 1000}, tv;
    for (int rounds = 0; !l->done && rounds < 1000; rounds++) {
        fd_set r, w;
        FD_ZERO(&r);
        FD_ZERO(&w);
        int nfds = ares_fds(ch, &r, &w);
        if (nfds == 0) break;
        struct timeval *t = ares_timeout(ch, &limit, &tv);
        if (select(nfds, &r, &w, NULL, t) < 0) break;
        ares_process(ch, &r, &w);
    }
    if (!l->done) ares_cancel(ch);
}

/* A lookup of name (A and AAAA, or TXT) at the configured resolvers. */
static iotca_rc resolve(const iotca_validate_config *cfg, const char *name, bool txt, lookup *l) {
    memset(l, 0, sizeof *l);
    ares_channel ch;
    struct ares_options opt = {.timeout = (int)(cfg->timeout_ms ? cfg->timeout_ms : 10000) / 2, .tries = 2};
    IOTCA_ENSURE(ares_init_options(&ch, &opt, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) == ARES_SUCCESS, IOTCA_E_POLICY,
                 "dns: cannot start a resolver");
    if (cfg->resolvers[0] && ares_set_servers_ports_csv(ch, cfg->resolvers) != ARES_SUCCESS) {
        ares_destroy(ch);
        IOTCA_BAIL(IOTCA_E_POLICY, "dns: the resolvers '%s' are not ip:port pairs", cfg->resolvers);
    }
    if (txt) {
        ares_query(ch, name, 1 /* C_IN */, 16 /* T_TXT */, on_txt, l);
    } else {
        struct ares_addrinfo_hints h = {.ai_family = AF_UNSPEC};
        ares_getaddrinfo(ch, name, NULL, &h, on_addrinfo, l);
    }
    wait_for(ch, l, cfg->timeout_ms ? cfg->timeout_ms : 10000);
    ares_destroy(ch);
    IOTCA_ENSURE(l->done, IOTCA_E_POLICY, "dns: no answer for %s in time", name);
    IOTCA_ENSURE(l->status == ARES_SUCCESS, IOTCA_E_POLICY, "dns: looking up %s: %s", name, ares_strerror(l->status));
    return IOTCA_OK;
}

/* ---- http-01 ---- */

typedef struct body {
    char data[BODY_MAX + 1];
    size_t len;
    bool too_long;
} body;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    body *b = arg;
    size_t k = size * n;
    if (b->len + k > BODY_MAX) {
        b->too_long = true;
        return 0; /* curl stops the transfer */
    }
    memcpy(b->data + b->len, p, k);
    b->len += k;
    return k;
}

/* The first address of name (A, then AAAA) validation may reach: into addr (*len 4 or 16) and ip (text). */
static iotca_rc pick_address(const iotca_validate_config *cfg, const char *name, uint8_t addr[16], size_t *len,
                             char ip[64]) {
    lookup l;
    IOTCA_GUARD(resolve(cfg, name, false, &l));
    IOTCA_ENSURE(l.n > 0, IOTCA_E_POLICY, "dns: %s has no address", name);
    size_t pick = l.n;
    for (size_t i = 0; i < l.n && pick == l.n; i++)
        if (iotca_validate_address_allowed(cfg, l.addr[i], l.len[i])) pick = i;
    size_t shown = pick == l.n ? 0 : pick;
    inet_ntop(l.len[shown] == 4 ? AF_INET : AF_INET6, l.addr[shown], ip, 64);
    IOTCA_ENSURE(pick < l.n, IOTCA_E_POLICY, "rejectedIdentifier: %s resolves to %s, which validation may not reach",
                 name, ip);
    memcpy(addr, l.addr[pick], l.len[pick]);
    *len = l.len[pick];
    return IOTCA_OK;
}

static iotca_rc http01(const iotca_validate_config *cfg, const char *name, const char *token, const char *ka) {
    uint8_t addr[16];
    size_t alen;
    char ip[64], url[600], pin[700];
    IOTCA_GUARD(pick_address(cfg, name, addr, &alen, ip));
    unsigned port = cfg->http_port ? cfg->http_port : 80;
    snprintf(url, sizeof url, "http://%s:%u/.well-known/acme-challenge/%s", name, port, token);
    snprintf(pin, sizeof pin, alen == 4 ? "%s:%u:%s" : "%s:%u:[%s]", name, port, ip);
    CURL *h = curl_easy_init();
    IOTCA_ENSURE(h != NULL, IOTCA_E_POLICY, "connection: cannot start an HTTP client");
    struct curl_slist *resolve_to = curl_slist_append(NULL, pin);
    body *b = calloc(1, sizeof *b);
    long timeout = cfg->timeout_ms ? (long)cfg->timeout_ms : 10000, code = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_RESOLVE, resolve_to);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "iotca-acme-validation");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    CURLcode e = b ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    curl_slist_free_all(resolve_to);
    iotca_rc rc = IOTCA_OK;
    if (b && b->too_long) rc = iotca_error_set(IOTCA_E_POLICY, "incorrectResponse: the body at %s is over %d bytes", url, BODY_MAX);
    else if (e != CURLE_OK) rc = iotca_error_set(IOTCA_E_POLICY, "connection: %s (%s): %s", url, ip, curl_easy_strerror(e));
    else if (code != 200) rc = iotca_error_set(IOTCA_E_POLICY, "connection: %s (%s) answered HTTP %ld", url, ip, code);
    if (rc == IOTCA_OK) {
        /* §8.3: whitespace at the end of the body is ignored */
        while (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r' ||
                          b->data[b->len - 1] == '\t'))
            b->len--;
        if (b->len != strlen(ka) || memcmp(b->data, ka, b->len) != 0)
            rc = iotca_error_set(IOTCA_E_POLICY, "incorrectResponse: %s does not hold the key authorization", url);
    }
    free(b);
    return rc;
}

/* ---- dns-01 ---- */

static iotca_rc dns01(const iotca_validate_config *cfg, const char *name, const char *ka) {
    uint8_t digest[32];
    iotca_sha256(iotca_slice_of(ka, strlen(ka)), digest);
    iotca_buf want = {0};
    IOTCA_GUARD(iotca_b64url_encode(iotca_slice_of(digest, sizeof digest), &want));
    char owner[300];
    snprintf(owner, sizeof owner, "_acme-challenge.%s", name);
    lookup l;
    iotca_rc rc = resolve(cfg, owner, true, &l);
    bool found = false;
    for (size_t i = 0; rc == IOTCA_OK && i < l.n_txt && !found; i++) found = strcmp(l.txt[i], (const char *)want.data) == 0;
    if (rc == IOTCA_OK && !found)
        rc = iotca_error_set(IOTCA_E_POLICY, "incorrectResponse: %zu TXT record%s at %s, none the key authorization's "
                             "digest", l.n_txt, l.n_txt == 1 ? "" : "s", owner);
    iotca_buf_free(&want);
    return rc;
}

iotca_rc iotca_validate_challenge(void *ctx, iotca_acme_challenge_type type, const char *identifier, const char *token,
                                  const char *key_authorization) {
    const iotca_validate_config *cfg = ctx;
    IOTCA_ENSURE(cfg && identifier && token && key_authorization, IOTCA_E_USAGE, "iotca_validate_challenge: NULL");
    switch (type) {
    case IOTCA_ACME_HTTP_01: return http01(cfg, identifier, token, key_authorization);
    case IOTCA_ACME_DNS_01: return dns01(cfg, identifier, key_authorization);
    case IOTCA_ACME_TLS_ALPN_01: {
        uint8_t addr[16];
        size_t alen;
        char ip[64];
        IOTCA_GUARD(pick_address(cfg, identifier, addr, &alen, ip));
        return validate_tls_alpn01(cfg, addr, alen, ip, identifier, key_authorization);
    }
    default: IOTCA_BAIL(IOTCA_E_POLICY, "malformed: %s is not offered", iotca_acme_challenge_type_name(type));
    }
}
