/* X.509 certificates, CSRs and CRLs: building TBS structures with our DER writer, parsing with wolfSSL plus a strict reader. */
#ifndef IOTCA_X509_H
#define IOTCA_X509_H

#include <time.h>

#include "iotca/buf.h"
#include "iotca/key.h"

/* ---- Names ---------------------------------------------------------- */

/* Builds a DER Name with the given attributes (NULL or "" ones skipped), in
 * the order C, O, OU, CN. CN/O/OU are UTF8String, C PrintableString. At
 * least one attribute is required; each value at most 64 bytes (RFC 5280
 * upper bounds). */
iotca_rc iotca_name_build(const char *c, const char *o, const char *ou, const char *cn, iotca_buf *out);
/* Appends a one-line human form ("CN=..., O=...") of a DER Name to out. */
iotca_rc iotca_name_format(iotca_slice name, iotca_buf *out);
/* Copies the first CN of a DER Name into out (C string); "" if none. */
iotca_rc iotca_name_cn(iotca_slice name, iotca_buf *out);

/* ---- Building certificates ----------------------------------------- */

/* keyUsage bits, RFC 5280 §4.2.1.3 */
enum {
    IOTCA_KU_DIGITAL_SIGNATURE = 1u << 0,
    IOTCA_KU_NON_REPUDIATION = 1u << 1,
    IOTCA_KU_KEY_ENCIPHERMENT = 1u << 2,
    IOTCA_KU_DATA_ENCIPHERMENT = 1u << 3,
    IOTCA_KU_KEY_AGREEMENT = 1u << 4,
    IOTCA_KU_KEY_CERT_SIGN = 1u << 5,
    IOTCA_KU_CRL_SIGN = 1u << 6,
};
/* extendedKeyUsage purposes, RFC 5280 §4.2.1.12 */
enum {
    IOTCA_EKU_SERVER = 1u << 0,
    IOTCA_EKU_CLIENT = 1u << 1,
    IOTCA_EKU_CODE_SIGNING = 1u << 2,
    IOTCA_EKU_OCSP_SIGNING = 1u << 3,
};
/* Parses "server,client,code-signing,ocsp-signing" into EKU bits. */
iotca_rc iotca_eku_parse(const char *list, unsigned *out);

/* An IPv4 (len 4) or IPv6 (len 16) address, with a mask for constraints. */
typedef struct iotca_ip {
    uint8_t addr[16];
    uint8_t mask[16];
    size_t len;
} iotca_ip;
/* Parses "192.0.2.0/24" or "2001:db8::/32" (mask given) or a bare address
 * (full mask). Host bits outside the mask must be zero for a range. */
iotca_rc iotca_ip_parse(const char *text, iotca_ip *out);

typedef enum iotca_nc_mode {
    IOTCA_NC_NONE = 0,
    IOTCA_NC_CRITICAL,    /* RFC 5280 §4.2.1.10 MUST */
    IOTCA_NC_NONCRITICAL, /* for mbedTLS / BearSSL fleets (SPEC §3) */
} iotca_nc_mode;
iotca_rc iotca_nc_mode_parse(const char *s, iotca_nc_mode *out);

#define IOTCA_SPEC_MAX_NAMES 32

/* Everything a certificate will say. Slices are borrowed for the call. */
typedef struct iotca_cert_spec {
    iotca_slice serial;      /* positive big-endian magnitude; see iotca_serial_random */
    iotca_slice issuer;      /* DER Name, copied byte for byte */
    iotca_slice subject;     /* DER Name, copied byte for byte */
    iotca_slice spki;        /* subject's SubjectPublicKeyInfo DER */
    iotca_slice skid;        /* if empty, derived from spki (RFC 5280 §4.2.1.2 method 1) */
    iotca_slice issuer_skid; /* AKID keyIdentifier; empty for none */
    time_t not_before, not_after;
    bool is_ca;
    int path_len; /* -1: no pathLenConstraint */
    unsigned key_usage;
    unsigned eku; /* 0: no EKU extension */
    const char *dns[IOTCA_SPEC_MAX_NAMES];
    size_t n_dns;
    iotca_ip ips[IOTCA_SPEC_MAX_NAMES];
    size_t n_ips;
    const char *uris[IOTCA_SPEC_MAX_NAMES];
    size_t n_uris;
    iotca_nc_mode nc_mode;
    const char *permit_dns[IOTCA_SPEC_MAX_NAMES];
    size_t n_permit_dns;
    iotca_ip permit_ip[IOTCA_SPEC_MAX_NAMES];
    size_t n_permit_ip;
    const char *ocsp_url, *ca_issuers_url, *crl_url; /* NULL: not written */
    bool ocsp_nocheck;
} iotca_cert_spec;

/* 16 CSPRNG bytes, top bit clear and first byte non-zero: a positive
 * INTEGER of exactly 16 octets carrying 127 random bits (SPEC §3 asks 64+). */
#define IOTCA_SERIAL_LEN 16
iotca_rc iotca_serial_random(uint8_t out[IOTCA_SERIAL_LEN]);
/* A serial of the same shape whose first 6 octets are 0x40 | the milliseconds since 1970 (46 bits, to the year
 * 4200) and whose last 10 are CSPRNG bytes (80 random bits; SPEC §3 asks 64+): serials drawn later sort later,
 * so the store's serial-keyed B-trees grow at one edge instead of on a random page each (a leaf issuance
 * writes fewer pages). IOTCA_E_CRYPTO if the RNG fails. */
iotca_rc iotca_serial_ordered(int64_t ms_since_epoch, uint8_t out[IOTCA_SERIAL_LEN]);
/* SKID by RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
iotca_rc iotca_skid_from_spki(iotca_slice spki, uint8_t out[20]);

/* Encodes the TBSCertificate for spec, signed with sigalg (DER
 * AlgorithmIdentifier). IOTCA_E_USAGE for an inconsistent spec (empty names,
 * notAfter before notBefore, too many names, bad URL). */
iotca_rc iotca_cert_tbs(const iotca_cert_spec *spec, iotca_slice sigalg, iotca_buf *tbs);
/* Builds the TBS, signs it with signer, appends the Certificate DER to out,
 * then re-parses the result and verifies its signature against the
 * signer's public key before returning it. */
iotca_rc iotca_cert_sign(const iotca_cert_spec *spec, const iotca_key *signer, iotca_buf *out);
/* Signs tbs (a DER TBSCertificate, as iotca_cert_tbs made it for this signer's algorithm) as it is, appends
 * the Certificate DER to out, then re-parses the result, checks that its TBS is tbs byte for byte and
 * verifies its signature against the signer's public key. IOTCA_E_PARSE for a TBS either parser refuses or
 * whose signature field is not the signer's algorithm, IOTCA_E_CRYPTO for a signature that does not verify. */
iotca_rc iotca_cert_sign_tbs(iotca_slice tbs, const iotca_key *signer, iotca_buf *out);

/* ---- Parsed certificates -------------------------------------------- */

typedef struct iotca_cert iotca_cert;

/* Read-only view of a parsed certificate; slices point into its DER. */
typedef struct iotca_cert_info {
    iotca_slice der, tbs, sigalg, sig;
    iotca_slice serial; /* magnitude, no leading 0x00 */
    iotca_slice issuer, subject, spki, skid, akid, san;
    time_t not_before, not_after;
    bool has_basic_constraints, is_ca;
    int path_len; /* -1 if absent */
    bool has_key_usage;
    unsigned key_usage;
    unsigned eku; /* bits for known purposes; 0 if no EKU extension */
    bool has_eku;
    bool has_name_constraints, name_constraints_critical;
    bool has_aia, has_crl_dp;
    unsigned n_unknown_critical; /* critical extensions iotca does not know */
    iotca_key_type key_type;
    bool key_type_supported;
    /* why wolfSSL's own parser refuses it (a static string), or NULL; set only by iotca_cert_parse_lenient */
    const char *wolfssl_refusal;
} iotca_cert_info;

/* Parses one certificate from DER or PEM ("CERTIFICATE"). wolfSSL's parser
 * must accept it too. IOTCA_E_PARSE with the reason otherwise. */
iotca_rc iotca_cert_parse(iotca_slice in, iotca_cert **out);
/* The same without wolfSSL's verdict: a certificate iotca's reader takes but wolfSSL's parser refuses (an unknown
 * critical extension, a critical key identifier) is returned with info->wolfssl_refusal saying why, for the
 * fleet check, which judges such certificates per stack (lib/fleet). IOTCA_E_PARSE as iotca_cert_parse else. */
iotca_rc iotca_cert_parse_lenient(iotca_slice in, iotca_cert **out);
const iotca_cert_info *iotca_cert_get(const iotca_cert *c);
void iotca_cert_free(iotca_cert *c);
/* SHA-256 of the DER (the fingerprint users compare) and of the SPKI (pin). */
void iotca_cert_fingerprint(const iotca_cert *c, uint8_t out[32]);
void iotca_cert_spki_pin(const iotca_cert *c, uint8_t out[32]);
/* True if c's issuer name equals its subject and it verifies with its own key. */
bool iotca_cert_is_self_signed(const iotca_cert *c);
/* Checks that child's issuer DN equals issuer's subject DN (byte for byte)
 * and that child's signature verifies with issuer's key. */
iotca_rc iotca_cert_verify_signed_by(const iotca_cert *child, const iotca_cert *issuer);
/* Verifies leaf (DER) up to the trust anchors with wolfSSL's own
 * certificate manager, an implementation independent of our encoder.
 * anchors and untrusted are arrays of DER certificates. */
iotca_rc iotca_chain_verify_wolfssl(const iotca_slice *anchors, size_t n_anchors, const iotca_slice *untrusted,
                                    size_t n_untrusted, iotca_slice leaf);
/* Lints a leaf's DER TBSCertificate before it is signed (lib/issuer/lint.c): reads it back with the strict
 * reader and checks it against its issuer and against decided, the spec policy decided and the TBS was built
 * from. Rules (RFC 5280 sections in lint.c): ca, outlives_issuer, validity, issuer_name, akid, serial,
 * critical, eku, san (and parse, for a TBS that does not read back). A refusal is IOTCA_E_INTERNAL
 * "lint: rule <rule>: <what>": the CA built what it must not sign. IOTCA_E_USAGE for NULL arguments. */
iotca_rc iotca_lint_leaf(iotca_slice tbs, const iotca_cert *issuer, const iotca_cert_spec *decided);

/* ---- CSRs ----------------------------------------------------------- */

typedef struct iotca_csr iotca_csr;
typedef struct iotca_csr_info {
    iotca_slice der, subject, spki;
    iotca_key_type key_type;
    iotca_slice extensions; /* content of the extensionRequest SEQUENCE; empty if none */
    /* PKCS#9 challengePassword's string (PrintableString or UTF8String); EST's channel binding (RFC 7030 §3.5) */
    iotca_slice challenge_password;
    bool has_challenge_password;
} iotca_csr_info;

/* Parses a PKCS#10 request (DER or PEM "CERTIFICATE REQUEST") and verifies
 * its self-signature (RFC 2986 §4.2). IOTCA_E_PARSE for malformed input,
 * IOTCA_E_CRYPTO when the signature does not verify, IOTCA_E_POLICY for
 * unsupported key types. */
iotca_rc iotca_csr_parse(iotca_slice in, iotca_csr **out);
const iotca_csr_info *iotca_csr_get(const iotca_csr *c);
void iotca_csr_free(iotca_csr *c);
/* Builds and signs a CSR for key with the given subject (DER Name). */
iotca_rc iotca_csr_build(const iotca_key *key, iotca_slice subject, iotca_buf *out);

/* Subject alternative names, as requested in a CSR or carried by a certificate. */
#define IOTCA_NAME_MAX 253
/* What iotca_names_parse refused, so a caller can name the rule after the kind of name (lib/policy). */
typedef enum iotca_names_fault {
    IOTCA_NAMES_FAULT_NONE = 0, /* nothing refused, or the DER around the names is malformed */
    IOTCA_NAMES_FAULT_COUNT,    /* more than IOTCA_SPEC_MAX_NAMES of a kind */
    IOTCA_NAMES_FAULT_DNS,      /* a dNSName empty, too long, or with a space, control or non-ASCII byte */
    IOTCA_NAMES_FAULT_IP,       /* an iPAddress of neither 4 nor 16 octets */
    IOTCA_NAMES_FAULT_URI,      /* a URI empty, too long, or with such a byte */
} iotca_names_fault;
typedef struct iotca_names {
    char dns[IOTCA_SPEC_MAX_NAMES][IOTCA_NAME_MAX + 1];
    size_t n_dns;
    iotca_ip ips[IOTCA_SPEC_MAX_NAMES];
    size_t n_ips;
    char uris[IOTCA_SPEC_MAX_NAMES][IOTCA_NAME_MAX + 1];
    size_t n_uris;
    size_t n_other; /* email, directoryName, otherName...: counted, not kept */
    iotca_names_fault fault; /* set when iotca_names_parse refuses */
} iotca_names;
/* Parses a GeneralNames DER value (a SAN extension's content). IOTCA_E_PARSE
 * for malformed input, IOTCA_E_POLICY for more than IOTCA_SPEC_MAX_NAMES of a
 * kind, names longer than IOTCA_NAME_MAX or names with NUL/control bytes;
 * out->fault says which (an IP address of the wrong size is IOTCA_E_PARSE
 * with IOTCA_NAMES_FAULT_IP). */
iotca_rc iotca_names_parse(iotca_slice general_names, iotca_names *out);
/* The SAN a CSR requests (all empty if none). */
iotca_rc iotca_csr_names(const iotca_csr *c, iotca_names *out);
/* Builds a CSR that also requests the given SANs (extensionRequest, PKCS#9). */
iotca_rc iotca_csr_build_names(const iotca_key *key, iotca_slice subject, const iotca_names *names, iotca_buf *out);

/* ---- CRLs (RFC 5280 §5) --------------------------------------------- */

/* CRLReason, RFC 5280 §5.3.1 */
typedef enum iotca_reason {
    IOTCA_REASON_UNSPECIFIED = 0,
    IOTCA_REASON_KEY_COMPROMISE = 1,
    IOTCA_REASON_CA_COMPROMISE = 2,
    IOTCA_REASON_AFFILIATION_CHANGED = 3,
    IOTCA_REASON_SUPERSEDED = 4,
    IOTCA_REASON_CESSATION_OF_OPERATION = 5,
    IOTCA_REASON_CERTIFICATE_HOLD = 6,
    IOTCA_REASON_PRIVILEGE_WITHDRAWN = 9,
} iotca_reason;
/* "keyCompromise", "key-compromise", ... IOTCA_E_USAGE listing the names. */
iotca_rc iotca_reason_parse(const char *s, iotca_reason *out);
const char *iotca_reason_name(iotca_reason r);

typedef struct iotca_crl_entry {
    iotca_slice serial; /* magnitude */
    time_t revoked_at;
    iotca_reason reason;
} iotca_crl_entry;

typedef struct iotca_crl_spec {
    iotca_slice issuer;      /* DER Name of the signer */
    iotca_slice issuer_skid; /* AKID (RFC 5280 §5.2.1 MUST) */
    time_t this_update, next_update;
    uint64_t crl_number; /* RFC 5280 §5.2.3, monotonic */
    const iotca_crl_entry *entries;
    size_t n_entries;
} iotca_crl_spec;

/* Builds and signs a v2 CRL; appends its DER to out. */
iotca_rc iotca_crl_sign(const iotca_crl_spec *spec, const iotca_key *signer, iotca_buf *out);

/* What a parsed CRL says (slices into the caller's DER). */
typedef struct iotca_crl_info {
    iotca_slice tbs, sigalg, sig, issuer;
    time_t this_update, next_update;
    uint64_t number; /* 0 if no crlNumber */
    bool has_number;
    size_t n_entries;
    iotca_slice revoked; /* content of revokedCertificates (empty if absent); see iotca_crl_entry_next */
    iotca_slice akid;    /* AKID keyIdentifier (empty if absent) */
} iotca_crl_info;
/* Parses a v2 CRL (DER or PEM "X509 CRL") into info; der receives the DER
 * the slices point into. IOTCA_E_PARSE for malformed input. */
iotca_rc iotca_crl_parse(iotca_slice in, iotca_buf *der, iotca_crl_info *info);
/* Verifies the CRL's signature with a CA certificate whose subject is its issuer. */
iotca_rc iotca_crl_verify(const iotca_crl_info *info, const iotca_cert *ca);
/* Reads the next revokedCertificates entry from the front of *revoked (start
 * with info->revoked) and advances past it: serial magnitude, revocation
 * date, reasonCode (IOTCA_REASON_UNSPECIFIED when absent). IOTCA_E_PARSE for
 * a malformed entry. */
iotca_rc iotca_crl_entry_next(iotca_slice *revoked, iotca_crl_entry *out);

/* ---- Streaming CRLs: memory stays flat however many entries ----------- */

/* A CRL built one entry at a time (BearSSL-style: lengths are known before
 * anything is written). Entries beyond IOTCA_CRL_SPILL bytes go to an
 * unlinked temporary file, the TBSCertList is hashed incrementally and the
 * digest signed, so memory does not grow with the revocation list (except for
 * Ed25519 signers, whose PureEdDSA signature needs the whole TBS in memory).
 * Call new, add for each entry, end, sign, write; free in any state. */
typedef struct iotca_crl_stream iotca_crl_stream;
#define IOTCA_CRL_SPILL ((size_t)1 << 20)

/* Starts a CRL for spec (spec->entries and n_entries are ignored; add them)
 * signed by signer (borrowed; must outlive the stream). spool_dir is where
 * the temporary file goes (NULL: $TMPDIR or /tmp). IOTCA_E_USAGE for an
 * inconsistent spec. */
iotca_rc iotca_crl_stream_new(const iotca_crl_spec *spec, const iotca_key *signer, const char *spool_dir,
                              iotca_crl_stream **out);
/* Appends one revokedCertificates entry (RFC 5280 §5.1.2.6; reasonCode
 * omitted for unspecified, §5.3.1). IOTCA_E_USAGE for a serial that is empty
 * or longer than 20 octets; IOTCA_E_STORAGE if the spool cannot be written. */
iotca_rc iotca_crl_stream_add(iotca_crl_stream *st, const iotca_crl_entry *e);
/* Entries added so far. */
uint64_t iotca_crl_stream_count(const iotca_crl_stream *st);
/* Closes the entry list and hashes the TBSCertList. No key is used. */
iotca_rc iotca_crl_stream_end(iotca_crl_stream *st);
/* Signs the digest: the only step that uses the key, so a caller that
 * serialises use of a shared key holds its lock for this call alone. */
iotca_rc iotca_crl_stream_sign(iotca_crl_stream *st);
/* Writes the whole CertificateList DER through sink (called with pieces of
 * at most 64 KiB; a failure it returns stops the write) and sets *len. */
typedef iotca_rc (*iotca_crl_sink)(void *ctx, const uint8_t *p, size_t n);
iotca_rc iotca_crl_stream_write(iotca_crl_stream *st, iotca_crl_sink sink, void *ctx, uint64_t *len);
/* Releases the stream and its temporary file. NULL is ignored. */
void iotca_crl_stream_free(iotca_crl_stream *st);

#endif
