/* iotca: the client CLI of SPEC §8. Parses the command line, applies the environment, and dispatches. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iotca/key.h"

static const char usage_text[] =
    "usage: iotca [--url URL] [--token TOKEN] [--cacert FILE] [--json] COMMAND ...\n"
    "       iotca --version\n"
    "\n"
    "  cert issue --profile P (--csr FILE | --key-out FILE --cn NAME [--dns NAME]... [--ip ADDR]...\n"
    "             [--uri URI]... [--key-type ecdsa-p256]) [--ttl 30d] [--out FILE] [--chain-out FILE]\n"
    "  cert renew (SERIAL | --cert FILE) [--csr FILE | --new-key FILE [--key-type T]] [--ttl 30d] [--out FILE]\n"
    "             [--chain-out FILE]\n"
    "  cert bridge --profile P --issuer ID --justification TEXT (--csr FILE | --key-out FILE --cn NAME ...)\n"
    "             [--ttl 3d] [--out FILE] [--chain-out FILE]   (admin: a short-lived certificate from a retiring\n"
    "             issuer, for devices that pinned it; only for profiles with bridge_max_ttl)\n"
    "  cert show SERIAL [--out FILE]\n"
    "  cert revoke SERIAL [--reason keyCompromise|superseded|cessationOfOperation|...]\n"
    "  cert list [--profile P] [--status valid|revoked] [--expiring 30d [--include-revoked]] [--limit N]\n"
    "            [--cursor SERIAL] [--all]\n"
    "  issuers list\n"
    "  issuers new [--group G] [--cn NAME] [--csr-out FILE]\n"
    "  issuers import ID FILE [--activate-at 2030-01-31T00:00:00Z] [--force-justification TEXT]\n"
    "  issuers csr ID [--csr-out FILE]\n"
    "  issuers abandon ID\n"
    "  roots [--out FILE]\n"
    "  lint --trust-store FILE [--stack openssl|openssl102|mbedtls|wolfssl|bearssl|gnutls] [--until 2040-01-01]\n"
    "       [--chain SERVED_CHAIN.pem]   (offline; exit 5 when the store would strand devices)\n"
    "  fleet check --trust-store FILE --until 2040-01-01 [--stack S] [--chain FILE[@DATE]]...\n"
    "       each --chain is a chain served from DATE on (default: now); without --chain, the daemon's\n"
    "       own schedule is checked (POST /v1/fleet/check); --endpoint host:port checks the chain a live\n"
    "       TLS server sends. Exit 5 on the first date it breaks. --refresh-from CACERTS.pem --reenroll-every 90d:\n"
    "       devices that refresh their store from EST's cacerts when they re-enroll (against the daemon,\n"
    "       --reenroll-every alone: its own cacerts).\n"
    "  trust-profile add --name N --trust-store FILE --stack S --until DATE [--acknowledge CODE ...]\n"
    "  trust-profile list\n"
    "  trust-profile show NAME [--out FILE]\n"
    "  trust-profile replace NAME --trust-store FILE --stack S --until DATE [--acknowledge CODE ...]\n"
    "  trust-profile delete NAME\n"
    "  acme eab create --profile P | acme eab list | acme eab revoke KID   (EAB keys for ACME clients; admin)\n"
    "  rehearse list | rehearse status   (the rehearsal endpoints, and what devices said; provisioner)\n"
    "  rehearse report SCENARIO --trust-profile NAME --result ok|failed [--note TEXT]\n"
    "  crl show ISSUER [--out FILE]   (ISSUER: an issuer id, or root-N for an imported root CRL)\n"
    "  bundle --format F [--out FILE] [--manifest-out FILE] [--roots ROOTS.pem]\n"
    "\n"
    "Server and token: --url and --token, else the environment (IOTCA_URL, IOTCA_TOKEN); a flag wins.\n"
    "Prefer IOTCA_TOKEN: other users of the machine can read a --token flag in the process list.\n"
    "HTTPS peers are always verified; --cacert FILE names the CA bundle that signs the server's certificate.\n"
    "--json prints the server's JSON (pretty) on stdout for scripts, errors included.\n"
    "\n"
    "cert issue:\n"
    "  --csr FILE sends an existing request (PEM or DER). --key-out FILE instead makes a new key here\n"
    "  (ecdsa-p256 unless --key-type says ecdsa-p384, rsa-3072, rsa-4096 or ed25519), writes it as an\n"
    "  unencrypted PKCS#8 PEM file with mode 0600, and sends only the CSR built from --cn, --dns, --ip and\n"
    "  --uri; the key never leaves this machine. If no certificate comes back the new key file is removed.\n"
    "  The certificate output (--out FILE, else stdout) is the full chain: the leaf first, then the\n"
    "  intermediates a server must send (never the root). With --chain-out FILE it is the leaf alone and\n"
    "  the intermediates go to --chain-out. Output files are never overwritten: if one exists, nothing is\n"
    "  sent. --ttl takes seconds or 90d, 12h, 30m; without it the profile's default applies.\n"
    "cert renew:\n"
    "  Issues a successor of an issued certificate under its profile, with its subject and names, and\n"
    "  records it as renewing it. Without --csr or --new-key the certificate's own key is kept; --csr FILE\n"
    "  sends a request for a new key (it must ask for the same subject and names); --new-key FILE makes a\n"
    "  key here (the certificate's key type unless --key-type), writes it with mode 0600 and sends only\n"
    "  its CSR. --cert FILE names the certificate by its file instead of its serial. A revoked\n"
    "  certificate is not renewed. Output as for cert issue.\n"
    "cert list:\n"
    "  --expiring 30d lists certificates expiring within 30 days, revoked ones left out unless\n"
    "  --include-revoked. One page of --limit (default 100,\n"
    "  at most 1000) is printed; --all follows the pages to the end (--limit is then the page size).\n"
    "issuers import:\n"
    "  FILE is the certificate iotca-root sign-intermediate wrote for issuer ID's CSR; --activate-at\n"
    "  schedules its activation (RFC 3339 UTC or a date), otherwise it is due at once.\n"
    "issuers csr, abandon:\n"
    "  csr prints (or --csr-out FILE writes) the CSR of a pending issuer again, for the ceremony. abandon\n"
    "  gives up a pending issuer that will never be signed: its key is wiped on the daemon and it stays\n"
    "  listed as abandoned. Neither works once its certificate was imported.\n"
    "trust-profile:\n"
    "  Every rotation is checked against each registered profile (SPEC section 7). replace swaps a profile's\n"
    "  trust store, stack and end date (linted as add does: --acknowledge CODE for findings you accept);\n"
    "  delete removes one registered by mistake, so it no longer holds rotations back. Both are audited.\n"
    "  show prints each certificate of the store; --out FILE saves the store as PEM.\n"
    "crl show:\n"
    "  Fetches the CRL the daemon publishes at /crl/ISSUER.crl, checks an issuer's CRL against that\n"
    "  issuer's certificate, and prints its number, dates, issuer and every revoked serial with date\n"
    "  and reason (--json for scripts); --out FILE also saves the DER. Up to 4 MiB (about 85,000\n"
    "  entries); fetch larger CRLs with curl and read them with openssl crl.\n"
    "bundle:\n"
    "  The device trust bundle of every root (SPEC section 7). F: pem, pem0 (NUL-terminated, mbedTLS),\n"
    "  der (tar, one file per root), c (header for mbedTLS/wolfSSL), bearssl (TAs[] as brssl ta prints),\n"
    "  esp (ESP-IDF >= 5.4), esp-legacy (ESP-IDF <= 5.3), pins (SPKI SHA-256 per root, with expiry),\n"
    "  pins-json, manifest (JSON). Fetched from the public GET /v1/ca/bundle (no token needed), or with\n"
    "  --roots FILE built here from a PEM file of roots without any server: the same roots give the same\n"
    "  bytes. --manifest-out FILE also writes the bundle's manifest (fingerprints, notAfter, SHA-256 of\n"
    "  the bundle). Binary formats need --out or a redirect; files are never overwritten.\n"
    "rehearse:\n"
    "  list prints each rehearsal scenario the daemon serves (config: rehearsal) with host:port, what it\n"
    "  presents and what a correct device does with it: accept current, next and each upcoming change,\n"
    "  refuse the failures. Point a bench device with the fleet's trust store at each. report records what\n"
    "  it did for a registered trust profile (ok: the handshake completed); status prints the latest result\n"
    "  of each trust profile and scenario. A staged issuer can be held until profiles pass `next`.\n"
    "roots:\n"
    "  The trust anchors devices should hold, as PEM with a comment (subject, expiry, SPKI pin) per root.\n"
    "\n"
    "Exit codes: 0 done; 1 a local step failed after the server answered; 2 usage error (bad or missing\n"
    "flags or files; nothing was sent); 3 the server refused the request (4xx); 4 the server failed or\n"
    "could not be reached (5xx, network, TLS).\n";

static const struct option longopts[] = {
    {"url", required_argument, 0, O_URL},
    {"token", required_argument, 0, O_TOKEN},
    {"cacert", required_argument, 0, O_CACERT},
    {"json", no_argument, 0, O_JSON},
    {"help", no_argument, 0, O_HELP},
    {"profile", required_argument, 0, O_PROFILE},
    {"csr", required_argument, 0, O_CSR},
    {"key-out", required_argument, 0, O_KEY_OUT},
    {"cn", required_argument, 0, O_CN},
    {"dns", required_argument, 0, O_DNS},
    {"ip", required_argument, 0, O_IP},
    {"uri", required_argument, 0, O_URI},
    {"key-type", required_argument, 0, O_KEY_TYPE},
    {"ttl", required_argument, 0, O_TTL},
    {"out", required_argument, 0, O_OUT},
    {"chain-out", required_argument, 0, O_CHAIN_OUT},
    {"reason", required_argument, 0, O_REASON},
    {"status", required_argument, 0, O_STATUS},
    {"expiring", required_argument, 0, O_EXPIRING},
    {"limit", required_argument, 0, O_LIMIT},
    {"all", no_argument, 0, O_ALL},
    {"cursor", required_argument, 0, O_CURSOR},
    {"group", required_argument, 0, O_GROUP},
    {"csr-out", required_argument, 0, O_CSR_OUT},
    {"activate-at", required_argument, 0, O_ACTIVATE_AT},
    {"trust-store", required_argument, 0, O_TRUST_STORE},
    {"stack", required_argument, 0, O_STACK},
    {"until", required_argument, 0, O_UNTIL},
    {"chain", required_argument, 0, O_CHAIN},
    {"endpoint", required_argument, 0, O_ENDPOINT},
    {"name", required_argument, 0, O_NAME},
    {"force-justification", required_argument, 0, O_FORCE_JUSTIFICATION},
    {"format", required_argument, 0, O_FORMAT},
    {"roots", required_argument, 0, O_ROOTS},
    {"manifest-out", required_argument, 0, O_MANIFEST_OUT},
    {"acknowledge", required_argument, 0, O_ACKNOWLEDGE},
    {"cert", required_argument, 0, O_CERT},
    {"new-key", required_argument, 0, O_NEW_KEY},
    {"include-revoked", no_argument, 0, O_INCLUDE_REVOKED},
    {"refresh-from", required_argument, 0, O_REFRESH_FROM},
    {"reenroll-every", required_argument, 0, O_REENROLL_EVERY},
    {"issuer", required_argument, 0, O_ISSUER},
    {"justification", required_argument, 0, O_JUSTIFICATION},
    {"trust-profile", required_argument, 0, O_TRUST_PROFILE},
    {"result", required_argument, 0, O_RESULT},
    {"note", required_argument, 0, O_NOTE},
    {0, 0, 0, 0},
};

#define GLOBAL_OPTS (OPT_BIT(O_URL) | OPT_BIT(O_TOKEN) | OPT_BIT(O_CACERT) | OPT_BIT(O_JSON) | OPT_BIT(O_HELP))

/* A command: its words, the options it accepts besides the global ones, and its positional arguments. */
static const struct command {
    const char *word, *sub; /* sub NULL: a one-word command */
    uint64_t opts;
    size_t min_args, max_args;
    const char *args_usage;
    int (*fn)(cli *c);
} commands[] = {
    {"cert", "issue",
     OPT_BIT(O_PROFILE) | OPT_BIT(O_CSR) | OPT_BIT(O_KEY_OUT) | OPT_BIT(O_CN) | OPT_BIT(O_DNS) | OPT_BIT(O_IP) |
         OPT_BIT(O_URI) | OPT_BIT(O_KEY_TYPE) | OPT_BIT(O_TTL) | OPT_BIT(O_OUT) | OPT_BIT(O_CHAIN_OUT),
     0, 0, "", cmd_cert_issue},
    {"cert", "bridge",
     OPT_BIT(O_PROFILE) | OPT_BIT(O_ISSUER) | OPT_BIT(O_JUSTIFICATION) | OPT_BIT(O_CSR) | OPT_BIT(O_KEY_OUT) |
         OPT_BIT(O_CN) | OPT_BIT(O_DNS) | OPT_BIT(O_IP) | OPT_BIT(O_URI) | OPT_BIT(O_KEY_TYPE) | OPT_BIT(O_TTL) |
         OPT_BIT(O_OUT) | OPT_BIT(O_CHAIN_OUT),
     0, 0, "", cmd_cert_bridge},
    {"cert", "renew",
     OPT_BIT(O_CERT) | OPT_BIT(O_CSR) | OPT_BIT(O_NEW_KEY) | OPT_BIT(O_KEY_TYPE) | OPT_BIT(O_TTL) | OPT_BIT(O_OUT) |
         OPT_BIT(O_CHAIN_OUT),
     0, 1, " (SERIAL | --cert FILE)", cmd_cert_renew},
    {"cert", "show", OPT_BIT(O_OUT), 1, 1, " SERIAL", cmd_cert_show},
    {"cert", "revoke", OPT_BIT(O_REASON), 1, 1, " SERIAL", cmd_cert_revoke},
    {"cert", "list",
     OPT_BIT(O_PROFILE) | OPT_BIT(O_STATUS) | OPT_BIT(O_EXPIRING) | OPT_BIT(O_LIMIT) | OPT_BIT(O_ALL) |
         OPT_BIT(O_CURSOR) | OPT_BIT(O_INCLUDE_REVOKED),
     0, 0, "", cmd_cert_list},
    {"issuers", "list", 0, 0, 0, "", cmd_issuers_list},
    {"issuers", "new", OPT_BIT(O_GROUP) | OPT_BIT(O_CN) | OPT_BIT(O_CSR_OUT), 0, 0, "", cmd_issuers_new},
    {"issuers", "import", OPT_BIT(O_ACTIVATE_AT) | OPT_BIT(O_FORCE_JUSTIFICATION), 2, 2, " ID FILE", cmd_issuers_import},
    {"issuers", "csr", OPT_BIT(O_CSR_OUT), 1, 1, " ID", cmd_issuers_csr},
    {"issuers", "abandon", 0, 1, 1, " ID", cmd_issuers_abandon},
    {"roots", NULL, OPT_BIT(O_OUT), 0, 0, "", cmd_roots},
    {"lint", NULL, OPT_BIT(O_TRUST_STORE) | OPT_BIT(O_STACK) | OPT_BIT(O_UNTIL) | OPT_BIT(O_CHAIN), 0, 0, "", cmd_lint},
    {"fleet", "check", OPT_BIT(O_TRUST_STORE) | OPT_BIT(O_STACK) | OPT_BIT(O_UNTIL) | OPT_BIT(O_CHAIN) | OPT_BIT(O_ENDPOINT) |
                           OPT_BIT(O_REFRESH_FROM) | OPT_BIT(O_REENROLL_EVERY),
     0, 0, "", cmd_fleet_check},
    {"trust-profile", "add", OPT_BIT(O_NAME) | OPT_BIT(O_TRUST_STORE) | OPT_BIT(O_STACK) | OPT_BIT(O_UNTIL) | OPT_BIT(O_ACKNOWLEDGE), 0, 0, "",
     cmd_trust_profile_add},
    {"trust-profile", "list", 0, 0, 0, "", cmd_trust_profile_list},
    {"trust-profile", "show", OPT_BIT(O_OUT), 1, 1, " NAME", cmd_trust_profile_show},
    {"trust-profile", "replace", OPT_BIT(O_TRUST_STORE) | OPT_BIT(O_STACK) | OPT_BIT(O_UNTIL) | OPT_BIT(O_ACKNOWLEDGE), 1, 1,
     " NAME", cmd_trust_profile_replace},
    {"trust-profile", "delete", 0, 1, 1, " NAME", cmd_trust_profile_delete},
    {"crl", "show", OPT_BIT(O_OUT), 1, 1, " ISSUER", cmd_crl_show},
    {"acme", "eab", OPT_BIT(O_PROFILE), 1, 2, " create --profile P | list | revoke KID", cmd_acme_eab},
    {"rehearse", "list", 0, 0, 0, "", cmd_rehearse_list},
    {"rehearse", "status", 0, 0, 0, "", cmd_rehearse_status},
    {"rehearse", "report", OPT_BIT(O_TRUST_PROFILE) | OPT_BIT(O_RESULT) | OPT_BIT(O_NOTE), 1, 1, " SCENARIO",
     cmd_rehearse_report},
    {"bundle", NULL, OPT_BIT(O_FORMAT) | OPT_BIT(O_OUT) | OPT_BIT(O_ROOTS) | OPT_BIT(O_MANIFEST_OUT), 0, 0, "",
     cmd_bundle},
};

static const char *opt_name(int val) {
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == val) return o->name;
    return "?";
}

/* Stores a single-valued option, refusing it twice (a second --out is more likely a mistake than a wish). */
static iotca_rc set_once(int opt, const char **slot, const char *value) {
    IOTCA_ENSURE(*slot == NULL, IOTCA_E_USAGE, "--%s given more than once", opt_name(opt));
    IOTCA_ENSURE(*value != 0, IOTCA_E_USAGE, "--%s needs a non-empty value", opt_name(opt));
    *slot = value;
    return IOTCA_OK;
}

static iotca_rc add_list(int opt, const char **list, size_t *n, const char *value) {
    IOTCA_ENSURE(*n < CLI_MAX_NAMES, IOTCA_E_USAGE, "at most %d --%s", CLI_MAX_NAMES, opt_name(opt));
    IOTCA_ENSURE(*value != 0, IOTCA_E_USAGE, "--%s needs a non-empty value", opt_name(opt));
    list[(*n)++] = value;
    return IOTCA_OK;
}

/* Parses every option wherever it stands; the words left over (command, subcommand, arguments) go to words. */
static iotca_rc parse_opts(int argc, char **argv, cli *c, const char **words, size_t *n_words, bool *help) {
    int o;
    opterr = 0;
    while ((o = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (o == ':') IOTCA_BAIL(IOTCA_E_USAGE, "%s needs a value", argv[optind - 1]);
        if (o == '?' || o < O_URL || o >= O_END_)
            IOTCA_BAIL(IOTCA_E_USAGE, "unknown option '%s' (see iotca --help)", argv[optind - 1]);
        c->seen |= 1ull << (unsigned)(o - O_URL); /* O_URL <= o < O_END_ here */
        switch (o) {
        case O_URL: IOTCA_GUARD(set_once(o, &c->url, optarg)); break;
        case O_TOKEN: IOTCA_GUARD(set_once(o, &c->token, optarg)); break;
        case O_CACERT: IOTCA_GUARD(set_once(o, &c->cacert, optarg)); break;
        case O_JSON: c->json = true; break;
        case O_HELP: *help = true; break;
        case O_PROFILE: IOTCA_GUARD(set_once(o, &c->profile, optarg)); break;
        case O_CSR: IOTCA_GUARD(set_once(o, &c->csr, optarg)); break;
        case O_KEY_OUT: IOTCA_GUARD(set_once(o, &c->key_out, optarg)); break;
        case O_CN: IOTCA_GUARD(set_once(o, &c->cn, optarg)); break;
        case O_DNS: IOTCA_GUARD(add_list(o, c->dns, &c->n_dns, optarg)); break;
        case O_IP: IOTCA_GUARD(add_list(o, c->ip, &c->n_ip, optarg)); break;
        case O_URI: IOTCA_GUARD(add_list(o, c->uri, &c->n_uri, optarg)); break;
        case O_KEY_TYPE: IOTCA_GUARD(set_once(o, &c->key_type, optarg)); break;
        case O_TTL: IOTCA_GUARD(set_once(o, &c->ttl, optarg)); break;
        case O_OUT: IOTCA_GUARD(set_once(o, &c->out, optarg)); break;
        case O_CHAIN_OUT: IOTCA_GUARD(set_once(o, &c->chain_out, optarg)); break;
        case O_REASON: IOTCA_GUARD(set_once(o, &c->reason, optarg)); break;
        case O_STATUS: IOTCA_GUARD(set_once(o, &c->status, optarg)); break;
        case O_EXPIRING: IOTCA_GUARD(set_once(o, &c->expiring, optarg)); break;
        case O_LIMIT: IOTCA_GUARD(set_once(o, &c->limit, optarg)); break;
        case O_ALL: c->all = true; break;
        case O_CURSOR: IOTCA_GUARD(set_once(o, &c->cursor, optarg)); break;
        case O_GROUP: IOTCA_GUARD(set_once(o, &c->group, optarg)); break;
        case O_CSR_OUT: IOTCA_GUARD(set_once(o, &c->csr_out, optarg)); break;
        case O_ACTIVATE_AT: IOTCA_GUARD(set_once(o, &c->activate_at, optarg)); break;
        case O_TRUST_STORE: IOTCA_GUARD(set_once(o, &c->trust_store, optarg)); break;
        case O_STACK: IOTCA_GUARD(set_once(o, &c->stack, optarg)); break;
        case O_UNTIL: IOTCA_GUARD(set_once(o, &c->until, optarg)); break;
        case O_CHAIN: IOTCA_GUARD(add_list(o, c->chains, &c->n_chains, optarg)); break;
        case O_ENDPOINT: IOTCA_GUARD(set_once(o, &c->endpoint, optarg)); break;
        case O_NAME: IOTCA_GUARD(set_once(o, &c->name, optarg)); break;
        case O_FORCE_JUSTIFICATION: IOTCA_GUARD(set_once(o, &c->force_justification, optarg)); break;
        case O_FORMAT: IOTCA_GUARD(set_once(o, &c->format, optarg)); break;
        case O_ROOTS: IOTCA_GUARD(set_once(o, &c->roots, optarg)); break;
        case O_MANIFEST_OUT: IOTCA_GUARD(set_once(o, &c->manifest_out, optarg)); break;
        case O_ACKNOWLEDGE: IOTCA_GUARD(add_list(o, c->acknowledge, &c->n_acknowledge, optarg)); break;
        case O_CERT: IOTCA_GUARD(set_once(o, &c->cert, optarg)); break;
        case O_NEW_KEY: IOTCA_GUARD(set_once(o, &c->new_key, optarg)); break;
        case O_INCLUDE_REVOKED: c->include_revoked = true; break;
        case O_REFRESH_FROM: IOTCA_GUARD(set_once(o, &c->refresh_from, optarg)); break;
        case O_REENROLL_EVERY: IOTCA_GUARD(set_once(o, &c->reenroll_every, optarg)); break;
        case O_ISSUER: IOTCA_GUARD(set_once(o, &c->issuer, optarg)); break;
        case O_JUSTIFICATION: IOTCA_GUARD(set_once(o, &c->justification, optarg)); break;
        case O_TRUST_PROFILE: IOTCA_GUARD(set_once(o, &c->trust_profile, optarg)); break;
        case O_RESULT: IOTCA_GUARD(set_once(o, &c->result, optarg)); break;
        case O_NOTE: IOTCA_GUARD(set_once(o, &c->note, optarg)); break;
        default: IOTCA_BAIL(IOTCA_E_USAGE, "unknown option '%s' (see iotca --help)", argv[optind - 1]);
        }
    }
    for (int i = optind; i < argc; i++) {
        IOTCA_ENSURE(*n_words < CLI_MAX_ARGS + 2, IOTCA_E_USAGE, "unexpected argument '%s'", argv[i]);
        words[(*n_words)++] = argv[i];
    }
    return IOTCA_OK;
}

/* Finds the command the words name; *used says how many words it took. */
static iotca_rc find_command(const char *const *words, size_t n, const struct command **out, size_t *used) {
    IOTCA_ENSURE(n > 0, IOTCA_E_USAGE, "no command given (see iotca --help)");
    bool known_word = false;
    const char *sub = n > 1 ? words[1] : NULL;
    /* `iotca issuers` alone lists them (SPEC §8: issuers [list|new|import]) */
    if (strcmp(words[0], "issuers") == 0 && sub == NULL) sub = "list";
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].word, words[0]) != 0) continue;
        known_word = true;
        if (commands[i].sub == NULL) {
            *out = &commands[i];
            *used = 1;
            return IOTCA_OK;
        }
        if (sub && strcmp(commands[i].sub, sub) == 0) {
            *out = &commands[i];
            *used = n > 1 ? 2 : 1;
            return IOTCA_OK;
        }
    }
    IOTCA_ENSURE(known_word, IOTCA_E_USAGE, "unknown command '%s' (see iotca --help)", words[0]);
    if (sub == NULL) IOTCA_BAIL(IOTCA_E_USAGE, "'%s' needs a subcommand (see iotca --help)", words[0]);
    IOTCA_BAIL(IOTCA_E_USAGE, "unknown command '%s %s' (see iotca --help)", words[0], sub);
}

/* Refuses options the command does not take, and a wrong number of arguments. */
static iotca_rc check_command(const struct command *cmd, cli *c, const char *const *rest, size_t n_rest) {
    char name[64];
    snprintf(name, sizeof name, "%s%s%s", cmd->word, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "");
    uint64_t extra = c->seen & ~(cmd->opts | GLOBAL_OPTS);
    for (int o = O_URL; o < O_END_; o++)
        IOTCA_ENSURE(!(extra & OPT_BIT(o)), IOTCA_E_USAGE, "'%s' does not take --%s (see iotca --help)", name,
                     opt_name(o));
    IOTCA_ENSURE(n_rest >= cmd->min_args && n_rest <= cmd->max_args, IOTCA_E_USAGE,
                 n_rest > cmd->max_args ? "unexpected argument '%s': usage: iotca %s%s"
                                        : "missing argument%.0s: usage: iotca %s%s",
                 n_rest > cmd->max_args ? rest[cmd->max_args] : "", name, cmd->args_usage);
    for (size_t i = 0; i < n_rest; i++) c->args[c->n_args++] = rest[i];
    return IOTCA_OK;
}

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("iotca %s\n  crypto: %s\n  http client: libcurl %s\n  json: Jansson %s\n", IOTCA_VERSION,
               iotca_crypto_version(), http_client_version(), jansson_version_str());
        return EXIT_OK;
    }
    cli c;
    memset(&c, 0, sizeof c);
    const char *words[CLI_MAX_ARGS + 2];
    size_t n_words = 0, used = 0;
    bool help = false;
    const struct command *cmd = NULL;
    iotca_rc rc = parse_opts(argc, argv, &c, words, &n_words, &help);
    if (rc == IOTCA_OK && (help || (n_words > 0 && strcmp(words[0], "help") == 0))) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (rc == IOTCA_OK && n_words == 0) {
        fputs(usage_text, stderr);
        fputc('\n', stderr);
    }
    if (rc == IOTCA_OK) rc = find_command(words, n_words, &cmd, &used);
    if (rc == IOTCA_OK) rc = check_command(cmd, &c, words + used, n_words - used);
    if (rc != IOTCA_OK) return cli_report(rc);
    if (c.url == NULL) c.url = env("IOTCA_URL");
    if (c.token == NULL) c.token = env("IOTCA_TOKEN");
    if (!http_global_init()) {
        cli_err("cannot initialise libcurl");
        return EXIT_LOCAL;
    }
    int code = cmd->fn(&c);
    http_global_cleanup();
    fflush(stdout);
    if (ferror(stdout)) {
        cli_err("writing to standard output failed");
        if (code == EXIT_OK) code = EXIT_LOCAL;
    }
    return code;
}
