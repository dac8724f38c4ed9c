/* `iotcad audit verify|show`: the hash-chained audit trail checked, and printed (filtered by time, actor and
 * action) with the same check made while it is read, so what is shown is what verifies. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/timefmt.h"

static const char usage[] =
    "usage: iotcad audit verify --config FILE [--head HASH]\n"
    "       iotcad audit show --config FILE [--since TIME] [--until TIME] [--actor A] [--action X] [--json]\n"
    "       (TIME: RFC 3339, e.g. 2030-01-31T12:00:00Z, or a date; --action X matches X and X.*, X/*, X *)\n";

/* The command's usage error: its message (fmt with one %s) and the usage; exit status 2. */
#define usage_error(fmt, arg) cli_usage_error(usage, fmt, arg)

typedef struct audit_args {
    const char *config, *head, *since_s, *until_s, *actor, *action;
    time_t since, until;
    bool json;
} audit_args;

static int parse(int argc, char **argv, audit_args *a) {
    static const struct option opts[] = {{"config", required_argument, 0, 'c'}, {"head", required_argument, 0, 'H'},
                                         {"since", required_argument, 0, 's'},  {"until", required_argument, 0, 'u'},
                                         {"actor", required_argument, 0, 'a'},  {"action", required_argument, 0, 'x'},
                                         {"json", no_argument, 0, 'j'},         {"help", no_argument, 0, 'h'},
                                         {"allow-readable-secrets", no_argument, 0, 'A'},
                                         {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    opterr = 0;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': a->config = optarg; break;
        case 'H': a->head = optarg; break;
        case 's': a->since_s = optarg; break;
        case 'u': a->until_s = optarg; break;
        case 'a': a->actor = optarg; break;
        case 'x': a->action = optarg; break;
        case 'j': a->json = true; break;
        case 'A': cli_allow_readable_secrets = true; break;
        case 'h': fputs(usage, stdout); return -1;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

/* Recomputes the audit trail's hash chain; exit 1 when it was altered. */
static int verify(const config *c, const char *head) {
    roots r;
    iotca_ca *ca = NULL;
    iotca_rc rc = open_ca(c, &r, &ca);
    iotca_audit_check chk;
    if (rc == IOTCA_OK) rc = iotca_ca_audit_verify(ca, &chk);
    iotca_ca_close(ca);
    free_roots(&r);
    if (rc != IOTCA_OK) return cli_fail(rc);
    if (!chk.ok) {
        fprintf(stderr, "iotcad: audit trail verification FAILED: %s\n", chk.reason);
        return 1;
    }
    if (head && strcmp(head, chk.head) != 0) {
        fprintf(stderr, "iotcad: audit trail verification FAILED: head %s differs from the recorded %s "
                        "(records were removed from the end)\n", chk.head, head);
        return 1;
    }
    printf("audit trail ok: %lld records, head %s\n", (long long)chk.records, chk.head);
    return 0;
}

/* --action X matches the action X itself and the actions under it: X followed by '.', '/' or ' ' (so
 * "token" matches token.create and token.revoke, "POST /v1/certificates" every revocation under it). */
static bool action_matches(const char *want, const char *action) {
    size_t n = strlen(want);
    return strncmp(want, action, n) == 0 && (action[n] == 0 || action[n] == '.' || action[n] == '/' || action[n] == ' ');
}

typedef struct show_ctx {
    const audit_args *a;
    long long shown;
} show_ctx;

static void show_one(void *p, const iotca_audit_rec *r, const char *broken) {
    show_ctx *sc = p;
    const audit_args *a = sc->a;
    if ((a->since_s && r->at < a->since) || (a->until_s && r->at > a->until)) return;
    if (a->actor && strcmp(a->actor, r->actor) != 0) return;
    if (a->action && !action_matches(a->action, r->action)) return;
    char at[32];
    iotca_time_format(r->at, at);
    if (a->json) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "seq", (json_int_t)r->seq, "at", at,
                              "actor", r->actor, "action", r->action, "subject", r->subject, "request_id",
                              r->request_id, "outcome", r->outcome, "detail", r->detail, "verified", broken == NULL);
        char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (line) printf("%s%s", sc->shown ? ",\n  " : "\n  ", line);
        free(line);
        json_decref(o);
    } else {
        /* a record past the point where the chain breaks cannot be trusted: marked, never silently shown */
        printf("%s%-6lld %s  %-24s %-32s %-40s %-7s %-20s %s\n", broken ? "! " : "", (long long)r->seq, at, r->actor,
               r->action, r->subject, r->outcome, r->request_id, r->detail);
    }
    sc->shown++;
}

static int show(const audit_args *a, const config *c) {
    roots r;
    iotca_ca *ca = NULL;
    iotca_rc rc = open_ca(c, &r, &ca);
    iotca_audit_check chk;
    show_ctx sc = {a, 0};
    if (rc == IOTCA_OK && a->json) fputs("{\"records\": [", stdout);
    else if (rc == IOTCA_OK)
        printf("%-6s %-20s  %-24s %-32s %-40s %-7s %-20s %s\n", "SEQ", "TIME", "ACTOR", "ACTION", "SUBJECT",
               "OUTCOME", "REQUEST", "DETAIL");
    if (rc == IOTCA_OK) rc = iotca_ca_audit_show(ca, show_one, &sc, &chk);
    iotca_ca_close(ca);
    free_roots(&r);
    if (rc != IOTCA_OK) {
        if (a->json) fputs("]}\n", stdout);
        return cli_fail(rc);
    }
    if (a->json) {
        json_t *v = json_pack("{s:b, s:I, s:s, s:s?}", "ok", chk.ok, "records", (json_int_t)chk.records, "head",
                              chk.head, "broken", chk.ok ? NULL : chk.reason);
        char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        printf("\n],\n\"chain\": %s,\n\"shown\": %lld}\n", s ? s : "null", sc.shown);
        free(s);
        json_decref(v);
    }
    if (!chk.ok) {
        fprintf(stderr, "iotcad: audit trail verification FAILED: %s; records marked ! (\"verified\": false) "
                        "from there on cannot be trusted\n", chk.reason);
        return 1;
    }
    if (!a->json)
        printf("audit trail ok: %lld records verified, %lld shown, head %s\n", (long long)chk.records, sc.shown, chk.head);
    return 0;
}

/* The time of --since or --until; 0 on success, else the exit status. */
static int parse_time(const char *flag, const char *s, time_t *out) {
    if (s == NULL) return 0;
    iotca_rc rc = iotca_time_parse(s, out);
    if (rc == IOTCA_OK) return 0;
    fprintf(stderr, "iotcad: %s: %s\n", flag, iotca_error_detail());
    return 2;
}

int cmd_audit(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : "";
    bool is_verify = strcmp(sub, "verify") == 0, is_show = strcmp(sub, "show") == 0;
    if (!is_verify && !is_show) {
        fprintf(stderr, "iotcad: unknown command 'audit%s%.40s' (audit verify or show)\n%s",
                *sub == '-' || !*sub ? "" : " ", *sub == '-' ? "" : sub, usage);
        return 2;
    }
    audit_args a;
    int code = parse(argc - 1, argv + 1, &a);
    if (code) return code < 0 ? 0 : code;
    if (optind != argc - 1) return usage_error("unexpected argument '%s'", argv[1 + optind]);
    if (a.head && !is_verify) return usage_error("--head belongs to 'audit verify'%s", "");
    if ((a.since_s || a.until_s || a.actor || a.action || a.json) && !is_show)
        return usage_error("--since, --until, --actor, --action and --json belong to 'audit show'%s", "");
    if ((code = parse_time("--since", a.since_s, &a.since)) || (code = parse_time("--until", a.until_s, &a.until)))
        return code;
    if (a.since_s && a.until_s && a.since > a.until) return usage_error("--since %s is after --until", a.since_s);
    if ((a.actor && !*a.actor) || (a.action && !*a.action)) return usage_error("--actor and --action need a value%s", "");
    config c;
    if ((code = cli_config(a.config, usage, &c)) != 0) return code;
    code = is_verify ? verify(&c, a.head) : show(&a, &c);
    config_free(&c);
    return code;
}
