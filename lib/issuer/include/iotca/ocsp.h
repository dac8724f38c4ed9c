/* OCSP (RFC 6960, RFC 5019 profile): parsing requests and building signed responses. No storage, no HTTP. */
#ifndef IOTCA_OCSP_H
#define IOTCA_OCSP_H

#include "iotca/x509.h"

/* OCSPResponseStatus, RFC 6960 §4.2.1 */
typedef enum iotca_ocsp_status {
    IOTCA_OCSP_SUCCESSFUL = 0,
    IOTCA_OCSP_MALFORMED = 1,
    IOTCA_OCSP_INTERNAL_ERROR = 2,
    IOTCA_OCSP_TRY_LATER = 3,
    IOTCA_OCSP_SIG_REQUIRED = 5,
    IOTCA_OCSP_UNAUTHORIZED = 6,
} iotca_ocsp_status;

typedef enum iotca_ocsp_hash { IOTCA_OCSP_SHA1, IOTCA_OCSP_SHA256 } iotca_ocsp_hash;

/* The one CertID a request asks about (RFC 5019 §2.1.1: one per request). */
typedef struct iotca_ocsp_certid {
    iotca_ocsp_hash hash;
    uint8_t name_hash[32], key_hash[32];
    size_t hash_len;
    uint8_t serial[20];
    size_t serial_len;
} iotca_ocsp_certid;

#define IOTCA_OCSP_MAX_REQUEST 8192

/* Parses an OCSPRequest (DER). Exactly one Request is accepted; signed
 * requests and extensions (e.g. nonce) are accepted and ignored (RFC 5019
 * §2.1.2: pre-produced responses carry no nonce). IOTCA_E_PARSE for
 * malformed input or more than one request, IOTCA_E_POLICY for a hash
 * algorithm other than SHA-1 or SHA-256. */
iotca_rc iotca_ocsp_request_parse(iotca_slice der, iotca_ocsp_certid *out);

/* The CertID hashes of an issuer certificate under a hash algorithm. */
iotca_rc iotca_ocsp_issuer_hashes(const iotca_cert *issuer, iotca_ocsp_hash h, uint8_t name_hash[32],
                                  uint8_t key_hash[32], size_t *len);

typedef enum iotca_cert_status { IOTCA_CERT_GOOD, IOTCA_CERT_REVOKED, IOTCA_CERT_UNKNOWN } iotca_cert_status;

/* What one response says. */
typedef struct iotca_ocsp_answer {
    const iotca_ocsp_certid *certid;
    iotca_cert_status status;
    time_t revoked_at;
    int reason; /* -1: no reason */
    time_t this_update, next_update;
} iotca_ocsp_answer;

/* Builds a successful OCSPResponse with one SingleResponse, signed by
 * signer_key, carrying signer_cert (a delegated responder certificate, or
 * the issuer itself) and naming the responder by key hash (RFC 5019 §2.2.3). */
iotca_rc iotca_ocsp_response_sign(const iotca_ocsp_answer *a, const iotca_cert *signer_cert,
                                  const iotca_key *signer_key, time_t produced_at, iotca_buf *out);
/* An unsigned error response (status other than successful). */
iotca_rc iotca_ocsp_response_error(iotca_ocsp_status st, iotca_buf *out);

#endif
