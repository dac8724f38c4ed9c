/* iotca internals: the parsed command line, the REST client and the output helpers shared by the commands. */
#ifndef IOTCA_CLI_H
#define IOTCA_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "iotca/buf.h"
#include "iotca/key.h"
#include "iotca/result.h"
#include "iotca/x509.h"

/* Exit codes (documented in --help). */
enum {
    EXIT_OK = 0,
    EXIT_LOCAL = 1,   /* a local step failed after the server answered (writing a file) */
    EXIT_USAGE = 2,   /* bad or missing flags or input files; nothing was sent */
    EXIT_REFUSED = 3, /* the server refused the request (HTTP 4xx) */
    EXIT_SERVER = 4,  /* the server failed or could not be reached (5xx, network, TLS) */
    EXIT_FINDINGS = 5, /* lint found errors: the trust store would strand devices */
};

#define CLI_MAX_NAMES 32 /* IOTCA_SPEC_MAX_NAMES: the most SANs of a kind a certificate may carry */
#define CLI_MAX_ARGS 4

/* Every option iotca knows; a command lists the ones it accepts. */
typedef enum cli_opt {
    O_URL = 256, O_TOKEN, O_CACERT, O_JSON, O_HELP, O_PROFILE, O_CSR, O_KEY_OUT, O_CN, O_DNS, O_IP, O_URI,
    O_KEY_TYPE, O_TTL, O_OUT, O_CHAIN_OUT, O_REASON, O_STATUS, O_EXPIRING, O_LIMIT, O_ALL, O_CURSOR, O_GROUP,
    O_CSR_OUT, O_ACTIVATE_AT, O_TRUST_STORE, O_STACK, O_UNTIL, O_CHAIN, O_ENDPOINT, O_NAME,
    O_FORCE_JUSTIFICATION, O_FORMAT, O_ROOTS, O_MANIFEST_OUT, O_ACKNOWLEDGE,
    O_CERT, O_NEW_KEY, O_INCLUDE_REVOKED, /* cert renew; cert list */
    O_REFRESH_FROM, O_REENROLL_EVERY,     /* fleet check: devices refreshing their store from EST's cacerts */
    O_ISSUER, O_JUSTIFICATION,            /* cert bridge */
    O_TRUST_PROFILE, O_RESULT, O_NOTE,    /* rehearse report */
    O_END_,
} cli_opt;
#define OPT_BIT(o) (1ull << ((o) - O_URL))

/* The command line, parsed. Strings point into argv; unset ones are NULL. */
typedef struct cli {
    /* connection (flag, else environment) */
    const char *url, *token, *cacert;
    bool json;
    /* command options */
    const char *profile, *csr, *key_out, *cn, *key_type, *ttl, *out, *chain_out, *reason, *status, *expiring;
    const char *limit, *cursor, *group, *csr_out, *activate_at;
    const char *trust_store, *stack, *until, *endpoint, *name, *force_justification;
    const char *format, *roots, *manifest_out; /* bundle */
    const char *chains[CLI_MAX_NAMES]; /* --chain FILE[@DATE], repeatable */
    size_t n_chains;
    const char *acknowledge[CLI_MAX_NAMES]; /* --acknowledge CODE, repeatable (trust-profile add) */
    size_t n_acknowledge;
    const char *dns[CLI_MAX_NAMES], *ip[CLI_MAX_NAMES], *uri[CLI_MAX_NAMES];
    size_t n_dns, n_ip, n_uri;
    bool all;
    const char *cert, *new_key; /* cert renew: the certificate renewed as a file; the new key's file */
    bool include_revoked;       /* cert list --expiring: revoked ones too */
    const char *refresh_from, *reenroll_every; /* fleet check: a cacerts bundle (PEM) and the re-enrollment interval */
    const char *issuer, *justification;        /* cert bridge: the retiring issuer's id, and why */
    const char *trust_profile, *result, *note; /* rehearse report */
    /* positional arguments after the command words */
    const char *args[CLI_MAX_ARGS];
    size_t n_args;
    uint64_t seen; /* OPT_BIT of every option given */
} cli;

/* ---- commands (each returns an exit code and has printed its messages) ---- */
int cmd_cert_issue(cli *c);
int cmd_cert_bridge(cli *c);
int cmd_cert_show(cli *c);
int cmd_cert_revoke(cli *c);
int cmd_cert_list(cli *c);
int cmd_cert_renew(cli *c);
/* A serial as people paste it (any case, optional colons) in the server's form: 1-40 lower-case hex digits;
 * what names the argument in the message (cmd_cert.c). */
iotca_rc normalise_serial(const char *what, const char *in, char out[41]);
/* Shared by cert issue and cert renew (cmd_issue.c). issue_load_csr: a CSR file (PEM or DER, its signature
 * checked) as PEM, and its public key. issue_new_key_csr: makes a key of type kt, writes it to key_out (0600,
 * never overwriting; flag names it in messages) and builds its CSR for subject (DER Name) and names.
 * issue_answer_ok: the answer carries serial, certificate and chain, and the certificate is for spki (printed
 * otherwise). issue_write_outputs: writes --out and --chain-out (or stdout); an exit code. issue_summary: what
 * was issued or renewed, how long it is valid (and whether its issuer's end cut it short), where it went. */
iotca_rc issue_load_csr(const char *path, iotca_buf *pem, iotca_buf *spki);
iotca_rc issue_new_key_csr(const char *flag, const char *key_out, iotca_key_type kt, iotca_slice subject,
                           const iotca_names *names, iotca_buf *pem, iotca_buf *spki);
bool issue_answer_ok(const json_t *doc, const iotca_buf *spki);
int issue_write_outputs(const cli *c, const json_t *doc);
void issue_summary(const cli *c, const json_t *doc, const char *key_type);
int cmd_issuers_list(cli *c);
int cmd_issuers_new(cli *c);
int cmd_issuers_import(cli *c);
int cmd_issuers_csr(cli *c);
int cmd_issuers_abandon(cli *c);
int cmd_roots(cli *c);
int cmd_lint(cli *c);
/* Shared by lint and fleet check (cmd_lint.c): every certificate of a PEM
 * file (or one DER certificate) into der[] (at most max); a date
 * "2040-01-01" or "2040-01-01T00:00:00Z" (UTC). */
iotca_rc load_certs(const char *path, iotca_buf *der, size_t max, size_t *n);
iotca_rc parse_date(const char *s, time_t *out);
int cmd_fleet_check(cli *c);
int cmd_trust_profile_add(cli *c);
int cmd_trust_profile_list(cli *c);
int cmd_trust_profile_show(cli *c);
int cmd_trust_profile_replace(cli *c);
int cmd_trust_profile_delete(cli *c);
int cmd_acme_eab(cli *c); /* acme eab create|list|revoke (cmd_acme.c) */
int cmd_crl_show(cli *c);
/* iotca bundle (cmd_bundle.c): from the daemon, or offline with --roots FILE. */
int cmd_bundle(cli *c);
int cmd_rehearse_list(cli *c);   /* cmd_rehearse.c (issue 24) */
int cmd_rehearse_status(cli *c);
int cmd_rehearse_report(cli *c);

/* ---- the REST client (http_client.c) ---- */

/* Largest response body read from the server; bigger ones are a server failure. */
#define HTTP_MAX_RESPONSE ((size_t)4 << 20)

/* Prepares libcurl; once, from main. */
bool http_global_init(void);
/* libcurl's version at run time, e.g. "7.88.1" (for --version). */
const char *http_client_version(void);
void http_global_cleanup(void);

/* Checks the URL (http or https, a host, no query or fragment) and the token
 * (printable, one line) before anything is sent. IOTCA_E_USAGE otherwise;
 * the messages never contain the token. */
iotca_rc http_check_target(const cli *c);

/* Sends METHOD base-url+path with the token and, if body is non-NULL, that
 * JSON body. On a 2xx answer whose body is a JSON object, *out receives it
 * (caller decrefs) and EXIT_OK is returned. Otherwise the failure has been
 * printed ("iotca: <error>: <detail>" for a refusal; the URL, never the
 * token, for server and network failures) and EXIT_REFUSED or EXIT_SERVER is
 * returned. With --json the server's error document also goes to stdout. */
int http_json(const cli *c, const char *method, const char *path, const json_t *body, json_t **out);

/* Like http_json for an endpoint that answers with text (PEM); appends the
 * body to out as a C string. */
int http_text(const cli *c, const char *path, iotca_buf *out);

/* Appends "?name=value" (q empty) or "&name=value" to q, a buffer holding
 * only the query string, percent-encoding the value. */
iotca_rc http_query_add(iotca_buf *q, const char *name, const char *value);

/* ---- output (output.c) ---- */

/* Prints "iotca: <detail>" for a local failure and maps rc to an exit code:
 * mistakes in what the user gave (usage, parse, policy, file errors) are
 * EXIT_USAGE, anything else EXIT_LOCAL. */
int cli_report(iotca_rc rc);
/* Prints "iotca: " and the formatted message on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Pretty-prints doc (indent 2, keys in server order) on stdout. */
void out_json(const json_t *doc);

/* The string member key of o, or fallback when absent, null or not a string. */
const char *jstr(const json_t *o, const char *key, const char *fallback);
/* A scalar member (string or integer) of o as text in buf; fallback otherwise. */
const char *jscalar(const json_t *o, const char *key, char *buf, size_t n, const char *fallback);

/* Writes s to f with control characters (terminal escapes from a hostile
 * server) replaced by '?'. */
void out_safe(FILE *f, const char *s);
/* Prints "  Label:      value\n" (value made safe) on stdout. */
void out_field(const char *label, const char *value);

/* A simple text table: add rows of n columns, then print with aligned columns. */
#define TABLE_MAX_COLS 8
typedef struct table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, each a made-safe copy */
    size_t width[TABLE_MAX_COLS];
} table;
void table_init(table *t, size_t ncols, const char *const *headers);
void table_add(table *t, const char *const *row);
void table_print(const table *t, FILE *f);
void table_free(table *t);

/* Formats t as RFC 3339 UTC ("2030-01-31T00:00:00Z"). */
void fmt_time(time_t t, char out[32]);

/* Checks that path does not exist yet, so nothing is sent to the server
 * when the output could not be written. flag names the option in the
 * message. IOTCA_E_USAGE if it exists. */
iotca_rc out_path_free(const char *flag, const char *path);

#endif
