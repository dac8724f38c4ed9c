/* CRL endpoints: GET /crl/{issuer-id}.crl and /crl/root-{n}.crl (DER, cacheable, ETag), and the admin
 * import of the root CRLs that iotca-root signs offline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "v1.h"

#define CRL_MAX_AGE 3600 /* caches may keep a CRL an hour; a revocation publishes a new one at once */

/* "<digits>.crl" -> the number; false for anything else. */
static bool crl_name(const char *s, const char *prefix, long long *out) {
    size_t pl = strlen(prefix);
    if (strncmp(s, prefix, pl) != 0) return false;
    s += pl;
    char *end;
    if (*s < '1' || *s > '9') return false;
    long long v = strtoll(s, &end, 10);
    if (strcmp(end, ".crl") != 0 || v <= 0 || v > 1000000000) return false;
    *out = v;
    return true;
}

/* True if an If-None-Match header names etag (RFC 9110 §13.1.2: a list, weak comparison, or "*"). */
static bool etag_matches(const char *inm, const char *etag) {
    size_t el = strlen(etag);
    while (inm && *inm) {
        while (*inm == ' ' || *inm == '\t' || *inm == ',') inm++;
        if (strncmp(inm, "W/", 2) == 0) inm += 2;
        size_t n = strcspn(inm, ",");
        while (n > 0 && (inm[n - 1] == ' ' || inm[n - 1] == '\t')) n--;
        if ((n == 1 && inm[0] == '*') || (n == el && strncmp(inm, etag, n) == 0)) return true;
        inm += strcspn(inm, ",");
    }
    return false;
}

void api_crl_get(request *r, const char *const *p, response *out) {
    long long n;
    iotca_crl_rec crl = {0};
    iotca_rc rc;
    int fd = -1;
    if (crl_name(p[0], "root-", &n)) rc = iotca_ca_root_crl(r->srv->ca, (size_t)n, &crl);
    else if (crl_name(p[0], "", &n)) rc = iotca_ca_crl_open(r->srv->ca, n, &crl, &fd); /* sent from the file */
    else {
        respond_error(out, 404, "not_found", "CRLs are named /crl/{issuer-id}.crl or /crl/root-{n}.crl");
        return;
    }
    if (rc == IOTCA_E_USAGE) {
        respond_error(out, 404, "not_found", "%s", iotca_error_detail());
        return;
    }
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    time_t now = time(NULL);
    /* a CRL number is never reused for an issuer (nor imported twice for a root), so it names the content */
    snprintf(out->etag, sizeof out->etag, "\"%s-%llu\"", p[0], (unsigned long long)crl.number);
    out->last_modified = crl.this_update;
    out->expires = crl.next_update;
    long left = (long)(crl.next_update - now);
    out->max_age = left > CRL_MAX_AGE ? CRL_MAX_AGE : left > 0 ? left : 0;
    const char *inm = header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (etag_matches(inm, out->etag)) {
        respond_text(out, 304, "application/pkix-crl", "", 0);
        if (fd >= 0) close(fd);
    } else if (fd >= 0) {
        respond_text(out, 200, "application/pkix-crl", "", 0);
        out->use_fd = true;
        out->fd = fd;
        out->fd_len = crl.size;
    } else {
        respond_text(out, 200, "application/pkix-crl", (const char *)crl.der.data, crl.der.len);
    }
    iotca_buf_free(&crl.der);
}

void api_root_crl_import(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    size_t idx = 0;
    uint64_t number = 0;
    iotca_rc rc = iotca_ca_root_crl_import(r->srv->ca, iotca_buf_slice(&r->body), &idx, &number);
    if (rc == IOTCA_OK) {
        char url[64];
        snprintf(url, sizeof url, "/crl/root-%zu.crl", idx);
        respond_json(out, 200, json_pack("{s:I, s:I, s:s}", "root", (json_int_t)idx, "crl_number", (json_int_t)number,
                                         "url", url));
    } else if (rc == IOTCA_E_POLICY && strstr(iotca_error_detail(), "not greater")) {
        respond_error(out, 409, "stale_crl", "%s", iotca_error_detail());
    } else {
        respond_rc(r, out, rc);
    }
}
