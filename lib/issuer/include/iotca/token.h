/* Keys on a PKCS#11 token (issue 26, SPEC §12): generated there, sensitive and never extractable, used through
 * wolfSSL's PKCS#11 layer; an iotca_key from here signs on the token wherever a file key signs. */
#ifndef IOTCA_TOKEN_H
#define IOTCA_TOKEN_H

#include "iotca/buf.h"
#include "iotca/key.h"

/* An open token: its module loaded, a logged-in session, and a wolfSSL crypto device that signs there. */
typedef struct iotca_token iotca_token;

#define IOTCA_TOKEN_ID_MAX 32 /* bytes of CKA_ID (wolfSSL keeps at most 32) */

/* Loads the PKCS#11 module at module_path and logs in to the token whose label is exactly token_label (a
 * label is at most 32 bytes) with pin (copied; the copy is wiped at close). The slot is found by the token's
 * label among the slots with a token, by their real slot IDs (SoftHSM's are not 0..n-1). Errors:
 * IOTCA_E_USAGE a missing or unloadable module, no token with that label, two with it; IOTCA_E_CRYPTO a wrong
 * PIN ("the token refused the PIN") or a token that refuses the login; IOTCA_E_INTERNAL out of memory. */
iotca_rc iotca_token_open(const char *module_path, const char *token_label, iotca_slice pin, iotca_token **out);
/* The same, the token chosen by its serial number (CK_TOKEN_INFO.serialNumber, at most 16 bytes) instead;
 * iotca_token_label then gives the token's own label. */
iotca_rc iotca_token_open_serial(const char *module_path, const char *serial, iotca_slice pin, iotca_token **out);
/* Logs out, closes the session and unloads the module; the keys made from t must be freed first. NULL is
 * ignored. */
void iotca_token_close(iotca_token *t);
/* The token's label, as given to iotca_token_open. */
const char *iotca_token_label(const iotca_token *t);

/* Generates an ECDSA key pair (P-256 or P-384) on the token, as token objects with CKA_ID id (1 to
 * IOTCA_TOKEN_ID_MAX bytes) and CKA_LABEL label: the private key sensitive, not extractable, for signing
 * only. *out signs on the token; iotca_key_to_pkcs8 refuses it. IOTCA_E_USAGE a type other than ECDSA or a bad
 * id; IOTCA_E_UNAVAILABLE the token refused (the detail says how). */
iotca_rc iotca_token_generate(iotca_token *t, iotca_key_type type, iotca_slice id, const char *label, iotca_key **out);
/* The key with CKA_ID id on the token, whose public key is spki (the certificate's or the CSR's): *out signs
 * on the token. IOTCA_E_UNAVAILABLE no such private key on the token (or it does not answer); IOTCA_E_CRYPTO
 * the token's public key with that id is not spki; IOTCA_E_POLICY spki not ECDSA P-256 or P-384. */
iotca_rc iotca_token_key(iotca_token *t, iotca_slice id, iotca_slice spki, iotca_key **out);
/* Destroys the private and public key objects with CKA_ID id (none: nothing): a key made for a record that
 * could not be written. IOTCA_E_UNAVAILABLE if the token refuses. */
iotca_rc iotca_token_destroy(iotca_token *t, iotca_slice id);
/* Whether the token's last operation worked (false while it is away: every operation fails at once with
 * IOTCA_E_UNAVAILABLE but for one try a second to find it and log in again, which ends the outage). */
bool iotca_token_ok(iotca_token *t);
/* How many times it was found and logged in to again after failing. */
unsigned long iotca_token_reopened(iotca_token *t);
/* Whether k signs on a token (no private key bytes in memory). */
bool iotca_key_on_token(const iotca_key *k);

#endif
