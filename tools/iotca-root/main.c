/* iotca-root: the offline root ceremony tool (SPEC §5). Parses the command line and dispatches. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/key.h"
#include "root.h"

static const char usage_text[] =
    "usage: iotca-root COMMAND --vault DIR [options]\n"
    "\n"
    "  init --name NAME [--org O] [--country CC] [--key ecdsa-p384|ecdsa-p256|rsa-3072|rsa-4096|ed25519]\n"
    "       [--years 25] [--shares N --threshold M] [--passphrase-file F]\n"
    "  sign-intermediate --csr FILE --out FILE [--days 1095] [--permit-dns NAME ...] [--permit-ip CIDR ...]\n"
    "       [--name-constraints critical|noncritical|none] [--eku server,client] [--crl-url URL]\n"
    "       [--ocsp-url URL] [--ca-issuers-url URL]\n"
    "  cross-sign --cert OTHER_ROOT.pem --out FILE [--days 1825]\n"
    "  revoke-intermediate --serial HEX [--reason superseded|keyCompromise|...]\n"
    "  crl --out FILE [--days 365]\n"
    "  ledger verify [--head HASH]\n"
    "  show [--json]\n"
    "  --version\n"
    "\n"
    "Unlocking the root key: --passphrase-file F, a no-echo prompt, or --share FILE (repeated) for vaults\n"
    "split among custodians (passphrase and share files must not be readable by group or others: chmod 600,\n"
    "or --allow-readable-secrets to use them anyway, with a warning). Signing asks for confirmation on the terminal; --yes skips it for scripts.\n"
    "--note TEXT adds an operator note to the ledger record.\n"
    "\n"
    "Root key on a PKCS#11 token (an HSM): init --pkcs11 MODULE (--token-label L | --token-serial S) makes the\n"
    "key there (sensitive, not extractable) and records the token, key id and public key in vault.json; later\n"
    "commands find it from that record (--pkcs11, --token-label or --token-serial override where the module or\n"
    "token moved). The token's PIN comes as the passphrase does (--passphrase-file F or a prompt); with\n"
    "--shares N --threshold M at init, the PIN is split among custodians and --share FILE gives it back.\n";

int report(iotca_rc rc) {
    if (rc == IOTCA_OK) return 0;
    fprintf(stderr, "iotca-root: %s\n", iotca_error_detail());
    switch (rc) {
    case IOTCA_E_USAGE: return 2;
    case IOTCA_E_PARSE: return 3;
    case IOTCA_E_CRYPTO: return 4;
    case IOTCA_E_STORAGE: return 5;
    case IOTCA_E_POLICY: return 6;
    case IOTCA_E_UNAVAILABLE: return 7;
    default: return 70;
    }
}

static iotca_rc parse_long(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    IOTCA_ENSURE(*s && *end == 0 && v >= lo && v <= hi, IOTCA_E_USAGE, "%s must be a whole number from %ld to %ld",
                 flag, lo, hi);
    *out = v;
    return IOTCA_OK;
}

enum {
    O_VAULT = 256, O_NAME, O_ORG, O_COUNTRY, O_KEY, O_YEARS, O_SHARES, O_THRESHOLD, O_PASSFILE, O_SHARE, O_CSR,
    O_OUT, O_DAYS, O_PERMIT_DNS, O_PERMIT_IP, O_NC, O_EKU, O_CRL_URL, O_OCSP_URL, O_CAI_URL, O_CERT, O_SERIAL,
    O_REASON, O_NOTE, O_YES, O_JSON, O_HEAD, O_HELP, O_ALLOW_READABLE, O_PKCS11, O_TOKEN_LABEL, O_TOKEN_SERIAL,
};

static const struct option longopts[] = {
    {"vault", required_argument, 0, O_VAULT},
    {"name", required_argument, 0, O_NAME},
    {"org", required_argument, 0, O_ORG},
    {"country", required_argument, 0, O_COUNTRY},
    {"key", required_argument, 0, O_KEY},
    {"years", required_argument, 0, O_YEARS},
    {"shares", required_argument, 0, O_SHARES},
    {"threshold", required_argument, 0, O_THRESHOLD},
    {"passphrase-file", required_argument, 0, O_PASSFILE},
    {"share", required_argument, 0, O_SHARE},
    {"csr", required_argument, 0, O_CSR},
    {"out", required_argument, 0, O_OUT},
    {"days", required_argument, 0, O_DAYS},
    {"permit-dns", required_argument, 0, O_PERMIT_DNS},
    {"permit-ip", required_argument, 0, O_PERMIT_IP},
    {"name-constraints", required_argument, 0, O_NC},
    {"eku", required_argument, 0, O_EKU},
    {"crl-url", required_argument, 0, O_CRL_URL},
    {"ocsp-url", required_argument, 0, O_OCSP_URL},
    {"ca-issuers-url", required_argument, 0, O_CAI_URL},
    {"cert", required_argument, 0, O_CERT},
    {"serial", required_argument, 0, O_SERIAL},
    {"reason", required_argument, 0, O_REASON},
    {"note", required_argument, 0, O_NOTE},
    {"yes", no_argument, 0, O_YES},
    {"json", no_argument, 0, O_JSON},
    {"head", required_argument, 0, O_HEAD},
    {"help", no_argument, 0, O_HELP},
    {"allow-readable-secrets", no_argument, 0, O_ALLOW_READABLE},
    {"pkcs11", required_argument, 0, O_PKCS11},
    {"token-label", required_argument, 0, O_TOKEN_LABEL},
    {"token-serial", required_argument, 0, O_TOKEN_SERIAL},
    {0, 0, 0, 0},
};

static iotca_rc parse_opts(int argc, char **argv, root_opts *o) {
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_VAULT: o->vault = optarg; break;
        case O_NAME: o->name = optarg; break;
        case O_ORG: o->org = optarg; break;
        case O_COUNTRY: o->country = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_YEARS: IOTCA_GUARD(parse_long("--years", optarg, 1, 50, &o->years)); break;
        case O_SHARES: IOTCA_GUARD(parse_long("--shares", optarg, 2, MAX_SHARES, &o->shares)); break;
        case O_THRESHOLD: IOTCA_GUARD(parse_long("--threshold", optarg, 2, MAX_SHARES, &o->threshold)); break;
        case O_PASSFILE: o->passphrase_file = optarg; break;
        case O_SHARE:
            IOTCA_ENSURE(o->n_share_files < MAX_SHARES, IOTCA_E_USAGE, "too many --share files");
            o->shares_file[o->n_share_files++] = optarg;
            break;
        case O_CSR: o->csr = optarg; break;
        case O_OUT: o->out = optarg; break;
        case O_DAYS: IOTCA_GUARD(parse_long("--days", optarg, 1, 36500, &o->days)); break;
        case O_PERMIT_DNS:
            IOTCA_ENSURE(o->n_permit_dns < MAX_LIST, IOTCA_E_USAGE, "too many --permit-dns");
            o->permit_dns[o->n_permit_dns++] = optarg;
            break;
        case O_PERMIT_IP:
            IOTCA_ENSURE(o->n_permit_ip < MAX_LIST, IOTCA_E_USAGE, "too many --permit-ip");
            o->permit_ip[o->n_permit_ip++] = optarg;
            break;
        case O_NC: o->name_constraints = optarg; break;
        case O_EKU: o->eku = optarg; break;
        case O_CRL_URL: o->crl_url = optarg; break;
        case O_OCSP_URL: o->ocsp_url = optarg; break;
        case O_CAI_URL: o->ca_issuers_url = optarg; break;
        case O_CERT: o->cert = optarg; break;
        case O_SERIAL: o->serial = optarg; break;
        case O_REASON: o->reason = optarg; break;
        case O_NOTE:
            IOTCA_ENSURE(strlen(optarg) <= 1000, IOTCA_E_USAGE, "--note is limited to 1000 characters");
            o->note = optarg;
            break;
        case O_YES: o->yes = true; break;
        case O_JSON: o->json = true; break;
        case O_HEAD: o->head = optarg; break;
        case O_HELP: fputs(usage_text, stdout); exit(0);
        case O_ALLOW_READABLE: secret_allow_readable = true; break;
        case O_PKCS11: o->pkcs11_module = optarg; break;
        case O_TOKEN_LABEL: o->token_label = optarg; break;
        case O_TOKEN_SERIAL: o->token_serial = optarg; break;
        default:
            IOTCA_BAIL(IOTCA_E_USAGE, "unknown or incomplete option '%s' (see iotca-root --help)",
                       argv[optind - 1] ? argv[optind - 1] : "?");
        }
    }
    IOTCA_ENSURE(optind == argc, IOTCA_E_USAGE, "unexpected argument '%s'", argv[optind]);
    return IOTCA_OK;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("iotca-root %s\n  crypto: %s\n  shares: libgfshare\n  json: Jansson %s\n", IOTCA_VERSION,
               iotca_crypto_version(), jansson_version_str());
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    int skip = 1;
    if (strcmp(cmd, "ledger") == 0) {
        if (argc < 3 || strcmp(argv[2], "verify") != 0) {
            fprintf(stderr, "iotca-root: usage: iotca-root ledger verify --vault DIR\n");
            return 2;
        }
        cmd = "ledger-verify";
        skip = 2;
    }
    root_opts o;
    memset(&o, 0, sizeof o);
    iotca_rc rc = parse_opts(argc - skip, argv + skip, &o);
    if (rc != IOTCA_OK) return report(rc);
    if (strcmp(cmd, "init") == 0) return cmd_init(&o);
    if (strcmp(cmd, "sign-intermediate") == 0) return cmd_sign_intermediate(&o);
    if (strcmp(cmd, "cross-sign") == 0) return cmd_cross_sign(&o);
    if (strcmp(cmd, "revoke-intermediate") == 0) return cmd_revoke(&o);
    if (strcmp(cmd, "crl") == 0) return cmd_crl(&o);
    if (strcmp(cmd, "ledger-verify") == 0) return cmd_ledger_verify(&o);
    if (strcmp(cmd, "show") == 0) return cmd_show(&o);
    fprintf(stderr, "iotca-root: unknown command '%s' (see iotca-root --help)\n", cmd);
    return 2;
}
