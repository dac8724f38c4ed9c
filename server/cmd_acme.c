/* `iotcad acme eab create|list|revoke`: the External Account Binding keys (RFC 8555 §7.3.4) an ACME client needs
 * to make an account under a profile: made and shown once at the CA host, listed without secrets, revoked; each
 * change audited with the operator's name. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/ca_acme.h"
#include "iotca/timefmt.h"

static const char usage[] = "usage: iotcad acme eab create --config FILE --profile P [--json]\n"
                            "       iotcad acme eab list --config FILE [--json]\n"
                            "       iotcad acme eab revoke --config FILE KID\n";

/* The command's usage error: its message (fmt with one %s) and the usage; exit status 2. */
#define usage_error(fmt, arg) cli_usage_error(usage, fmt, arg)

typedef struct eab_args {
    const char *config, *profile;
    bool json;
} eab_args;

static int parse(int argc, char **argv, eab_args *a) {
    static const struct option opts[] = {{"config", required_argument, 0, 'c'}, {"profile", required_argument, 0, 'p'},
                                         {"json", no_argument, 0, 'j'},         {"allow-readable-secrets", no_argument, 0, 'A'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    opterr = 0;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': a->config = optarg; break;
        case 'p': a->profile = optarg; break;
        case 'j': a->json = true; break;
        case 'A': cli_allow_readable_secrets = true; break;
        case 'h': fputs(usage, stdout); return -1;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

static iotca_rc create(const eab_args *a, const config *c, iotca_ca *ca, const char *actor) {
    iotca_acme_eab_key k;
    iotca_rc rc = iotca_ca_acme_eab_create(ca, a->profile, actor, &k);
    if (rc == IOTCA_OK && a->json) {
        json_t *doc = json_pack("{s:s, s:s, s:s}", "kid", k.kid, "hmac_key", k.hmac_key, "profile", k.profile);
        char *s = json_dumps(doc, JSON_COMPACT);
        if (s) puts(s);
        free(s);
        json_decref(doc);
    } else if (rc == IOTCA_OK) {
        /* the key is shown this once: only its hash stays (the CA makes it again from the kid when needed) */
        printf("kid: %s\nhmac_key: %s\nprofile: %s\n", k.kid, k.hmac_key, k.profile);
        printf("directory: %s/acme/%s/directory\n", c->base_url ? c->base_url : "<base_url>", k.profile);
        printf("certbot: --server %s/acme/%s/directory --eab-kid %s --eab-hmac-key=%s\n",
               c->base_url ? c->base_url : "<base_url>", k.profile, k.kid, k.hmac_key);
    }
    memset(&k, 0, sizeof k);
    return rc;
}

static iotca_rc list(const eab_args *a, iotca_ca *ca) {
    iotca_acme_eab_rec *keys = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_ca_acme_eab_list(ca, &keys, &n);
    json_t *arr = json_array();
    if (rc == IOTCA_OK && !a->json) printf("%-20s  %-24s  %-20s  %-20s  %s\n", "KID", "PROFILE", "CREATED", "REVOKED", "ACCOUNT");
    for (size_t i = 0; rc == IOTCA_OK && i < n; i++) {
        char created[32], revoked[32] = "-", account[24] = "unused";
        iotca_time_format(keys[i].created_at, created);
        if (keys[i].revoked_at) iotca_time_format(keys[i].revoked_at, revoked);
        if (keys[i].account_id) snprintf(account, sizeof account, "%lld", (long long)keys[i].account_id);
        if (a->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s?, s:I?}", "kid", keys[i].kid, "profile",
                                                 keys[i].profile, "created", created, "revoked",
                                                 keys[i].revoked_at ? revoked : NULL, "account",
                                                 (json_int_t)keys[i].account_id));
        else printf("%-20s  %-24s  %-20s  %-20s  %s\n", keys[i].kid, keys[i].profile, created, revoked, account);
    }
    if (rc == IOTCA_OK && a->json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
    }
    json_decref(arr);
    free(keys);
    return rc;
}

int cmd_acme(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "eab") != 0) return usage_error("%s", "acme needs a command: eab create|list|revoke");
    if (argc < 3) return usage_error("%s", "acme eab needs create, list or revoke");
    const char *sub = argv[2];
    if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0)
        return usage_error("unknown command 'acme eab %s'", sub);
    eab_args a;
    int st = parse(argc - 2, argv + 2, &a);
    if (st != 0) return st < 0 ? 0 : st;
    const char *kid = optind < argc - 2 ? argv[2 + optind] : NULL;
    bool want_kid = strcmp(sub, "revoke") == 0;
    if (want_kid != (kid != NULL) || (kid && optind + 1 != argc - 2))
        return usage_error("%s", want_kid ? "acme eab revoke takes one KID" : "unexpected argument");
    if (a.profile && strcmp(sub, "create") != 0) return usage_error("%s", "--profile belongs to 'acme eab create'");
    config c;
    int st2 = cli_config(a.config, usage, &c);
    if (st2 != 0) return st2;
    if (strcmp(sub, "create") == 0 && (a.profile == NULL || !config_acme_profile(&c, a.profile, NULL))) {
        config_free(&c);
        return usage_error("eab create needs --profile P, a profile with an ACME directory (the config's "
                           "acme.profiles), not '%s'", a.profile ? a.profile : "");
    }
    roots r;
    iotca_ca *ca = NULL;
    char actor[128];
    cli_actor(actor);
    iotca_rc rc = open_ca(&c, &r, &ca);
    if (rc == IOTCA_OK && strcmp(sub, "create") == 0) rc = create(&a, &c, ca, actor);
    else if (rc == IOTCA_OK && strcmp(sub, "list") == 0) rc = list(&a, ca);
    else if (rc == IOTCA_OK && (rc = iotca_ca_acme_eab_revoke(ca, kid, actor)) == IOTCA_OK) printf("revoked EAB key %s\n", kid);
    iotca_ca_close(ca);
    free_roots(&r);
    config_free(&c);
    return rc == IOTCA_OK ? 0 : cli_fail(rc);
}
