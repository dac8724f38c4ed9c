/* Private to lib/validate: tls-alpn-01 (tls_alpn.c), called by validate.c with an address it resolved and allows. */
#ifndef IOTCA_VALIDATE_INT_H
#define IOTCA_VALIDATE_INT_H

#include "iotca/validate.h"

/* RFC 8737 at addr (len 4 or 16; ip its text) port cfg->tls_port for name: IOTCA_OK or a failure "tls: ...",
 * "connection: ...", "incorrectResponse: ..." (see validate.h). */
iotca_rc validate_tls_alpn01(const iotca_validate_config *cfg, const uint8_t *addr, size_t len, const char *ip,
                             const char *name, const char *key_authorization);

#endif
