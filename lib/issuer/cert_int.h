/* Private to lib/issuer: reading a TBSCertificate on its own, for the lint that runs before anything signs it. */
#ifndef IOTCA_ISSUER_CERT_INT_H
#define IOTCA_ISSUER_CERT_INT_H

#include "iotca/x509.h"

/* Reads one DER TBSCertificate (RFC 5280 §4.1.2) with the strict reader iotca_cert_parse uses, into ci
 * (zeroed by the caller): its slices point into der; ci->der and ci->sig stay empty and ci->sigalg is the
 * TBS's own signature field. IOTCA_E_PARSE with the reason for malformed input. wolfSSL's parser is not
 * asked: it takes only signed certificates (iotca_cert_sign_tbs has it parse the result). */
iotca_rc cert_tbs_read(iotca_slice der, iotca_cert_info *ci);

#endif
