/* Fleet safety (SPEC §7): linting device trust stores against the chains a CA serves, per TLS stack. */
#ifndef IOTCA_FLEET_H
#define IOTCA_FLEET_H

#include <time.h>

#include "iotca/x509.h"

/* The TLS stacks whose validation behaviour iotca models (SPEC §7), as the versions Debian 12 ships were seen to
 * behave (tests/integration/test_stack_agreement.sh). Which critical extensions each one refuses is one table in
 * lib/fleet/stack_ext.c, used by both the lint and the fleet check; how each applies basic constraints (the CA
 * bit, pathLenConstraint, self-issued CAs, its longest path) is one table in lib/fleet/model.c. */
typedef enum iotca_stack {
    IOTCA_STACK_OPENSSL,    /* OpenSSL 3: trusted-first, self-signed anchors only, an expired trusted issuer ends
                               the search (no fallback); refuses a critical authorityInfoAccess or subjectInfoAccess */
    IOTCA_STACK_OPENSSL102, /* OpenSSL 1.0.2: untrusted-first, alternative chains, fails on an expired root or
                               cross-certificate it reaches; also refuses a critical cRLDistributionPoints */
    IOTCA_STACK_MBEDTLS,    /* mbedTLS 2.28: trusted-first, any stored certificate anchors, an expired trusted issuer
                               ends the search; refuses critical nameConstraints, authorityInfoAccess,
                               cRLDistributionPoints, policyConstraints, certificatePolicies other than anyPolicy
                               (and more) in ANY presented certificate, on the path or not */
    IOTCA_STACK_WOLFSSL,    /* wolfSSL 5.5.4 with alternative chains: anchors never date-checked; a presented CA
                               nothing loaded signed is skipped, one a loaded certificate signed must be in date */
    IOTCA_STACK_BEARSSL,    /* BearSSL 0.6: in order, every anchor with the issuer's DN tried, anchors undated;
                               refuses critical extKeyUsage, nameConstraints, policyConstraints (and more), accepts
                               critical certificatePolicies, authorityInfoAccess and cRLDistributionPoints */
    IOTCA_STACK_GNUTLS,     /* GnuTLS 3.7: follows the served chain, ordered by names, to its top and anchors that at
                               a stored certificate naming its issuer; any stored certificate with the name and key of
                               one on the path anchors (a pinned intermediate, a renewal of it); anchors dated; when
                               the signer is unknown or a certificate expired, it retries with the top's own name (a
                               trusted root behind an expired cross-certificate), but a not-yet-valid certificate ends
                               it; refuses critical policyConstraints, subjectInfoAccess (and more) on the path and in
                               the anchor, accepts critical authorityInfoAccess and nameConstraints */
} iotca_stack;

/* "openssl", "openssl102", "mbedtls", "wolfssl", "bearssl", "gnutls"; IOTCA_E_USAGE otherwise. */
iotca_rc iotca_stack_parse(const char *name, iotca_stack *out);
const char *iotca_stack_name(iotca_stack s);

typedef enum iotca_severity { IOTCA_LINT_WARNING, IOTCA_LINT_ERROR } iotca_severity;

/* One finding. code is a stable identifier for scripts. */
typedef struct iotca_finding {
    iotca_severity severity;
    const char *code;
    char subject[256]; /* the certificate it is about ("" for the store as a whole) */
    char message[384];
} iotca_finding;

#define IOTCA_LINT_MAX_FINDINGS 64

typedef struct iotca_lint_report {
    iotca_finding findings[IOTCA_LINT_MAX_FINDINGS];
    size_t n;
    size_t errors, warnings;
} iotca_lint_report;

/* Lints a device trust store (the certificates a device holds, DER) for a
 * stack and an end-of-life date (`until`, 0: none), optionally against the
 * CA certificates of the chains the CA serves (`served`, DER; may be empty):
 *   store.not_root       an intermediate or leaf in the store: it breaks at the next rotation (error)
 *   store.single_root    only one root: no backup when it must be replaced (error)
 *   store.empty          nothing to trust (error)
 *   root.expires         a root expiring before `until` (error) or already expired (error)
 *   root.weak            a root whose key iotca does not accept (warning)
 *   chain.critical_ext   a served CA, or a root of a stack that processes its anchor's extensions (openssl,
 *                        openssl102, mbedtls, gnutls), carries a critical extension the stack cannot process; the
 *                        message names the extension (error; the fleet check's per-stack table)
 *   chain.no_anchor      a served chain leads to no root in the store (error)
 *   chain.rejected       the fleet check's model of the stack refuses the served chain (served[0] the issuing
 *                        CA) today for another reason: a CA without the CA bit, a pathLenConstraint exceeded, a
 *                        chain longer than the stack takes, a certificate out of date (error; only when no
 *                        other chain.* finding already says why)
 * Returns IOTCA_OK with the findings in *out (IOTCA_E_PARSE if a certificate
 * cannot be parsed at all, IOTCA_E_USAGE for a stack out of range). */
iotca_rc iotca_lint_trust_store(const iotca_slice *store, size_t n_store, const iotca_slice *served, size_t n_served,
                                iotca_stack stack, time_t now, time_t until, iotca_lint_report *out);

/* ---- fleet check (SPEC §7) ---- */

/* The most CA certificates one served chain may hold (each stack's own limit on a path is in lib/fleet/model.c). */
#define IOTCA_SERVED_MAX 20

/* A chain the CA serves from `from` on (until the next entry). With a leaf (leaf.len > 0: the server's own
 * certificate, DER or PEM), certs are the CA certificates the server sends after it, in its order, and each
 * stack builds its path from the leaf as it does; n may be 0 (a server that sends no chain). Without a leaf,
 * certs[0] is the issuing CA and the path starts at the next leaf it will sign (valid throughout, no
 * extensions), then any further CA certificates (cross-certificates) it sends. n <= IOTCA_SERVED_MAX. */
typedef struct iotca_served {
    time_t from;
    const iotca_slice *certs;
    size_t n;
    iotca_slice leaf;
} iotca_served;

typedef struct iotca_check_point {
    time_t at;
    bool ok;
    char reason[384]; /* why it breaks, or the path that validates */
} iotca_check_point;

#define IOTCA_CHECK_MAX_POINTS 128

typedef struct iotca_check_report {
    iotca_check_point points[IOTCA_CHECK_MAX_POINTS];
    size_t n;
    time_t first_failure; /* 0 if it never breaks before `until` */
} iotca_check_report;

/* Validates, as `stack` would, the chain the CA serves at every date on
 * which something changes (a schedule entry starts; a served leaf, served
 * CA or trusted certificate begins or ends its validity) from `now` to
 * `until`, against the device trust store. schedule is sorted by `from`
 * (1 to 16 entries). A certificate wolfSSL's parser refuses but iotca's
 * reader takes is judged per stack, not refused. IOTCA_E_PARSE if a
 * certificate cannot be read at all, IOTCA_E_USAGE for a stack out of
 * range or a schedule entry with more than IOTCA_SERVED_MAX CAs. */
iotca_rc iotca_fleet_check(const iotca_slice *store, size_t n_store, const iotca_served *schedule, size_t n_schedule,
                           iotca_stack stack, time_t now, time_t until, iotca_check_report *out);

/* Devices that refresh their trust store from EST's /cacerts each time they re-enroll (SPEC §10), at most
 * `every` seconds apart: from now + every on, a device holds, besides its store, the certificates of cacerts
 * (DER, the CA's roots and cross-certificates) that were valid `every` seconds earlier (its last refresh, at the
 * latest). So a root rollover whose cross-sign outlasts the re-enrollment interval reaches the devices in time,
 * and one that ends sooner does not. */
typedef struct iotca_refresh {
    const iotca_slice *cacerts;
    size_t n;
    long every;
} iotca_refresh;
/* iotca_fleet_check for such devices (refresh NULL or every 0: the store never changes). IOTCA_E_USAGE an
 * interval under a day, or more certificates than a store takes. */
iotca_rc iotca_fleet_check_refreshing(const iotca_slice *store, size_t n_store, const iotca_refresh *refresh,
                                      const iotca_served *schedule, size_t n_schedule, iotca_stack stack, time_t now,
                                      time_t until, iotca_check_report *out);

#endif
