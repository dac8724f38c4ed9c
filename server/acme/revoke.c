/* ACME revokeCert (RFC 8555 §7.6): a certificate this CA issued, revoked at the request of the account whose order
 * made it (kid) or of whoever holds its key (jwk); the revocation goes to OCSP and the CRL as a REST one does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"

/* The reasons a subscriber may give (RFC 5280 §5.3.1): unspecified, keyCompromise, affiliationChanged, superseded,
 * cessationOfOperation, privilegeWithdrawn. */
static bool reason_allowed(json_int_t r) { return r == 0 || r == 1 || r == 3 || r == 4 || r == 5 || r == 9; }

/* Who may revoke cert (serial): the ordering account, or a request signed by the certificate's own key. */
static iotca_rc authorized(request *r, const acme_post *q, const iotca_cert *cert, const char *serial) {
    if (q->account.id) return iotca_ca_acme_cert_owner(r->srv->ca, q->account.id, serial);
    iotca_slice spki = iotca_cert_get(cert)->spki;
    IOTCA_ENSURE(q->jws.jwk_spki.len == spki.len && memcmp(q->jws.jwk_spki.data, spki.p, spki.len) == 0,
                 IOTCA_E_POLICY, "unauthorized: the JWS is signed by neither an account nor the certificate's key");
    return IOTCA_OK;
}

/* The certificate of the payload, if this CA issued it: parsed, with its serial as the inventory spells it. */
static iotca_rc our_certificate(request *r, json_t *pl, iotca_cert **cert, char serial[41]) {
    const char *b64 = json_string_value(json_object_get(pl, "certificate"));
    IOTCA_ENSURE(b64 != NULL, IOTCA_E_PARSE, "malformed: revokeCert needs {\"certificate\": base64url DER}");
    iotca_buf der = {0}, hex = {0};
    iotca_rc rc = iotca_b64url_decode(b64, strlen(b64), &der);
    if (rc == IOTCA_OK) rc = iotca_cert_parse(iotca_buf_slice(&der), cert);
    if (rc != IOTCA_OK) rc = iotca_error_set(IOTCA_E_PARSE, "malformed: the certificate does not parse");
    iotca_cert_rec rec = {0};
    if (rc == IOTCA_OK) {
        iotca_slice sn = iotca_cert_get(*cert)->serial;
        rc = sn.len >= 1 && sn.len <= 20 ? iotca_hex_encode(sn.p, sn.len, &hex)
                                         : iotca_error_set(IOTCA_E_POLICY, "unauthorized: not a certificate of this CA");
    }
    if (rc == IOTCA_OK) {
        snprintf(serial, 41, "%s", (const char *)hex.data);
        rc = iotca_ca_cert_get(r->srv->ca, serial, &rec);
        if (rc == IOTCA_OK && !iotca_slice_eq(iotca_buf_slice(&rec.der), iotca_cert_get(*cert)->der))
            rc = iotca_error_set(IOTCA_E_USAGE, "x");
        if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: not a certificate of this CA");
    }
    iotca_cert_rec_free(&rec);
    iotca_buf_free(&der);
    iotca_buf_free(&hex);
    return rc;
}

void acme_revoke_cert(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID_OR_JWK, &q)) return;
    if (!q.account.id) snprintf(r->actor, sizeof r->actor, "acme:certificate-key");
    json_t *pl = json_loadb((const char *)q.jws.payload.data, q.jws.payload.len, JSON_REJECT_DUPLICATES, NULL);
    iotca_cert *cert = NULL;
    char serial[41] = "";
    json_t *reason = json_object_get(pl, "reason");
    iotca_rc rc = json_is_object(pl) ? our_certificate(r, pl, &cert, serial)
                                     : iotca_error_set(IOTCA_E_PARSE, "malformed: the payload must be a JSON object");
    if (rc == IOTCA_OK && reason && !(json_is_integer(reason) && reason_allowed(json_integer_value(reason))))
        rc = iotca_error_set(IOTCA_E_POLICY, "badRevocationReason: reason must be 0, 1, 3, 4, 5 or 9");
    if (rc == IOTCA_OK) rc = authorized(r, &q, cert, serial);
    if (rc == IOTCA_OK) {
        rc = iotca_ca_cert_revoke(r->srv->ca, serial, reason ? (int)json_integer_value(reason) : 0, NULL);
        if (rc == IOTCA_E_POLICY) rc = iotca_error_set(IOTCA_E_POLICY, "alreadyRevoked: %s", iotca_error_detail());
    }
    if (rc == IOTCA_OK) {
        snprintf(r->audit_subject, sizeof r->audit_subject, "certificate %s", serial);
        snprintf(r->log_serial, sizeof r->log_serial, "%s", serial);
        respond_text(out, 200, "text/plain", "", 0);
        acme_headers(r, out, q.profile);
    } else {
        acme_problem_rc(r, out, q.profile, rc);
    }
    iotca_cert_free(cert);
    json_decref(pl);
    acme_post_end(&q);
}
