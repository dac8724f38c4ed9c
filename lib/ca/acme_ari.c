/* ACME Renewal Information (RFC 9773; ca_acme.h): the window in which a client should renew a certificate, from
 * its validity and from what the CA itself will do to its chain (a revocation, its issuer leaving, a staged
 * successor activating). The window a client asks for is always one the CA's schedule agrees with. */
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"
#include "iotca/ca_acme.h"
#include "iotca/store_acme.h"

#define WEEK (7 * 86400)

/* The earliest activation of a staged issuer of group after now, or 0. */
static time_t next_activation(const iotca_issuer_rec *list, size_t n, const char *group, time_t now) {
    time_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (list[i].state == IOTCA_ISSUER_STAGED && strcmp(list[i].group, group) == 0 && list[i].activate_at > now &&
            (t == 0 || list[i].activate_at < t))
            t = list[i].activate_at;
    return t;
}

/* Moves the validity's window [*start, *end) by the issuer's schedule (see ca_acme.h). */
static void by_schedule(const iotca_ca *ca, const iotca_issuer_rec *mine, const iotca_issuer_rec *list, size_t n,
                        time_t now, time_t not_after, time_t *start, time_t *end) {
    time_t width = *end - *start;
    if (mine->state != IOTCA_ISSUER_ACTIVE) { /* retiring or retired: new leaves come from another issuer */
        *start = now;
        *end = now + (not_after - now > 2 * WEEK ? WEEK : (not_after - now) / 2 + 1);
        return;
    }
    /* the served chain changes at a successor's activation, and where a cross-certificate of the issuer's root
     * ends (the chain through it is no longer offered: renew onto the issuer's own) */
    time_t act = next_activation(list, n, mine->group, now);
    time_t cross = ca_cross_end(ca, iotca_buf_slice(&mine->cert), now);
    if (cross && (act == 0 || cross < act)) act = cross;
    if (act == 0 || act >= *start || act >= not_after) return;
    *start = act; /* onto the new chain, as soon as it is served */
    *end = act + width < not_after ? act + width : not_after - (not_after - act) / 4;
    if (*end <= *start) *end = *start + 1;
}

iotca_rc iotca_ca_acme_renewal_window(iotca_ca *ca, iotca_slice aki, iotca_slice serial, time_t now, time_t *start,
                                      time_t *end) {
    IOTCA_ENSURE(ca && start && end, IOTCA_E_USAGE, "iotca_ca_acme_renewal_window: NULL argument");
    char hex[41];
    IOTCA_GUARD(ca_serial_hex(serial, hex));
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_cert_rec rec = {0};
    iotca_cert *cert = NULL;
    iotca_issuer_rec mine = {0}, *list = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_store_cert_get(s, hex, &rec);
    if (rc == IOTCA_OK) rc = iotca_cert_parse(iotca_buf_slice(&rec.der), &cert);
    if (rc == IOTCA_OK && !iotca_slice_eq(iotca_cert_get(cert)->akid, aki))
        rc = iotca_error_set(IOTCA_E_USAGE, "no such certificate (the key identifier is not its issuer's)");
    if (rc == IOTCA_OK) rc = iotca_store_issuer_get(s, rec.issuer_id, &mine);
    if (rc == IOTCA_OK) rc = iotca_store_issuer_list(s, &list, &n);
    if (rc == IOTCA_OK) {
        time_t life = rec.not_after - rec.not_before;
        *start = rec.not_before + life * 2 / 3;
        *end = rec.not_before + life * 5 / 6;
        if (rec.revoked) { /* renew now: a window that has begun (RFC 9773 §4.2) */
            *start = now - 3600;
            *end = now;
        } else {
            by_schedule(ca, &mine, list, n, now, rec.not_after, start, end);
        }
    }
    if (rc == IOTCA_E_USAGE) rc = iotca_error_set(IOTCA_E_USAGE, "no certificate of this CA has that certID");
    iotca_issuer_recs_free(list, n);
    iotca_issuer_rec_free(&mine);
    iotca_cert_free(cert);
    iotca_cert_rec_free(&rec);
    return rc;
}

iotca_rc iotca_ca_acme_replaces_check(iotca_ca *ca, int64_t account_id, const char *cert_id) {
    IOTCA_ENSURE(ca && cert_id, IOTCA_E_USAGE, "iotca_ca_acme_replaces_check: NULL argument");
    const char *dot = strchr(cert_id, '.');
    iotca_buf serial = {0};
    char hex[41];
    iotca_rc rc = dot ? iotca_b64url_decode(dot + 1, strlen(dot + 1), &serial)
                      : iotca_error_set(IOTCA_E_PARSE, "x");
    if (rc == IOTCA_OK) rc = ca_serial_hex(iotca_buf_slice(&serial), hex);
    iotca_buf_free(&serial);
    if (rc != IOTCA_OK) return iotca_error_set(IOTCA_E_PARSE, "malformed: replaces is not a certID (RFC 9773 §4.1)");
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    int64_t owner = 0;
    rc = iotca_store_acme_serial_account(s, hex, &owner, NULL);
    if (rc == IOTCA_E_USAGE || (rc == IOTCA_OK && owner != account_id))
        return iotca_error_set(IOTCA_E_PARSE, "malformed: replaces names no certificate this account ordered");
    IOTCA_GUARD(rc);
    size_t n = 0;
    IOTCA_GUARD(iotca_store_acme_replaced(s, cert_id, &n));
    IOTCA_ENSURE(n == 0, IOTCA_E_POLICY, "alreadyReplaced: another order replaces that certificate already");
    return IOTCA_OK;
}
