/* CMS (RFC 5652) as EST needs it: a certs-only SignedData, the "degenerate" form RFC 7030 §4.1.3 serves from
 * /cacerts and §4.2.3 as an enrollment's answer. */
#ifndef IOTCA_CMS_H
#define IOTCA_CMS_H

#include "iotca/buf.h"

#define IOTCA_CMS_MAX_CERTS 16

/* A ContentInfo holding a SignedData with certs[0..n) in that order, no signers and no content (wolfSSL's
 * PKCS#7 encoder), appended to der as DER. 1 <= n <= IOTCA_CMS_MAX_CERTS. IOTCA_E_USAGE a count out of range,
 * IOTCA_E_PARSE a certificate wolfSSL cannot read (named by its index), IOTCA_E_CRYPTO the encoder's failure. */
iotca_rc iotca_cms_certs_only(const iotca_slice *certs, size_t n, iotca_buf *der);

#endif
