/* EST (RFC 7030; SPEC §10) handlers under /.well-known/est/ and /.well-known/est/{profile}/: cacerts and
 * simpleenroll with HTTP Basic and the profile's enrollment secret. */
#ifndef IOTCAD_EST_H
#define IOTCAD_EST_H

#include "http.h"

/* GET cacerts (§4.1): the roots and valid cross-certificates as base64 certs-only CMS. Public. */
void est_cacerts(request *r, const char *const *p, response *out);
/* GET csrattrs (§4.5): what the profile wants in a CSR (key type, signature, extension request), base64 DER. */
void est_csrattrs(request *r, const char *const *p, response *out);
/* POST simpleenroll (§4.2.1): a base64 PKCS#10 CSR, HTTP Basic with the profile's enrollment secret; the
 * certificate as base64 certs-only CMS (§4.2.3). */
void est_simpleenroll(request *r, const char *const *p, response *out);
/* POST simplereenroll (§4.2.2): a base64 PKCS#10 CSR over TLS with the client certificate being renewed (one
 * this CA issued under the profile, unrevoked, unexpired or within the profile's reenroll_grace); its subject
 * and names must stay. The successor as base64 certs-only CMS. */
void est_simplereenroll(request *r, const char *const *p, response *out);
/* POST serverkeygen (§4.4): as simpleenroll, but the key is made by the CA; the answer is multipart/mixed with
 * the key (application/pkcs8) and the certificate (certs-only CMS), each base64. */
void est_serverkeygen(request *r, const char *const *p, response *out);
/* The route table's refuse for EST routes: the engine's refusals as text/plain (§4.2.3: an error's body is
 * human-readable text), with the status the engine chose. */
void est_refuse(request *r, response *out, unsigned status, const char *code, const char *detail);

#endif
