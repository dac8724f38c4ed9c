/* The store's ACME state (RFC 8555, issue 21; schema/0019_acme.sql): single-use nonces, External Account Binding
 * keys, accounts, orders with their authorizations and challenges. Every status change is a compare-and-set
 * inside one transaction, so two clients (or two requests of one) racing on an order see one winner and a clear
 * refusal, never a half-made change. Errors: IOTCA_E_USAGE for bad arguments and "no such ..."; IOTCA_E_POLICY
 * for a refusal a client can be told (a nonce already used, a status that moved, a key already bound);
 * IOTCA_E_STORAGE for the database. */
#ifndef IOTCA_STORE_ACME_H
#define IOTCA_STORE_ACME_H

#include "iotca/acme_records.h"
#include "iotca/store.h"

/* ---- nonces (RFC 8555 §7.2) ---- */
/* Records a fresh nonce (1 to 64 characters) valid until expires_at. */
iotca_rc iotca_store_acme_nonce_add(iotca_store *s, const char *nonce, time_t expires_at);
/* Uses the nonce up: IOTCA_OK if it was issued and has not expired, and it is gone afterwards; IOTCA_E_POLICY
 * "badNonce: ..." otherwise (unknown, used, or expired). Of two concurrent takes of one nonce, one succeeds. */
iotca_rc iotca_store_acme_nonce_take(iotca_store *s, const char *nonce, time_t now);

/* ---- External Account Binding keys (RFC 8555 §7.3.4) ---- */
/* Adds a key; a kid in use is IOTCA_E_POLICY. r->secret is stored as given (the CA service encrypts it). */
iotca_rc iotca_store_acme_eab_add(iotca_store *s, const iotca_acme_eab_rec *r);
/* Loads a key with its secret. IOTCA_E_USAGE "no such EAB key" if absent. Free with iotca_acme_eab_rec_free. */
iotca_rc iotca_store_acme_eab_get(iotca_store *s, const char *kid, iotca_acme_eab_rec *r);
/* Every key, oldest first, without secrets. *out is malloc'd (*n entries; free() it). */
iotca_rc iotca_store_acme_eab_list(iotca_store *s, iotca_acme_eab_rec **out, size_t *n);
/* Revokes a key at `at`: IOTCA_E_USAGE if absent, IOTCA_E_POLICY if already revoked. Accounts made with it stay. */
iotca_rc iotca_store_acme_eab_revoke(iotca_store *s, const char *kid, time_t at);

/* ---- accounts (RFC 8555 §7.3) ---- */
/* Creates an account (status valid, created_at and id set in *a). With a->eab_kid set, the EAB key is bound to it
 * in the same transaction: a key that is unknown (IOTCA_E_USAGE), revoked or bound already (IOTCA_E_POLICY)
 * creates nothing. A key (thumbprint) that has an account already: IOTCA_E_POLICY, *existing set to its id. */
iotca_rc iotca_store_acme_account_add(iotca_store *s, iotca_acme_account_rec *a, int64_t *existing);
/* Loads an account by id / by key thumbprint: IOTCA_E_USAGE "no such account" if absent. */
iotca_rc iotca_store_acme_account_get(iotca_store *s, int64_t id, iotca_acme_account_rec *a);
iotca_rc iotca_store_acme_account_find(iotca_store *s, const uint8_t thumbprint[32], iotca_acme_account_rec *a);
/* Replaces the contact (JSON array text; NULL keeps it) and sets the status (deactivation is final: a
 * deactivated account cannot change again, IOTCA_E_POLICY). */
iotca_rc iotca_store_acme_account_update(iotca_store *s, int64_t id, const char *contact, iotca_acme_status status);
/* Key rollover (§7.3.5): the account's key becomes spki. IOTCA_E_POLICY if another account has that key. */
iotca_rc iotca_store_acme_account_rekey(iotca_store *s, int64_t id, iotca_slice spki, const uint8_t thumbprint[32]);

/* ---- orders, authorizations, challenges (§7.1.3-7.1.5, §7.4, §7.5) ---- */
/* Creates order o (pending) with its n authorizations (pending), each with its challenges (pending), in one
 * transaction; sets every id. Tokens must be unique (IOTCA_E_POLICY otherwise). */
iotca_rc iotca_store_acme_order_add(iotca_store *s, iotca_acme_order_rec *o, iotca_acme_authz_rec *authz, size_t n);
/* Loads an order: IOTCA_E_USAGE "no such order". Free with iotca_acme_order_rec_free. */
iotca_rc iotca_store_acme_order_get(iotca_store *s, int64_t id, iotca_acme_order_rec *o);
/* The order's authorizations with their challenges, in creation order. *out is malloc'd; free() it. */
iotca_rc iotca_store_acme_order_authzs(iotca_store *s, int64_t order_id, iotca_acme_authz_rec **out, size_t *n);
/* The ids of an account's orders, newest first, at most max. *ids is malloc'd; free() it. */
iotca_rc iotca_store_acme_order_list(iotca_store *s, int64_t account_id, size_t max, int64_t **ids, size_t *n);
/* Moves an order from `from` to `to` (with, when given, the problem document `error` or the certificate `serial`):
 * IOTCA_E_POLICY "order N is S" if it was not in `from` — the loser of a race, or a client out of step. */
iotca_rc iotca_store_acme_order_transition(iotca_store *s, int64_t id, iotca_acme_status from, iotca_acme_status to,
                                           const char *error, const char *serial);
/* The account whose order made certificate serial, and that order (order_id may be NULL): IOTCA_E_USAGE "no ACME
 * order made it" if none did. */
iotca_rc iotca_store_acme_serial_account(iotca_store *s, const char *serial, int64_t *account_id, int64_t *order_id);
/* How many orders name `replaces` (RFC 9773 §5: a certificate is replaced once). */
iotca_rc iotca_store_acme_replaced(iotca_store *s, const char *replaces, size_t *n);
/* Loads an authorization with its challenges: IOTCA_E_USAGE "no such authorization". */
iotca_rc iotca_store_acme_authz_get(iotca_store *s, int64_t id, iotca_acme_authz_rec *a);
/* Deactivates a pending or valid authorization (§7.5.2), and its order if that was pending or ready becomes
 * invalid; IOTCA_E_POLICY in any other status. */
iotca_rc iotca_store_acme_authz_deactivate(iotca_store *s, int64_t id);
/* Loads a challenge: IOTCA_E_USAGE "no such challenge". */
iotca_rc iotca_store_acme_challenge_get(iotca_store *s, int64_t id, iotca_acme_challenge_rec *c);
/* A client asks for validation (§7.5.1): pending -> processing, if its authorization is pending and unexpired at
 * `now`. IOTCA_E_POLICY with the status otherwise (a second request for a challenge already processing is one). */
iotca_rc iotca_store_acme_challenge_start(iotca_store *s, int64_t id, time_t now);
/* The validation's result, in one transaction: the challenge processing -> valid or invalid (with `error`), its
 * authorization valid or invalid, and its order ready once every authorization is valid, invalid (with `error`)
 * as soon as one is invalid. IOTCA_E_POLICY if the challenge was not processing. */
iotca_rc iotca_store_acme_challenge_finish(iotca_store *s, int64_t id, bool ok, const char *error, time_t at);

/* The tick's cleanup: expired nonces deleted; pending authorizations past expiry expired, and pending or ready
 * orders past expiry invalid (§7.1.6); orders that ended (valid or invalid) more than `keep` seconds before now,
 * with their authorizations and challenges, deleted. *changed counts the rows touched. */
iotca_rc iotca_store_acme_prune(iotca_store *s, time_t now, time_t keep, size_t *changed);

#endif
