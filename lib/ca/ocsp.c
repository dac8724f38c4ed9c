/* OCSP: delegated responder certificates and pre-signed responses (to be implemented). */
#include "ca_internal.h"

iotca_rc ca_ocsp_tick(iotca_ca *ca, iotca_store *s, time_t now, int *changes) {
    (void)ca, (void)s, (void)now, (void)changes;
    return IOTCA_OK;
}

iotca_rc ca_ocsp_on_issue(iotca_ca *ca, iotca_store *s, const char *serial) {
    (void)ca, (void)s, (void)serial;
    return IOTCA_OK;
}

iotca_rc ca_ocsp_on_revoke(iotca_ca *ca, iotca_store *s, const char *serial) {
    (void)ca, (void)s, (void)serial;
    return IOTCA_OK;
}
