/* Rehearsals (issue 24, SPEC §7): the leaves and chains that test endpoints present so a bench device can try
 * tomorrow's chain today, the failures a device must refuse, and what devices said about them. The CA makes
 * and records the leaves (only it holds the staged issuer's key); server/rehearsal serves them over TLS. */
#ifndef IOTCA_CA_REHEARSAL_H
#define IOTCA_CA_REHEARSAL_H

#include "iotca/ca.h"

/* Scenarios: seven fixed slots, then one per upcoming change (a later activation, a cross-sign's end). */
#define IOTCA_REHEARSAL_FIXED 7
#define IOTCA_REHEARSAL_CHANGES 8
#define IOTCA_REHEARSAL_MAX (IOTCA_REHEARSAL_FIXED + IOTCA_REHEARSAL_CHANGES)
#define IOTCA_REHEARSAL_REQUIRE_MAX 16

typedef struct iotca_rehearsal_config {
    const char *name;  /* the DNS name every rehearsal leaf carries (its SAN and CN); 1 to 253 bytes */
    const char *group; /* the issuer group rehearsed; NULL: the CA's default group */
    long ttl;          /* a leaf's lifetime in seconds, 300 to 86,400 */
    /* trust profiles whose device must have passed the `next` rehearsal of a staged issuer before the tick
     * activates it (rotation preflight holds it until then) */
    const char *require[IOTCA_REHEARSAL_REQUIRE_MAX];
    size_t n_require;
} iotca_rehearsal_config;

/* One scenario as it stands. */
typedef struct iotca_rehearsal {
    char name[48];           /* "current", "next", "expired", ..., "activation-NAME", "cross-sign-end-DATE" */
    unsigned slot;           /* its fixed place: 0-6 the fixed scenarios in the order above, 7+ the changes */
    bool expect_accept;      /* what a correct device does: accept (current, next, changes) or refuse */
    char presents[320];      /* what the endpoint presents, in words */
    char device_should[320]; /* what a correct device does with it, and which stacks cannot */
    bool available;          /* false: nothing to present (no staged issuer for `next`): unavailable says why */
    char unavailable[160];
    int64_t issuer_id; /* the CA issuer that signed the leaf; 0: the rehearsal lab hierarchy */
    char issuer_name[64];
    time_t at; /* when the fleet meets this chain (an activation, a cross-sign's end); 0: now or never */
    char serial[41];
    time_t not_before, not_after;
    iotca_buf chain_pem; /* the leaf, then the CA certificates the endpoint sends after it */
    iotca_buf key_pem;   /* the leaf's private key (PKCS#8 PEM): a throwaway key that signs only handshakes */
    iotca_buf ocsp_der;  /* an OCSP response to staple (`revoked`), or empty */
} iotca_rehearsal;
void iotca_rehearsal_free(iotca_rehearsal *r);

/* Checks cfg as iotca_ca_rehearsal_configure would (for a config check without a CA). */
iotca_rc iotca_rehearsal_config_check(const iotca_rehearsal_config *cfg);
/* Turns rehearsals on for this CA (copied). IOTCA_E_USAGE a name that is no DNS name, a TTL out of range or
 * too many required profiles. Call once, before the first tick; the first refresh makes the lab hierarchy. */
iotca_rc iotca_ca_rehearsal_configure(iotca_ca *ca, const iotca_rehearsal_config *cfg);
/* Brings every scenario up to date at now: a leaf for each from the issuer that will serve it, made again when
 * its issuer changed or half its life is gone; leaves past their end are deleted from the store (their serials
 * stay reserved). Each new leaf from a CA issuer is recorded (iotca_store_rehearsal_leaf_add) and audited.
 * *changes counts leaves made (may be NULL). IOTCA_OK and nothing done when rehearsals are off. The tick runs
 * it; the API runs it before it answers. */
iotca_rc iotca_ca_rehearsal_refresh(iotca_ca *ca, time_t now, int *changes);
/* Whether rehearsals are on. */
bool iotca_ca_rehearsal_enabled(iotca_ca *ca);
/* Copies every scenario (deep: the caller frees each with iotca_rehearsal_free, then free(*out)); key_pem is
 * copied only with_keys. Without rehearsals on: none. */
iotca_rc iotca_ca_rehearsals(iotca_ca *ca, bool with_keys, iotca_rehearsal **out, size_t *n);
/* Copies the scenario in slot (with its key) into out; *found false (out zeroed) if that slot has none or it is
 * unavailable. For the TLS endpoint: reads memory only. */
iotca_rc iotca_ca_rehearsal_slot(iotca_ca *ca, unsigned slot, iotca_rehearsal *out, bool *found);
/* The rehearsal lab root (PEM): the self-signed root of the `critical-name-constraints` chain, which a bench
 * device may trust to see what its stack makes of a critical nameConstraints extension alone. */
iotca_rc iotca_ca_rehearsal_lab_root(iotca_ca *ca, iotca_buf *pem);

/* Records what a device did with a scenario: accepted (the handshake completed) or not, for a registered trust
 * profile; passed is whether that is what a correct device does. source "report" or "handshake". Audited.
 * IOTCA_E_USAGE an unknown scenario (named), an unregistered trust profile or bad text; IOTCA_E_POLICY a
 * scenario with nothing to present now. out may be NULL. */
iotca_rc iotca_ca_rehearsal_report(iotca_ca *ca, const char *scenario, const char *trust_profile, bool accepted,
                                   const char *source, const char *actor, const char *note,
                                   iotca_rehearsal_result_rec *out);
/* The latest result of each (trust profile, scenario) pair (iotca_store_rehearsal_result_latest). */
iotca_rc iotca_ca_rehearsal_results(iotca_ca *ca, iotca_rehearsal_result_rec **out, size_t *n);
/* The trust profiles (configured `require`) that still lack a passed `next` rehearsal of issuer_id: each
 * named in missing (comma-separated, "" when none). Used by the tick before it activates a staged issuer. */
iotca_rc iotca_ca_rehearsal_missing(iotca_ca *ca, int64_t issuer_id, char *missing, size_t cap);

#endif
