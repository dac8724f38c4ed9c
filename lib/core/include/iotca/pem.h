/* PEM (RFC 7468) encoding and decoding of DER blobs. */
#ifndef IOTCA_PEM_H
#define IOTCA_PEM_H

#include "iotca/buf.h"

/* Appends "-----BEGIN label-----\n", base64 in 64-column lines, and the END
 * line to out. */
iotca_rc iotca_pem_encode(const char *label, const uint8_t *der, size_t n, iotca_buf *out);

/* Finds the next PEM block in *text, decodes it into der (appended) and
 * advances *text past it. If label is non-NULL the block must carry it (other
 * blocks before it are skipped); label_out, if non-NULL, receives the block's
 * label (up to 63 chars). IOTCA_E_PARSE if no (matching) block is found or
 * the base64 is invalid. */
iotca_rc iotca_pem_next(iotca_slice *text, const char *label, iotca_buf *der, char label_out[64]);

/* The value (0-63) of a character of the standard base64 alphabet (RFC 4648 §4), -1 for any other byte
 * ('=', whitespace and NUL included). Shared by the PEM decoder and the OCSP responder's GET form. */
int iotca_base64_value(uint8_t c);

/* Standard base64 (RFC 4648 §4) of data appended to out, in lines of `line` characters each ended by "\n"
 * (0: one line, no newline), NUL-terminated. */
iotca_rc iotca_base64_encode(iotca_slice data, size_t line, iotca_buf *out);
/* Decodes standard base64 with padding, skipping CR, LF, space and tab anywhere (PEM bodies, EST's
 * application/pkcs10 bodies: RFC 8951 §3.1), appending the bytes to out. IOTCA_E_PARSE any other character,
 * one after padding, or bad padding (out may then hold a partial result). */
iotca_rc iotca_base64_decode(iotca_slice text, iotca_buf *out);

/* Accepts either DER (first byte 0x30) or PEM with the given label, and
 * returns DER in der. For reading files that users may give in either form. */
iotca_rc iotca_pem_or_der(iotca_slice in, const char *label, iotca_buf *der);

#endif
