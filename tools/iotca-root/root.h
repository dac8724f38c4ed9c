/* iotca-root internals: the vault, its ledger, custodian shares and the secrets that unlock the root key. */
#ifndef IOTCA_ROOT_H
#define IOTCA_ROOT_H

#include <jansson.h>
#include <limits.h>

#include "iotca/key.h"
#include "iotca/token.h"
#include "iotca/x509.h"

#define MAX_SHARES 255
#define MAX_LIST 32

/* Command-line options shared by all subcommands; unset ones are NULL/0. */
typedef struct root_opts {
    const char *vault, *name, *org, *country, *key, *csr, *cert, *out, *serial, *reason, *note;
    const char *passphrase_file, *name_constraints, *eku, *crl_url, *ocsp_url, *ca_issuers_url, *head;
    /* the root key on a PKCS#11 token (issue 26): --pkcs11 MODULE, --token-label or --token-serial */
    const char *pkcs11_module, *token_label, *token_serial;
    const char *shares_file[MAX_SHARES];
    size_t n_share_files;
    const char *permit_dns[MAX_LIST], *permit_ip[MAX_LIST];
    size_t n_permit_dns, n_permit_ip;
    long years, days, shares, threshold, path_len;
    bool yes, json;
} root_opts;

/* An opened vault: its directory, state (vault.json) and root certificate. */
typedef struct vault {
    char dir[PATH_MAX];
    json_t *state;
    iotca_cert *root;
    iotca_token *token; /* open while a key on it is in use (vault_unlock); vault_close closes it */
} vault;

/* File names inside a vault. */
#define VAULT_STATE "vault.json"
#define VAULT_ROOT_CERT "root.pem"
#define VAULT_ROOT_KEY "root.key"
#define VAULT_LEDGER "ledger.jsonl"
#define VAULT_ISSUED "issued"
#define VAULT_SHARES "shares"

/* Joins the vault directory and a name; IOTCA_E_USAGE if too long. */
iotca_rc vault_path(const vault *v, const char *name, char *out, size_t n);
/* Opens an existing vault and checks its ledger against the recorded head. */
iotca_rc vault_open(const char *dir, vault *v);
/* Writes vault.json atomically. */
iotca_rc vault_save(vault *v);
/* Obtains the passphrase (file, prompt or shares) and decrypts the root key, or for a vault whose key is on a
 * PKCS#11 token, the token's PIN the same way and the key on the token (v->token, until vault_close); refuses
 * a key that does not match the root certificate. Free *key before vault_close. */
iotca_rc vault_unlock(vault *v, const root_opts *o, iotca_key **key);
void vault_close(vault *v);
/* Writes a signed artifact: a copy under the vault's issued/ directory and
 * the file the operator asked for, both never overwriting. */
iotca_rc vault_write_cert(vault *v, const iotca_cert *c, const char *out_path);

/* Ledger: one JSON object per line, each carrying "prev", the SHA-256 (hex)
 * of the previous line's bytes; the vault records the last line's hash and
 * the count, so editing, deleting, reordering or truncating is detected. */
#define LEDGER_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
/* Adds seq, time and prev to rec (consumed), appends it and updates the
 * vault state's head and count (saved). */
iotca_rc ledger_append(vault *v, json_t *rec);
/* Verifies the ledger file at path; on success *records (may be NULL) gets
 * the parsed array and *head the hash of the last line (hex, 65 bytes). */
iotca_rc ledger_verify(const char *path, json_t **records, char head[65], size_t *count);

/* Shamir shares (libgfshare over GF(2^8)). */
iotca_rc shares_split(const uint8_t *secret, size_t len, unsigned n, unsigned m, const char *dir,
                      const char *vault_fp_hex);
/* Combines share files; *secret receives the recombined bytes. Fails with a
 * clear message when fewer than the threshold, duplicates, or shares of
 * another vault are given. */
iotca_rc shares_combine(const char *const *files, size_t n_files, const char *vault_fp_hex, iotca_buf *secret);

/* Reads a passphrase: from file (first line) if given, else prompts twice
 * (confirm) or once on the terminal with echo off. */
iotca_rc secret_passphrase(const char *file, bool confirm, iotca_buf *out);
/* Set by --allow-readable-secrets: a passphrase or share file that group or others can read is used, with a
 * warning on stderr, instead of refused. */
extern bool secret_allow_readable;
/* Reads a file holding a secret (passphrase, share), refusing one group or others can reach unless
 * secret_allow_readable (iotca_file_read_secret). */
iotca_rc secret_file_read(const char *path, size_t max, iotca_buf *out);
/* Asks the operator to type "yes"; IOTCA_E_USAGE when not a terminal. */
iotca_rc secret_confirm(const char *question);

int cmd_init(const root_opts *o);
int cmd_sign_intermediate(const root_opts *o);
int cmd_cross_sign(const root_opts *o);
int cmd_revoke(const root_opts *o);
int cmd_crl(const root_opts *o);
int cmd_show(const root_opts *o);
int cmd_ledger_verify(const root_opts *o);

/* Prints "iotca-root: <detail>" for rc and returns the exit code. */
int report(iotca_rc rc);
/* Small formatting helpers for output and the ledger. */
void fmt_time(time_t t, char out[32]);
iotca_rc hex_of(iotca_slice s, iotca_buf *out);

#endif
