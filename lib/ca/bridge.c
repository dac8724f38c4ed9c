/* Bridge certificates (issue 24, point 4): the way back for devices stranded by a rotation. Devices that
 * pinned an intermediate accept no chain once it stops issuing; an admin may issue, from that issuer while it
 * is retiring, a short-lived certificate for an update endpoint, so they connect once more and fetch a
 * corrected trust store. The issuance cycle is issue.c's; this file checks the request and lists them. */
#include <string.h>

#include "ca_internal.h"

/* 1 to 200 bytes of printable ASCII or UTF-8, no control characters: it is shown in the API, the audit trail and
 * logs as it was written. */
static iotca_rc justification_ok(const char *j) {
    IOTCA_ENSURE(j && *j, IOTCA_E_USAGE, "a bridge certificate needs a justification (why the devices need it)");
    size_t n = strlen(j);
    IOTCA_ENSURE(n <= 200, IOTCA_E_USAGE, "the justification is %zu bytes; at most 200", n);
    for (const unsigned char *p = (const unsigned char *)j; *p; p++)
        IOTCA_ENSURE(*p >= 0x20 && *p != 0x7f, IOTCA_E_USAGE, "the justification holds a control character");
    bool blank = true;
    for (const char *p = j; *p; p++)
        if (*p != ' ') blank = false;
    IOTCA_ENSURE(!blank, IOTCA_E_USAGE, "a bridge certificate needs a justification (why the devices need it)");
    return IOTCA_OK;
}

iotca_rc iotca_ca_issue_bridge(iotca_ca *ca, iotca_slice csr, const char *profile, int64_t issuer_id, long ttl,
                               const char *justification, const iotca_issue_audit *audit, iotca_issued *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(ca && audit && audit->actor && *audit->actor, IOTCA_E_USAGE,
                 "iotca_ca_issue_bridge: a CA and an audited actor are needed");
    IOTCA_GUARD(justification_ok(justification));
    IOTCA_ENSURE(issuer_id > 0, IOTCA_E_USAGE, "no issuer %lld", (long long)issuer_id);
    ca_bridge b = {issuer_id, justification};
    return ca_issue_sync(ca, csr, profile, ttl, audit, NULL, NULL, &b, out);
}

iotca_rc iotca_ca_bridge_list(iotca_ca *ca, time_t now, iotca_bridge_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_bridge_list(s, now, out, n);
}
