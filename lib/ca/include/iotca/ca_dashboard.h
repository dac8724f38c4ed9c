/* The CA's reads for the dashboard (SPEC §13, issue 27): what its pages show that no single REST reply holds,
 * the roots and cross-certificates with their dates, one certificate described, the fleet risk of every
 * registered trust profile, and counts by week. Read-only; nothing here changes the CA. */
#ifndef IOTCA_CA_DASHBOARD_H
#define IOTCA_CA_DASHBOARD_H

#include "iotca/ca.h"
#include "iotca/fleet.h"

/* A configured root or cross-certificate as the hierarchy shows it. */
typedef struct iotca_ca_anchor {
    bool cross;        /* a cross-certificate (of root root_index), else root root_index itself */
    size_t root_index; /* the root it is, or the root whose subject and key it certifies */
    char subject[256], issuer[256];
    char subject_cn[128], issuer_cn[128]; /* what an operator calls them: the CN, or the whole name without one */
    time_t not_before, not_after;
    uint8_t pin[32];    /* SPKI SHA-256 */
    uint8_t sha256[32]; /* the certificate's SHA-256 */
    char key[24];       /* "ecdsa-p384", ... */
} iotca_ca_anchor;
/* The roots, then the cross-certificates, into out (at most max), *n set. */
void iotca_ca_anchors(const iotca_ca *ca, iotca_ca_anchor *out, size_t max, size_t *n);

/* One certificate described for a person: its names, its issuer, its key and fingerprint. */
typedef struct iotca_ca_cert_desc {
    char subject[256], issuer[256];
    char names[1024]; /* its SANs, ", " between them ("DNS:a.example, IP:192.0.2.1, URI:..."); "" for none */
    char key[24];
    uint8_t sha256[32];
} iotca_ca_cert_desc;
/* IOTCA_E_PARSE a DER that is no certificate. */
iotca_rc iotca_ca_cert_describe(iotca_slice der, iotca_ca_cert_desc *out);

/* A search of the inventory (the dashboard's): iotca_ca_cert_list, keeping, when f->text is set, only the
 * certificates whose subject or a SAN holds the text (any case), and when scope is not empty only those of its
 * profiles. next gets the cursor of the next page (the last serial looked at, f->limit of them) or "" when
 * there is no more. */
iotca_rc iotca_ca_cert_search(iotca_ca *ca, const iotca_cert_filter *f, const char *scope, iotca_cert_rec **out,
                              size_t *n, char next[41]);

/* The fleet risk of one registered trust profile and one issuer group: the fleet check of the chain the
 * group will serve (its active issuer now, staged ones from their activation) against the profile's store, as
 * its stack validates it, until its end of life. report holds a verdict for each date the chain or a
 * certificate in it changes; first_failure the first date it breaks (0: it never does). When the check could
 * not run (a store that no longer parses), error says why and report is empty. */
typedef struct iotca_ca_risk {
    char profile[64], stack[16], group[64];
    time_t until;
    char error[256];
    iotca_check_report *report; /* malloc'd */
} iotca_ca_risk;
/* Every (trust profile, issuer group with an active or staged issuer) pair at now, by profile then group;
 * *out malloc'd (*n entries): free with iotca_ca_risks_free. */
iotca_rc iotca_ca_fleet_risk(iotca_ca *ca, time_t now, iotca_ca_risk **out, size_t *n);
void iotca_ca_risks_free(iotca_ca_risk *list, size_t n);

/* Weekly counts (iotca_store_weekly's and iotca_store_weekly_audit's; reads go to the read replica when there is
 * one). */
iotca_rc iotca_ca_weekly(iotca_ca *ca, iotca_weekly what, time_t since, size_t weeks, iotca_week_count **out,
                         size_t *n);

iotca_rc iotca_ca_weekly_audit(iotca_ca *ca, time_t since, size_t weeks, const char *const *actions,
                               const char *outcome, iotca_week_count **out, size_t *n);

#endif
