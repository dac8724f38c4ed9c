/* What iotcad's commands share: opening the CA a config describes (its roots and key passphrase), the name
 * of the local operator for the audit trail, and the exit status of a failure. */
#ifndef IOTCAD_CLI_H
#define IOTCAD_CLI_H

#include "config.h"
#include "iotca/ca.h"

/* Roots and cross-certificates: each configured file may hold one or more PEM certificates. */
typedef struct roots {
    iotca_buf der[CONFIG_MAX_ROOTS];
    iotca_slice s[CONFIG_MAX_ROOTS];
    size_t n;
    iotca_buf xder[CONFIG_MAX_ROOTS];
    iotca_slice xs[CONFIG_MAX_ROOTS];
    size_t nx;
} roots;

/* Reads every configured root and cross-certificate file into *r (free with free_roots, also after a
 * failure). */
iotca_rc load_roots(const config *c, roots *r);
void free_roots(roots *r);
/* Set by --allow-readable-secrets (every command takes it): a key passphrase file group or others can reach is
 * read with a warning in the log instead of refused. */
extern bool cli_allow_readable_secrets;
/* Reads the key passphrase file into pass (a secret buffer; trailing line ends dropped), refusing one other users
 * can reach unless cli_allow_readable_secrets, and an empty one. */
iotca_rc cli_read_key_passphrase(const config *c, iotca_buf *pass);
/* The key directory exists, is a directory, and only its owner may enter it (unless
 * cli_allow_readable_secrets). IOTCA_E_USAGE naming what is wrong. */
iotca_rc cli_check_key_dir(const config *c);
/* Opens the CA of config c (after cli_check_key_dir): its roots into *r (free_roots after iotca_ca_close), the key passphrase read and
 * wiped, the crypto threads started. */
iotca_rc open_ca(const config *c, roots *r, iotca_ca **ca);

/* Prints "iotcad: " and fmt (with its one %s argument) and then the command's usage to stderr; returns 2. */
int cli_usage_error(const char *usage, const char *fmt, const char *arg);
/* Prints "iotcad: <detail>" to stderr; returns the exit status: 2 for a usage error, else 1. */
int cli_fail(iotca_rc rc);
/* The local operator as the audit trail names them: "local:<login name>" of the effective user
 * ("local:uid<N>" when it has no name), with " via sudo from <name>" when run under sudo. */
void cli_actor(char out[128]);
/* Loads the config named by path (NULL: prints that --config is required) for a command; 0 on success, else
 * the exit status. */
int cli_config(const char *path, const char *usage, config *c);

/* `iotcad token create|list|revoke` and `iotcad audit verify|show`: argv[0] is "token" or "audit". Return
 * the process's exit status. */
int cmd_token(int argc, char **argv);
/* `iotcad acme eab create|list|revoke` (cmd_acme.c): argv[0] is "acme". */
int cmd_acme(int argc, char **argv);
int cmd_est(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* `iotcad db copy` (cmd_db.c): argv[0] is "db". */
int cmd_db(int argc, char **argv);
/* `iotcad check-config`: argv[0] is "check-config". 0 when iotcad would start with the config, 1 when not,
 * 2 for a usage error of the command itself. */
int cmd_check_config(int argc, char **argv);
/* Prints "<tool> <version>" and the libraries it runs on (--version). */
void cli_print_version(void);

#endif
