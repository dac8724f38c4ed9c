/* A small DER writer and a strict DER reader (ITU-T X.690 §10), for what wolfSSL 5.5.4 cannot encode. */
#ifndef IOTCA_DER_H
#define IOTCA_DER_H

#include <stdint.h>
#include <time.h>

#include "iotca/buf.h"

/* Universal and context tags used by X.509, CRLs and PKCS#8. */
enum {
    IOTCA_DER_BOOLEAN = 0x01,
    IOTCA_DER_INTEGER = 0x02,
    IOTCA_DER_BIT_STRING = 0x03,
    IOTCA_DER_OCTET_STRING = 0x04,
    IOTCA_DER_NULL = 0x05,
    IOTCA_DER_OID = 0x06,
    IOTCA_DER_ENUMERATED = 0x0a,
    IOTCA_DER_UTF8STRING = 0x0c,
    IOTCA_DER_PRINTABLESTRING = 0x13,
    IOTCA_DER_IA5STRING = 0x16,
    IOTCA_DER_UTCTIME = 0x17,
    IOTCA_DER_GENERALIZEDTIME = 0x18,
    IOTCA_DER_SEQUENCE = 0x30,
    IOTCA_DER_SET = 0x31,
};
/* [n] context-specific tags */
#define IOTCA_DER_CTX(n) ((uint8_t)(0x80 | (n)))      /* primitive, IMPLICIT */
#define IOTCA_DER_CTX_CONS(n) ((uint8_t)(0xa0 | (n))) /* constructed */

#define IOTCA_DER_MAX_DEPTH 16

/* A writer appending DER to a buffer. Errors are sticky: after the first
 * failure every call is a no-op, and iotca_der_finish returns it, so callers
 * write a whole structure and check once. Constructed values are opened with
 * begin and closed with end; their length is patched in at end. */
typedef struct iotca_der {
    iotca_buf *out;
    size_t open[IOTCA_DER_MAX_DEPTH];
    int depth;
    iotca_rc rc;
} iotca_der;

/* Starts writing at the end of out (borrowed; must outlive the writer). */
void iotca_der_init(iotca_der *w, iotca_buf *out);
void iotca_der_begin(iotca_der *w, uint8_t tag);
void iotca_der_end(iotca_der *w);
/* A primitive TLV with the given content bytes. */
void iotca_der_prim(iotca_der *w, uint8_t tag, const void *content, size_t n);
/* Already-encoded TLV bytes, copied as is. */
void iotca_der_raw(iotca_der *w, const void *tlv, size_t n);
/* INTEGER from an unsigned big-endian magnitude (leading zeros stripped,
 * 0x00 added when the top bit is set). An empty magnitude encodes 0. */
void iotca_der_uint(iotca_der *w, const uint8_t *be, size_t n);
void iotca_der_int(iotca_der *w, int64_t v);
void iotca_der_bool(iotca_der *w, int v);
void iotca_der_null(iotca_der *w);
/* OID from its content octets (see oid.h). */
void iotca_der_oid(iotca_der *w, const uint8_t *oid, size_t n);
/* BIT STRING with zero unused bits. */
void iotca_der_bits(iotca_der *w, const uint8_t *data, size_t n);
/* A named-bit BIT STRING (RFC 5280 KeyUsage, ReasonFlags): bit 0 is the
 * first named bit; trailing zero bits are dropped as DER requires (X.690
 * §11.2.2). */
void iotca_der_named_bits(iotca_der *w, uint32_t bits, int nbits);
/* RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
void iotca_der_time(iotca_der *w, time_t t);
/* GeneralizedTime regardless of year (OCSP, RFC 6960 §4.2.2.1). */
void iotca_der_gtime(iotca_der *w, time_t t);
/* Checks that every begin was ended; returns the first error. */
iotca_rc iotca_der_finish(iotca_der *w);

/* One parsed TLV. `val` is the content, `tlv` the whole element. */
typedef struct iotca_tlv {
    uint8_t tag;
    iotca_slice val;
    iotca_slice tlv;
} iotca_tlv;

/* Reads the next element from the front of *in and advances *in past it.
 * Strict DER: single-byte tags only, definite minimal lengths, no length
 * beyond the input. IOTCA_E_PARSE otherwise (and on empty input). */
iotca_rc iotca_der_next(iotca_slice *in, iotca_tlv *out);
/* As iotca_der_next, and the tag must be `tag`. */
iotca_rc iotca_der_expect(iotca_slice *in, uint8_t tag, iotca_tlv *out);
/* If the next element has `tag`, reads it and sets *present; else leaves
 * *in as is and clears *present. */
iotca_rc iotca_der_optional(iotca_slice *in, uint8_t tag, iotca_tlv *out, bool *present);
/* Parses a whole buffer as exactly one element (no trailing bytes). */
iotca_rc iotca_der_single(iotca_slice in, uint8_t tag, iotca_tlv *out);
/* Decodes UTCTime or GeneralizedTime (the Z forms RFC 5280 §4.1.2.5 allows). */
iotca_rc iotca_der_read_time(const iotca_tlv *t, time_t *out);
/* Decodes a small non-negative INTEGER. */
iotca_rc iotca_der_read_uint(const iotca_tlv *t, uint64_t *out);
/* The magnitude of a positive INTEGER without its leading 0x00. */
iotca_rc iotca_der_int_magnitude(const iotca_tlv *t, iotca_slice *out);

#endif
