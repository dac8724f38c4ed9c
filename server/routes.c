/* The route table: every method and path iotcad serves, the handler, and how the engine runs it (route.h).
 * It alone decides: the engine compares no path anywhere else, and a new protocol (acme/, est/, ui/) adds
 * its rows here. */
#include "http/route.h"
#include "v1/v1.h"
#include "acme/acme.h"
#include "est/est.h"
#include "ui/ui.h"

#define GET(path, fn) {"GET", path, fn, RUN_HERE, false, false, NULL, NULL, NULL}
#define CHANGE(method, path, fn) {method, path, fn, RUN_POOL, false, true, NULL, NULL, NULL}
/* ACME's resources: every POST is checked against the nonces in the database, so on the pool; changes of state
 * audited; the engine's refusals as problem documents */
#define ACME(method, path, fn, run, audited) {method, path, fn, run, false, audited, NULL, NULL, acme_refuse}
/* EST's resources: enrollments on the pool and audited, the engine's refusals as text (RFC 7030 §4.2.3) */
#define EST(method, path, fn, run, audited) {method, path, fn, run, false, audited, NULL, NULL, est_refuse}
/* The dashboard's pages (issue 27): reads, the engine's refusals as pages; its forms (login, logout, revoke)
 * on the pool and audited like every change */
#define UI(method, path, fn, run, audited) {method, path, fn, run, false, audited, NULL, NULL, ui_refuse}

const route iotcad_routes[] = {
    GET("/healthz", api_healthz),
    GET("/readyz", api_readyz),
    GET("/metrics", api_metrics),
    GET("/v1/ca/roots", api_roots),
    GET("/v1/ca/chain", api_chain),
    GET("/v1/ca/bundle", api_bundle),
    GET("/v1/issuers", api_issuers_list),
    CHANGE("POST", "/v1/issuers", api_issuers_new),
    CHANGE("PUT", "/v1/issuers/*/certificate", api_issuer_import),
    GET("/v1/issuers/*/csr", api_issuer_csr),
    CHANGE("DELETE", "/v1/issuers/*", api_issuer_abandon),
    /* issuance: started on the serving thread, answered once its record is durable, no thread waiting */
    {"POST", "/v1/certificates", api_cert_issue, RUN_STARTED, true, true, api_cert_issue_begin, api_cert_issue_end, NULL},
    GET("/v1/certificates", api_cert_list),
    GET("/v1/certificates/*", api_cert_get),
    CHANGE("POST", "/v1/certificates/*/revoke", api_cert_revoke),
    /* renewal: the issuance cycle again, started and answered as issuance is */
    {"POST", "/v1/certificates/*/renew", api_cert_renew, RUN_STARTED, true, true, api_cert_renew_begin,
     api_cert_issue_end, NULL},
    /* bridge certificates from a retiring issuer (issue 24): rare, admin only, on the pool */
    CHANGE("POST", "/v1/bridges", api_bridge_issue),
    GET("/v1/bridges", api_bridge_list),
    CHANGE("POST", "/v1/certificates/bridge", api_bridge_issue), /* SPEC §6's name for POST /v1/bridges */
    /* rehearsals (issue 24): the scenarios (refreshed first: it may sign a leaf) and what devices said */
    {"GET", "/v1/rehearsals", api_rehearsals, RUN_POOL, false, false, NULL, NULL, NULL},
    CHANGE("POST", "/v1/rehearsals/*/results", api_rehearsal_result),
    GET("/crl/*", api_crl_get),
    CHANGE("PUT", "/v1/ca/root-crl", api_root_crl_import),
    /* computations over what the client sends: they change nothing, but wait for no disk either way */
    {"POST", "/v1/lint", api_lint, RUN_POOL, false, false, NULL, NULL, NULL},
    {"POST", "/v1/fleet/check", api_fleet_check, RUN_POOL, false, false, NULL, NULL, NULL},
    CHANGE("POST", "/v1/trust-profiles", api_trust_profile_add),
    GET("/v1/trust-profiles", api_trust_profile_list),
    /* "**": the name is the rest of the path, so a name with '/' (%2F) is refused by the handler (400), not 404 */
    GET("/v1/trust-profiles/**", api_trust_profile_get),
    CHANGE("PUT", "/v1/trust-profiles/**", api_trust_profile_replace),
    CHANGE("DELETE", "/v1/trust-profiles/**", api_trust_profile_delete),
    /* OCSP signs with the responder key on the serving thread: hot */
    {"POST", "/ocsp", api_ocsp_post, RUN_HERE, true, false, NULL, NULL, NULL},
    {"GET", "/ocsp/**", api_ocsp_get, RUN_HERE, true, false, NULL, NULL, NULL},
    CHANGE("POST", "/v1/acme/eab", api_acme_eab_create),
    GET("/v1/acme/eab", api_acme_eab_list),
    CHANGE("DELETE", "/v1/acme/eab/*", api_acme_eab_revoke),
    /* ACME (RFC 8555), one directory per profile */
    ACME("GET", "/acme/*/directory", acme_directory, RUN_HERE, false),
    ACME("GET", "/acme/*/new-nonce", acme_new_nonce, RUN_POOL, false),
    ACME("GET", "/acme/*/renewal-info/*", acme_renewal_info, RUN_POOL, false),
    ACME("POST", "/acme/*/new-account", acme_new_account, RUN_POOL, true),
    ACME("POST", "/acme/*/account/*", acme_account, RUN_POOL, true),
    ACME("POST", "/acme/*/account/*/orders", acme_account_orders, RUN_POOL, false),
    ACME("POST", "/acme/*/new-order", acme_new_order, RUN_POOL, true),
    ACME("POST", "/acme/*/order/*", acme_order, RUN_POOL, false),
    ACME("POST", "/acme/*/order/*/finalize", acme_finalize, RUN_POOL, true),
    ACME("POST", "/acme/*/authz/*", acme_authz, RUN_POOL, true),
    ACME("POST", "/acme/*/key-change", acme_key_change, RUN_POOL, true),
    ACME("POST", "/acme/*/chall/*", acme_challenge, RUN_POOL, true),
    ACME("POST", "/acme/*/cert/*", acme_cert, RUN_POOL, false),
    ACME("POST", "/acme/*/cert/*/alt/*", acme_cert, RUN_POOL, false),
    ACME("POST", "/acme/*/revoke-cert", acme_revoke_cert, RUN_POOL, true),
    /* EST (RFC 7030), one label per profile; the bare /.well-known/est/ serves est.default_profile */
    EST("GET", "/.well-known/est/cacerts", est_cacerts, RUN_HERE, false),
    EST("GET", "/.well-known/est/*/cacerts", est_cacerts, RUN_HERE, false),
    EST("GET", "/.well-known/est/csrattrs", est_csrattrs, RUN_HERE, false),
    EST("GET", "/.well-known/est/*/csrattrs", est_csrattrs, RUN_HERE, false),
    EST("POST", "/.well-known/est/simpleenroll", est_simpleenroll, RUN_POOL, true),
    EST("POST", "/.well-known/est/*/simpleenroll", est_simpleenroll, RUN_POOL, true),
    EST("POST", "/.well-known/est/simplereenroll", est_simplereenroll, RUN_POOL, true),
    EST("POST", "/.well-known/est/serverkeygen", est_serverkeygen, RUN_POOL, true),
    EST("POST", "/.well-known/est/*/serverkeygen", est_serverkeygen, RUN_POOL, true),
    EST("POST", "/.well-known/est/*/simplereenroll", est_simplereenroll, RUN_POOL, true),
    /* the dashboard (issue 27); the fleet risk and the timeline run fleet checks and sums, and a text search scans
     * the inventory: on the pool */
    UI("GET", "/ui", ui_root, RUN_HERE, false),
    UI("GET", "/ui/", ui_overview, RUN_HERE, false),
    UI("GET", "/ui/style.css", ui_style, RUN_HERE, false),
    UI("GET", "/ui/icon.svg", ui_icon, RUN_HERE, false),
    UI("GET", "/ui/login", ui_login_get, RUN_HERE, false),
    UI("POST", "/ui/login", ui_login_post, RUN_POOL, true),
    UI("POST", "/ui/logout", ui_logout, RUN_POOL, true),
    UI("GET", "/ui/timeline", ui_timeline, RUN_POOL, false),
    UI("GET", "/ui/risk", ui_risk, RUN_POOL, false),
    UI("GET", "/ui/counts", ui_counts, RUN_POOL, false),
    UI("GET", "/ui/certs", ui_certs, RUN_POOL, false),
    UI("GET", "/ui/certs/*", ui_cert, RUN_HERE, false),
    UI("POST", "/ui/certs/*/revoke", ui_cert_revoke, RUN_POOL, true),
};
const size_t iotcad_n_routes = sizeof iotcad_routes / sizeof iotcad_routes[0];
