/* Certs-only CMS SignedData (RFC 5652 §5, RFC 7030 §4.1.3) through wolfSSL's PKCS#7 encoder (cms.h). */
#include <stdlib.h>

#include "iotca/cms.h"
#include "wolf.h"
#include <wolfssl/wolfcrypt/pkcs7.h>

iotca_rc iotca_cms_certs_only(const iotca_slice *certs, size_t n, iotca_buf *der) {
    IOTCA_ENSURE(certs && der && n >= 1 && n <= IOTCA_CMS_MAX_CERTS, IOTCA_E_USAGE,
                 "a certs-only CMS holds 1 to %d certificates, not %zu", IOTCA_CMS_MAX_CERTS, n);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        IOTCA_ENSURE(certs[i].len > 0 && certs[i].len < 65536, IOTCA_E_PARSE, "certificate %zu: %zu bytes", i + 1,
                     certs[i].len);
        total += certs[i].len;
    }
    PKCS7 *p7 = wc_PKCS7_New(NULL, INVALID_DEVID);
    IOTCA_ENSURE(p7 != NULL, IOTCA_E_INTERNAL, "out of memory");
    /* wolfSSL adds each certificate in front of the ones it holds: the last one first keeps the caller's order */
    size_t k = n - 1;
    int r = wc_PKCS7_InitWithCert(p7, (byte *)certs[k].p, (word32)certs[k].len);
    while (r == 0 && k-- > 0) r = wc_PKCS7_AddCertificate(p7, (byte *)certs[k].p, (word32)certs[k].len);
    iotca_rc rc = r == 0 ? IOTCA_OK
                         : iotca_error_set(IOTCA_E_PARSE, "certificate %zu: wolfSSL cannot read it (%s)", k + 1,
                                           wc_GetErrorString(r));
    /* no signer: the encoder still wants a digest and a content to point at (an empty eContent) */
    static byte empty[1];
    p7->hashOID = SHA256h;
    p7->content = empty;
    p7->contentSz = 0;
    if (rc == IOTCA_OK && (r = wc_PKCS7_SetSignerIdentifierType(p7, DEGENERATE_SID)) != 0)
        rc = iotca_error_set(IOTCA_E_CRYPTO, "PKCS#7 signer type: %s", wc_GetErrorString(r));
    size_t cap = total + 512;
    uint8_t *out = rc == IOTCA_OK ? malloc(cap) : NULL;
    if (rc == IOTCA_OK && out == NULL) rc = iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    if (rc == IOTCA_OK && (r = wc_PKCS7_EncodeSignedData(p7, out, (word32)cap)) <= 0)
        rc = iotca_error_set(IOTCA_E_CRYPTO, "PKCS#7 encoding failed: %s", wc_GetErrorString(r));
    if (rc == IOTCA_OK) rc = iotca_buf_append(der, out, (size_t)r);
    free(out);
    wc_PKCS7_Free(p7);
    return rc;
}
