/* Per-issuer CRLs: generation from the store, regeneration on revocation and by the tick (to be implemented). */
#include "ca_internal.h"

iotca_rc ca_crl_tick(iotca_ca *ca, iotca_store *s, time_t now, int *changes) {
    (void)ca, (void)s, (void)now, (void)changes;
    return IOTCA_OK;
}

iotca_rc ca_crl_on_revoke(iotca_ca *ca, iotca_store *s, int64_t issuer_id) {
    (void)ca, (void)s, (void)issuer_id;
    return IOTCA_OK;
}
