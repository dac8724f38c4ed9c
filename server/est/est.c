/* EST (RFC 7030, with RFC 8951's clarifications) over the CA's issuance cycle: cacerts and simpleenroll (est.h).
 * EST speaks base64 DER both ways (§4.1.3, §4.2.1) and text/plain in its errors. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "est.h"
#include "log.h"
#include "iotca/ca_est.h"
#include "iotca/cms.h"
#include "iotca/file.h"
#include "iotca/pem.h"

#define CERTS_ONLY "application/pkcs7-mime; smime-type=certs-only"
#define PART_B64 "Content-Transfer-Encoding: base64\r\n\r\n" /* the end of a multipart part's headers */

/* An EST error: the status and a line of text (§4.2.3), logged under code. */
static void est_error(request *r, response *out, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void est_error(request *r, response *out, unsigned status, const char *code, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail - 1, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n > sizeof detail - 2) n = (int)sizeof detail - 2;
    detail[n++] = '\n';
    respond_text(out, status, "text/plain; charset=utf-8", detail, (size_t)n);
    out->error = code;
    r->error = code;
}

void est_refuse(request *r, response *out, unsigned status, const char *code, const char *detail) {
    est_error(r, out, status, code, "%s", detail);
}

/* The EST settings of the profile the path names (p[0] when the route has one, else est.default_profile); NULL
 * (out holds the 404) when EST does not serve it. */
static const struct config_est *est_profile(request *r, const char *const *p, response *out) {
    const struct config_est *e = config_est_profile(r->cfg, r->n_params ? p[0] : NULL);
    if (e) return e;
    if (r->n_params)
        est_error(r, out, 404, "not_found", "no EST service for profile '%.64s' (the config's est.profiles)", p[0]);
    else est_error(r, out, 404, "not_found", "no EST default profile (the config's est.default_profile); use "
                                             "/.well-known/est/PROFILE/");
    return NULL;
}

/* DER as EST's body: base64 in 76-column lines (RFC 2045, as §4.1.3 shows), Content-Transfer-Encoding base64. */
static void respond_base64(request *r, response *out, const char *content_type, iotca_slice der) {
    iotca_buf b64 = {0};
    if (iotca_base64_encode(der, 76, &b64) == IOTCA_OK) {
        respond_text(out, 200, content_type, (const char *)b64.data, b64.len);
        respond_header(out, "Content-Transfer-Encoding", "base64");
    } else {
        respond_rc(r, out, IOTCA_E_INTERNAL);
    }
    iotca_buf_free(&b64);
}

void est_cacerts(request *r, const char *const *p, response *out) {
    if (est_profile(r, p, out) == NULL) return;
    iotca_buf der = {0};
    iotca_rc rc = iotca_ca_est_cacerts(r->srv->ca, time(NULL), &der);
    if (rc == IOTCA_OK) respond_base64(r, out, "application/pkcs7-mime", iotca_buf_slice(&der));
    else respond_rc(r, out, rc);
    iotca_buf_free(&der);
}

void est_csrattrs(request *r, const char *const *p, response *out) {
    const struct config_est *e = est_profile(r, p, out);
    if (e == NULL) return;
    const char *name = e->name;
    const iotca_profile *profile = iotca_ca_profile(r->srv->ca, name);
    iotca_buf der = {0};
    iotca_rc rc = profile ? iotca_profile_csrattrs(profile, &der)
                          : iotca_error_set(IOTCA_E_INTERNAL, "EST profile %s is not among the profiles", name);
    if (rc == IOTCA_OK) respond_base64(r, out, "application/csrattrs", iotca_buf_slice(&der));
    else respond_rc(r, out, rc);
    iotca_buf_free(&der);
}

/* HTTP Basic (RFC 7617) with the profile's enrollment secret as the password (any user name: it is logged).
 * False: out holds the 401 and its challenge. */
static bool basic_auth(request *r, response *out, const char *profile, const char *hash) {
    iotca_buf cred = {.secret = true};
    iotca_slice user, pass;
    bool ok = iotca_est_basic_parse(header(r, MHD_HTTP_HEADER_AUTHORIZATION), &cred, &user, &pass) == IOTCA_OK;
    const char *why = ok ? "wrong enrollment secret" : iotca_error_detail();
    ok = ok && iotca_est_secret_matches(pass, hash);
    if (ok) {
        snprintf(r->actor, sizeof r->actor, "est:%.16s:%.*s", profile, (int)(user.len < 16 ? user.len : 16),
                 (const char *)user.p);
        for (char *c = r->actor; *c; c++) /* a user name is the client's bytes: keep the log printable */
            if (*c < 0x21 || *c > 0x7e) *c = '?';
    } else {
        snprintf(r->auth_failure, sizeof r->auth_failure, "EST %.64s: %s", profile, why);
        est_error(r, out, 401, "unauthorized", "%s", why);
        respond_header(out, "WWW-Authenticate", "Basic realm=\"iotca EST %.64s\", charset=\"UTF-8\"", profile);
    }
    iotca_buf_free(&cred);
    return ok;
}

/* The request's CSR (DER, into csr), after its Content-Type and the TLS channel binding (§3.5) the profile e asks
 * for; false when out holds the refusal (415, 400, 403). */
static bool read_csr(request *r, response *out, const struct config_est *e, iotca_buf *csr) {
    const char *ct = header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct == NULL || strncasecmp(ct, "application/pkcs10", 18) != 0) { /* §4.2.1 */
        est_error(r, out, 415, "unsupported_media_type", "the body must be a base64 PKCS#10 request, Content-Type "
                                                         "application/pkcs10");
        return false;
    }
    if (iotca_est_body_decode(iotca_buf_slice(&r->body), csr) != IOTCA_OK) {
        est_error(r, out, 400, "malformed", "%s", iotca_error_detail());
        return false;
    }
    uint8_t cb[REQUEST_CB_MAX];
    size_t n = 0;
    const char *kind = "tls-unique";
    if (!request_channel_binding(r, cb, &n, &kind)) n = 0;
    iotca_rc rc = iotca_est_channel_binding_check(iotca_buf_slice(csr), iotca_slice_of(cb, n), kind,
                                                  e->channel_binding_required);
    if (rc == IOTCA_E_POLICY) est_error(r, out, 403, "channel_binding", "%s", iotca_error_detail());
    else if (rc != IOTCA_OK) est_error(r, out, 400, "malformed", "%s", iotca_error_detail());
    return rc == IOTCA_OK;
}

/* The answer to an enrollment (rc from the issuance): the certificate as certs-only CMS (§4.2.3), or the
 * refusal: 400 what the device sent does not parse or verify, 403 a rule it breaks (named). */
static void answer(request *r, response *out, const char *profile, iotca_rc rc, const iotca_issued *issued) {
    iotca_buf der = {0}, cms = {0};
    if (rc == IOTCA_OK) {
        snprintf(r->log_serial, sizeof r->log_serial, "%s", issued->serial);
        snprintf(r->audit_subject, sizeof r->audit_subject, "certificate %s (%s)", issued->serial, profile);
        r->audited = true; /* the issuance's record is in the audit trail with the certificate */
        iotca_slice pem = iotca_buf_slice(&issued->cert_pem);
        rc = iotca_pem_next(&pem, "CERTIFICATE", &der, NULL);
        if (rc == IOTCA_OK) {
            iotca_slice one = iotca_buf_slice(&der);
            rc = iotca_cms_certs_only(&one, 1, &cms);
        }
        if (rc == IOTCA_OK) respond_base64(r, out, CERTS_ONLY, iotca_buf_slice(&cms));
        else respond_rc(r, out, IOTCA_E_INTERNAL);
    } else if (rc == IOTCA_E_USAGE || rc == IOTCA_E_PARSE || rc == IOTCA_E_CRYPTO || rc == IOTCA_E_POLICY) {
        est_error(r, out, rc == IOTCA_E_POLICY ? 403 : 400, rc == IOTCA_E_POLICY ? "policy" : "malformed", "%s",
                  iotca_error_detail());
    } else {
        respond_rc(r, out, rc);
    }
    iotca_buf_free(&der);
    iotca_buf_free(&cms);
}

/* A bootstrap client certificate from the profile's bootstrap_ca file (SPEC §10), presented instead of Basic
 * credentials. False: out holds the 403 naming why (or a 500 for a bootstrap file that cannot be read). */
static bool bootstrap_auth(request *r, response *out, const char *profile, const char *file, iotca_slice client) {
    iotca_buf text = {0}, der[8] = {{0}};
    iotca_slice cas[8];
    size_t n = 0;
    iotca_rc rc = iotca_file_read(file, 1 << 20, &text);
    iotca_slice in = iotca_buf_slice(&text);
    while (rc == IOTCA_OK && n < 8 && iotca_pem_next(&in, "CERTIFICATE", &der[n], NULL) == IOTCA_OK) {
        cas[n] = iotca_buf_slice(&der[n]);
        n++;
    }
    char subject[128];
    bool ok = false;
    if (rc != IOTCA_OK || n == 0) {
        log_event("error", "EST bootstrap_ca unreadable",
                  json_pack("{s:s, s:s, s:s}", "request_id", r->id, "file", file, "detail", iotca_error_detail()));
        respond_rc(r, out, IOTCA_E_INTERNAL);
    } else if ((rc = iotca_est_bootstrap_check(client, cas, n, time(NULL), subject)) != IOTCA_OK) {
        snprintf(r->auth_failure, sizeof r->auth_failure, "EST %.64s: %s", profile, iotca_error_detail());
        est_error(r, out, 403, "forbidden", "%s", iotca_error_detail());
    } else {
        ok = true;
        snprintf(r->actor, sizeof r->actor, "est:%.16s:bootstrap", profile);
        log_event("info", "EST enrollment with a bootstrap certificate",
                  json_pack("{s:s, s:s, s:s}", "request_id", r->id, "profile", profile, "subject", subject));
    }
    for (size_t i = 0; i < n; i++) iotca_buf_free(&der[i]);
    iotca_buf_free(&text);
    return ok;
}

void est_simpleenroll(request *r, const char *const *p, response *out) {
    const struct config_est *e = est_profile(r, p, out);
    if (e == NULL) return;
    const char *profile = e->name;
    /* Basic credentials if the device sends them; else a bootstrap certificate where the profile takes one */
    const char *bootstrap = e->bootstrap_ca;
    iotca_slice client;
    bool authed = header(r, MHD_HTTP_HEADER_AUTHORIZATION) == NULL && bootstrap && request_client_cert(r, &client)
                      ? bootstrap_auth(r, out, profile, bootstrap, client)
                      : basic_auth(r, out, profile, e->secret_hash);
    if (!authed) return;
    iotca_buf csr = {0};
    iotca_issued issued = {0};
    if (read_csr(r, out, e, &csr)) {
        iotca_issue_audit audit = {
            .actor = r->actor, .action = "est.simpleenroll", .request_id = r->id, .outcome = "200"};
        answer(r, out, profile, iotca_ca_issue_audited(r->srv->ca, iotca_buf_slice(&csr), profile, 0, &audit, &issued),
               &issued);
    }
    iotca_issued_free(&issued);
    iotca_buf_free(&csr);
}

/* The key and its certificate as multipart/mixed (§4.4.2), each part base64 DER. */
static void answer_keygen(request *r, response *out, const char *profile, const iotca_issued *issued, iotca_slice key) {
    static const char boundary[] = "iotca-est-serverkeygen";
    iotca_buf der = {0}, cms = {0}, body = {.secret = true};
    snprintf(r->log_serial, sizeof r->log_serial, "%s", issued->serial);
    snprintf(r->audit_subject, sizeof r->audit_subject, "certificate %s (%s), key made by the CA", issued->serial,
             profile);
    r->audited = true;
    iotca_slice pem = iotca_buf_slice(&issued->cert_pem);
    iotca_rc rc = iotca_pem_next(&pem, "CERTIFICATE", &der, NULL);
    iotca_slice one = iotca_buf_slice(&der);
    if (rc == IOTCA_OK) rc = iotca_cms_certs_only(&one, 1, &cms);
    if (rc == IOTCA_OK)
        rc = iotca_buf_printf(&body, "--%s\r\nContent-Type: application/pkcs8\r\n%s", boundary, PART_B64);
    if (rc == IOTCA_OK) rc = iotca_base64_encode(key, 76, &body);
    if (rc == IOTCA_OK)
        rc = iotca_buf_printf(&body, "\r\n--%s\r\nContent-Type: " CERTS_ONLY "\r\n%s", boundary, PART_B64);
    if (rc == IOTCA_OK) rc = iotca_base64_encode(iotca_buf_slice(&cms), 76, &body);
    if (rc == IOTCA_OK) rc = iotca_buf_printf(&body, "\r\n--%s--\r\n", boundary);
    if (rc == IOTCA_OK) {
        out->body.secret = true; /* the response holds the private key: wiped as it grows and when freed */
        respond_text(out, 200, "multipart/mixed; boundary=iotca-est-serverkeygen", (const char *)body.data, body.len);
    } else {
        respond_rc(r, out, IOTCA_E_INTERNAL);
    }
    iotca_buf_free(&der);
    iotca_buf_free(&cms);
    iotca_buf_free(&body);
}

void est_serverkeygen(request *r, const char *const *p, response *out) {
    const struct config_est *e = est_profile(r, p, out);
    if (e == NULL || !basic_auth(r, out, e->name, e->secret_hash)) return;
    const char *profile = e->name;
    iotca_buf csr = {0}, key = {.secret = true};
    iotca_issued issued = {0};
    if (read_csr(r, out, e, &csr)) {
        iotca_issue_audit audit = {
            .actor = r->actor, .action = "est.serverkeygen", .request_id = r->id, .outcome = "200"};
        iotca_rc rc = iotca_ca_est_serverkeygen(r->srv->ca, iotca_buf_slice(&csr), profile, &audit, &issued, &key);
        if (rc == IOTCA_OK) answer_keygen(r, out, profile, &issued, iotca_buf_slice(&key));
        else answer(r, out, profile, rc, &issued);
    }
    iotca_issued_free(&issued);
    iotca_buf_free(&csr);
    iotca_buf_free(&key);
}

void est_simplereenroll(request *r, const char *const *p, response *out) {
    const struct config_est *e = est_profile(r, p, out);
    if (e == NULL) return;
    const char *profile = e->name;
    iotca_slice client;
    if (!request_client_cert(r, &client)) {
        snprintf(r->auth_failure, sizeof r->auth_failure, "EST %.64s: re-enrollment without a client certificate",
                 profile);
        est_error(r, out, 401, "unauthorized", "simplereenroll needs the TLS client certificate being renewed");
        return;
    }
    snprintf(r->actor, sizeof r->actor, "est:%.16s:client-certificate", profile);
    iotca_buf csr = {0};
    iotca_issued issued = {0};
    if (read_csr(r, out, e, &csr)) {
        iotca_issue_audit audit = {.actor = r->actor, .action = "est.simplereenroll", .request_id = r->id,
                                   .outcome = "200"};
        bool grace = false;
        iotca_rc rc = iotca_ca_est_reenroll(r->srv->ca, client, profile, e->reenroll_grace, time(NULL),
                                            iotca_buf_slice(&csr), &audit, &issued, &grace);
        if (rc == IOTCA_OK && grace) {
            __atomic_add_fetch(&r->srv->m.est_grace, 1, __ATOMIC_RELAXED);
            log_event("info", "EST re-enrollment within the grace after expiry",
                      json_pack("{s:s, s:s, s:s}", "request_id", r->id, "profile", profile, "serial", issued.serial));
        }
        answer(r, out, profile, rc, &issued);
    }
    iotca_issued_free(&issued);
    iotca_buf_free(&csr);
}
