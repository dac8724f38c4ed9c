/* Fuzz target: the fleet check and the trust-store lint on certificates from outside (a trust store a user pastes,
 * a chain a server sends). The input is a run of DER certificates: the first is the served leaf, the rest the CA
 * certificates after it; every one is also in the trust store. Each stack's model walks them as leaf and CAs, and
 * with the stand-in leaf (no leaf given), so the lenient reader and every path walker see hostile certificates. */
#include <stddef.h>
#include <stdint.h>

#include "iotca/der.h"
#include "iotca/fleet.h"

#define MAX_IN 12

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    iotca_slice certs[MAX_IN], in = iotca_slice_of(data, size);
    size_t n = 0;
    iotca_tlv t;
    while (n < MAX_IN && in.len && iotca_der_next(&in, &t) == IOTCA_OK) certs[n++] = t.tlv;
    if (n == 0) return 0;
    static iotca_check_report rep;
    static iotca_lint_report lint;
    const time_t now = 1800000000, until = now + 40L * 365 * 86400;
    for (int st = IOTCA_STACK_OPENSSL; st <= IOTCA_STACK_GNUTLS; st++) {
        iotca_served with_leaf = {.from = now, .certs = certs + 1, .n = n - 1, .leaf = certs[0]};
        iotca_served stand_in = {.from = now, .certs = certs, .n = n, .leaf = {0}};
        (void)iotca_fleet_check(certs, n, &with_leaf, 1, (iotca_stack)st, now, until, &rep);
        (void)iotca_fleet_check(certs + 1, n - 1, &stand_in, 1, (iotca_stack)st, now, until, &rep);
        (void)iotca_lint_trust_store(certs, n, certs, n, (iotca_stack)st, now, until, &lint);
    }
    return 0;
}
