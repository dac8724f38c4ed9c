/* The handlers of the REST API (SPEC §6), /crl and /ocsp included; server/routes.c maps paths to them. Each
 * fills out from r and the path's params (p[]) and decides nothing itself: the CA service does. */
#ifndef IOTCAD_V1_H
#define IOTCAD_V1_H

#include "http.h"

/* health.c */
void api_healthz(request *r, const char *const *p, response *out);
void api_readyz(request *r, const char *const *p, response *out);
void api_metrics(request *r, const char *const *p, response *out);
/* ca.c */
void api_roots(request *r, const char *const *p, response *out);
void api_chain(request *r, const char *const *p, response *out);
/* issuers.c */
void api_issuers_list(request *r, const char *const *p, response *out);
void api_issuers_new(request *r, const char *const *p, response *out);
void api_issuer_import(request *r, const char *const *p, response *out);
void api_issuer_csr(request *r, const char *const *p, response *out);
void api_issuer_abandon(request *r, const char *const *p, response *out);
/* certs.c. POST /v1/certificates is a RUN_STARTED route: api_cert_issue_begin checks the request and starts
 * the issuance (true: pending, and done(r) is called once its record is committed or failed; false: out holds
 * the refusal); api_cert_issue_end fills out with the answer (true: 201, and the audit record was written
 * with the certificate). api_cert_issue runs it whole on the calling thread (a stopping server, fuzz_api). */
void api_cert_issue(request *r, const char *const *p, response *out);
bool api_cert_issue_begin(request *r, response *out, void (*done)(void *arg));
bool api_cert_issue_end(request *r, response *out);
/* POST /v1/certificates/{serial}/renew, a RUN_STARTED route like issuance: begin checks the certificate, the
 * token's scope and the body and starts the renewal; the end is api_cert_issue_end's. */
void api_cert_renew(request *r, const char *const *p, response *out);
bool api_cert_renew_begin(request *r, response *out, void (*done)(void *arg));
void api_cert_get(request *r, const char *const *p, response *out);
void api_cert_list(request *r, const char *const *p, response *out);
void api_cert_revoke(request *r, const char *const *p, response *out);
/* POST /v1/bridges: a bridge certificate from a retiring issuer (admin); GET /v1/bridges: those not expired */
void api_bridge_issue(request *r, const char *const *p, response *out);
void api_bridge_list(request *r, const char *const *p, response *out);
/* rehearsals.c (issue 24): GET /v1/rehearsals, POST /v1/rehearsals/{scenario}/results (provisioner) */
void api_rehearsals(request *r, const char *const *p, response *out);
void api_rehearsal_result(request *r, const char *const *p, response *out);
/* crl.c */
void api_crl_get(request *r, const char *const *p, response *out);
void api_root_crl_import(request *r, const char *const *p, response *out);
/* fleet.c */
void api_lint(request *r, const char *const *p, response *out);
void api_fleet_check(request *r, const char *const *p, response *out);
/* The lint report's findings as JSON objects {severity, code, subject, message}: all of them, or only one
 * severity (IOTCA_LINT_ERROR or IOTCA_LINT_WARNING) when only_one is true. */
json_t *v1_findings_json(const iotca_lint_report *rep, bool only_one, iotca_severity severity);
/* trust_profiles.c: GET, POST /v1/trust-profiles; GET, PUT, DELETE /v1/trust-profiles/{name} (admin) */
void api_trust_profile_add(request *r, const char *const *p, response *out);
void api_trust_profile_list(request *r, const char *const *p, response *out);
void api_trust_profile_get(request *r, const char *const *p, response *out);
void api_trust_profile_replace(request *r, const char *const *p, response *out);
void api_trust_profile_delete(request *r, const char *const *p, response *out);
/* acme_eab.c: POST, GET /v1/acme/eab; DELETE /v1/acme/eab/{kid} (admin) */
void api_acme_eab_create(request *r, const char *const *p, response *out);
void api_acme_eab_list(request *r, const char *const *p, response *out);
void api_acme_eab_revoke(request *r, const char *const *p, response *out);
/* bundle.c */
void api_bundle(request *r, const char *const *p, response *out);
/* ocsp.c */
void api_ocsp_get(request *r, const char *const *p, response *out);
void api_ocsp_post(request *r, const char *const *p, response *out);

/* params.c: a time as RFC 3339 UTC or a date (IOTCA_E_USAGE otherwise); a serial path segment (1-40 hex
 * digits, lower-cased into out; false for anything else). */
iotca_rc v1_parse_time(const char *s, time_t *out);
bool v1_serial_param(const char *in, char out[41]);
/* certs.c, shared with the dashboard's pages (ui/): the certificate a path's serial names, if a caller with
 * role and scope may see it: IOTCA_OK with *c filled; IOTCA_E_USAGE when the serial is malformed, unknown, or of
 * a profile the (provisioner's) scope leaves out, all alike so nothing tells them apart; other errors the CA's. */
iotca_rc v1_cert_visible(iotca_ca *ca, iotca_role role, const char *scope, const char *param, iotca_cert_rec *c);
/* Revokes serial for the reason named (a CRL reason, any spelling iotca_reason_parse takes) and logs it with
 * the request's id and which way its CRL goes; *reason_out the reason. Errors: iotca_reason_parse's and
 * iotca_ca_cert_revoke's (IOTCA_E_POLICY already revoked). */
iotca_rc v1_cert_revoke_logged(request *r, const char *serial, const char *reason_name, iotca_reason *reason_out);
/* A date "2040-01-01" (optionally "T00:00:00Z") as a time; false if malformed. */
bool v1_parse_day(const char *s, time_t *out);

#endif
