/* `iotcad token create|list|revoke`: API tokens made, shown (never a secret or its hash) and revoked by the
 * operator at the CA host; creation and revocation are audited with the operator's name. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/timefmt.h"

static const char usage[] =
    "usage: iotcad token create --config FILE --role admin|provisioner [--profiles a,b] [--expires 90d|TIME]\n"
    "       iotcad token list --config FILE [--json]\n"
    "       iotcad token revoke --config FILE ID\n";

/* The command's usage error: its message (fmt with one %s) and the usage; exit status 2. */
#define usage_error(fmt, arg) cli_usage_error(usage, fmt, arg)

typedef struct token_args {
    const char *config, *role, *profiles, *expires;
    bool json;
} token_args;

/* Parses the flags every token command may take; which belong to which is checked by the command. */
static int parse(int argc, char **argv, token_args *a) {
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"role", required_argument, 0, 'r'},
                                         {"profiles", required_argument, 0, 'p'},
                                         {"expires", required_argument, 0, 'e'},
                                         {"json", no_argument, 0, 'j'},
                                         {"allow-readable-secrets", no_argument, 0, 'A'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    opterr = 0;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': a->config = optarg; break;
        case 'r': a->role = optarg; break;
        case 'p': a->profiles = optarg; break;
        case 'e': a->expires = optarg; break;
        case 'j': a->json = true; break;
        case 'A': cli_allow_readable_secrets = true; break;
        case 'h': fputs(usage, stdout); return -1;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

static int create(const token_args *a, const config *c) {
    iotca_role role = IOTCA_ROLE_NONE;
    if (a->role && strcmp(a->role, "admin") == 0) role = IOTCA_ROLE_ADMIN;
    else if (a->role && strcmp(a->role, "provisioner") == 0) role = IOTCA_ROLE_PROVISIONER;
    else return cli_fail(iotca_error_set(IOTCA_E_USAGE, "--role must be admin or provisioner"));
    time_t expires = 0;
    if (a->expires) {
        iotca_rc rc = iotca_ca_token_expiry_parse(a->expires, time(NULL), &expires);
        if (rc != IOTCA_OK) return cli_fail(rc);
    }
    roots r;
    iotca_ca *ca = NULL;
    iotca_rc rc = open_ca(c, &r, &ca);
    iotca_buf tok = {.secret = true};
    char actor[128];
    cli_actor(actor);
    if (rc == IOTCA_OK) rc = iotca_ca_token_create(ca, role, a->profiles, expires, actor, &tok);
    if (rc == IOTCA_OK) printf("%.*s\n", (int)tok.len, (const char *)tok.data);
    iotca_buf_free(&tok);
    iotca_ca_close(ca);
    free_roots(&r);
    return rc == IOTCA_OK ? 0 : cli_fail(rc);
}

static const char *status_of(const iotca_token_info *t, time_t now) {
    return t->revoked_at ? "revoked" : t->expires_at && t->expires_at <= now ? "expired" : "active";
}

static json_t *time_or_null(time_t t) {
    char s[32];
    if (t == 0) return json_null();
    iotca_time_format(t, s);
    return json_string(s);
}

static void print_json(const iotca_token_info *list, size_t n, time_t now) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const iotca_token_info *t = &list[i];
        json_t *profiles = json_array();
        char copy[sizeof t->profiles], *save = NULL;
        snprintf(copy, sizeof copy, "%s", t->profiles);
        for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
            json_array_append_new(profiles, json_string(p));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "id", t->id, "role", t->role,
                                             "profiles", profiles, "created", time_or_null(t->created_at),
                                             "last_used", time_or_null(t->last_used_at), "expires",
                                             time_or_null(t->expires_at), "revoked", time_or_null(t->revoked_at),
                                             "status", status_of(t, now)));
    }
    char *s = json_dumps(arr, JSON_INDENT(2));
    if (s) puts(s);
    free(s);
    json_decref(arr);
}

static void print_text(const iotca_token_info *list, size_t n, time_t now) {
    printf("%-16s  %-11s  %-20s  %-20s  %-20s  %-7s  %s\n", "ID", "ROLE", "CREATED", "LAST USED", "EXPIRES",
           "STATUS", "PROFILES");
    for (size_t i = 0; i < n; i++) {
        const iotca_token_info *t = &list[i];
        char created[32], used[32] = "never", expires[32] = "never";
        iotca_time_format(t->created_at, created);
        if (t->last_used_at) iotca_time_format(t->last_used_at, used);
        if (t->expires_at) iotca_time_format(t->expires_at, expires);
        printf("%-16s  %-11s  %-20s  %-20s  %-20s  %-7s  %s\n", t->id, t->role, created, used, expires,
               status_of(t, now), t->profiles[0] ? t->profiles : "(all)");
    }
}

static int list(const token_args *a, const config *c) {
    roots r;
    iotca_ca *ca = NULL;
    iotca_rc rc = open_ca(c, &r, &ca);
    iotca_token_info *tokens = NULL;
    size_t n = 0;
    if (rc == IOTCA_OK) rc = iotca_ca_token_list(ca, &tokens, &n);
    if (rc == IOTCA_OK && a->json) print_json(tokens, n, time(NULL));
    else if (rc == IOTCA_OK) print_text(tokens, n, time(NULL));
    free(tokens);
    iotca_ca_close(ca);
    free_roots(&r);
    return rc == IOTCA_OK ? 0 : cli_fail(rc);
}

/* ID: the token's public id; a whole token ("iotca_<id>_<secret>", as leaked) names its id too. */
static int revoke(const char *arg, const config *c) {
    char id[17] = "";
    size_t n = strlen(arg);
    if (strncmp(arg, "iotca_", 6) == 0 && n > 6 + 16 && arg[6 + 16] == '_') snprintf(id, sizeof id, "%.16s", arg + 6);
    else if (n == 16) snprintf(id, sizeof id, "%s", arg);
    if (id[0] == 0 || strspn(id, "0123456789abcdef") != 16)
        return usage_error("'%.40s' is not a token id (16 lowercase hex digits, as `iotcad token list` shows)", arg);
    roots r;
    iotca_ca *ca = NULL;
    iotca_rc rc = open_ca(c, &r, &ca);
    char actor[128];
    cli_actor(actor);
    time_t at = 0;
    if (rc == IOTCA_OK) rc = iotca_ca_token_revoke(ca, id, actor, &at);
    iotca_ca_close(ca);
    free_roots(&r);
    if (rc != IOTCA_OK) {
        fprintf(stderr, "iotcad: %s\n", iotca_error_detail());
        return 1; /* a well-formed id that names no token, or one already revoked: not a usage error */
    }
    char when[32];
    iotca_time_format(at, when);
    printf("token %s revoked at %s; every iotcad on this database refuses it from its next request\n", id, when);
    return 0;
}

int cmd_token(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : "";
    bool is_create = strcmp(sub, "create") == 0, is_list = strcmp(sub, "list") == 0,
         is_revoke = strcmp(sub, "revoke") == 0;
    if (!is_create && !is_list && !is_revoke) {
        fprintf(stderr, "iotcad: unknown command 'token%s%.40s' (token create, list or revoke)\n%s",
                *sub == '-' || !*sub ? "" : " ", *sub == '-' ? "" : sub, usage);
        return 2;
    }
    token_args a;
    int code = parse(argc - 1, argv + 1, &a);
    if (code) return code < 0 ? 0 : code;
    int rest = argc - 1 - optind; /* positional arguments after the subcommand's flags */
    if ((a.role || a.profiles || a.expires) && !is_create)
        return usage_error("--role, --profiles and --expires belong to 'token create'%s", "");
    if (a.json && !is_list) return usage_error("--json belongs to 'token list'%s", "");
    if (is_revoke && rest != 1) return usage_error("token revoke takes exactly one token ID%s", "");
    if (!is_revoke && rest != 0) return usage_error("unexpected argument '%s'", argv[1 + optind]);
    config c;
    if ((code = cli_config(a.config, usage, &c)) != 0) return code;
    code = is_create ? create(&a, &c) : is_list ? list(&a, &c) : revoke(argv[1 + optind], &c);
    config_free(&c);
    return code;
}
