/* Private state of the rehearsals (rehearsal.c, rehearsal_mint.c, rehearsal_results.c). */
#ifndef IOTCA_REHEARSAL_INT_H
#define IOTCA_REHEARSAL_INT_H

#include "ca_internal.h"
#include "iotca/ca_rehearsal.h"

/* The fixed scenarios, in slot order. */
enum { RH_CURRENT, RH_NEXT, RH_EXPIRED, RH_REVOKED, RH_WRONG_ROOT, RH_MISSING, RH_CRITICAL_NC };

/* A throwaway CA of the rehearsal lab: its certificate and key, in memory only. */
typedef struct rh_ca {
    iotca_buf der;
    iotca_cert *cert;
    iotca_key *key;
} rh_ca;

struct ca_rehearsal {
    pthread_mutex_t mu; /* guards all below; taken before ca->lock, never after */
    char name[254], group[64];
    long ttl;
    char require[IOTCA_REHEARSAL_REQUIRE_MAX][64];
    size_t n_require;
    /* the lab: a root of its own with a critical-nameConstraints intermediate under it; and an impostor pair
     * with the names of the rehearsed issuer (imp_for) and its root but keys of their own (`wrong-root`) */
    rh_ca lab_root, nc_int, imp_root, imp_int;
    int64_t imp_for;
    iotca_rehearsal scen[IOTCA_REHEARSAL_MAX]; /* by slot; name[0] == 0: no scenario there */
};

/* What signs a rehearsal leaf: a CA issuer (its key copies, and the lint first) or a lab CA. */
typedef struct rh_signer {
    ca_issuer *is; /* NULL: lab */
    const rh_ca *lab;
} rh_signer;

/* Makes the lab root and its critical-nameConstraints intermediate (permitting name's domain) if missing. */
iotca_rc rh_lab_make(struct ca_rehearsal *rh, time_t now);
/* Makes the impostor root and intermediate: the subject names of root and issuer, fresh keys. */
iotca_rc rh_impostor_make(struct ca_rehearsal *rh, const iotca_cert *root, const iotca_cert *issuer, time_t now);
/* A leaf for rh->name valid [nb, na], signed by sg (linted first when a CA issuer signs one that is in date):
 * its DER into der, its fresh key's PKCS#8 PEM into key_pem, its serial (lowercase hex) into serial. */
iotca_rc rh_leaf(const struct ca_rehearsal *rh, const char *scenario, const rh_signer *sg, time_t nb, time_t na,
                 iotca_buf *der, iotca_buf *key_pem, char serial[41]);
/* An OCSP response signed by the issuer itself saying the leaf (serial hex) was revoked at `at`. */
iotca_rc rh_ocsp_revoked(iotca_ca *ca, ca_issuer *is, const char *serial, time_t at, time_t now, iotca_buf *out);
void rh_ca_free(rh_ca *c);

#endif
