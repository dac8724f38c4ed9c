/* `iotcad db copy`: a SQLite deployment's database moved to PostgreSQL (issue 25): every row of every table copied
 * into an empty PostgreSQL database in one transaction, counted on both sides, and printed table by table. The
 * conninfo is never printed: a URL or its words may hold a password. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iotca/ca_db_copy.h"

static const char usage[] =
    "usage: iotcad db copy --from SQLITE_FILE --to CONNINFO [--json]\n"
    "       (CONNINFO: postgresql://USER@HOST:PORT/DB or libpq's words, e.g. 'host=H dbname=D user=U'; the target\n"
    "       must be empty; stop iotcad first, or what it writes after the copy starts stays behind)\n";

/* The command's usage error: its message (fmt with one %s) and the usage; exit status 2. */
#define usage_error(fmt, arg) cli_usage_error(usage, fmt, arg)

typedef struct db_args {
    const char *from, *to;
    bool json;
} db_args;

static int parse(int argc, char **argv, db_args *a) {
    static const struct option opts[] = {{"from", required_argument, 0, 'f'},
                                         {"to", required_argument, 0, 't'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    opterr = 0;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'f': a->from = optarg; break;
        case 't': a->to = optarg; break;
        case 'j': a->json = true; break;
        case 'h': fputs(usage, stdout); return -1;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

static void print_text(const char *from, const iotca_db_copy_report *r) {
    printf("%-24s %12s\n", "TABLE", "ROWS");
    for (size_t i = 0; i < r->n; i++) printf("%-24s %12lld\n", r->table[i].name, (long long)r->table[i].rows);
    printf("%-24s %12lld\n", "total", (long long)r->rows);
    printf("copied %s into PostgreSQL: %zu tables, %lld rows, the same counts on both sides; %d identity sequences "
           "moved past the copied rows\n",
           from, r->n, (long long)r->rows, r->sequences);
}

static int print_json(const char *from, const iotca_db_copy_report *r) {
    json_t *tables = json_array();
    for (size_t i = 0; tables && i < r->n; i++)
        json_array_append_new(tables,
                              json_pack("{s:s, s:I}", "table", r->table[i].name, "rows", (json_int_t)r->table[i].rows));
    json_t *o = json_pack("{s:s, s:o, s:I, s:i}", "from", from, "tables", tables, "rows", (json_int_t)r->rows,
                          "sequences", r->sequences);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (text == NULL) {
        fprintf(stderr, "iotcad: out of memory writing the report (the copy was committed)\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

int cmd_db(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "copy") != 0) {
        fprintf(stderr, "iotcad: unknown command 'db%s%.40s' (db copy)\n%s", *sub == '-' || !*sub ? "" : " ",
                *sub == '-' ? "" : sub, usage);
        return 2;
    }
    db_args a;
    int code = parse(argc - 1, argv + 1, &a);
    if (code) return code < 0 ? 0 : code;
    if (optind != argc - 1) return usage_error("unexpected argument '%s'", argv[1 + optind]);
    if (a.from == NULL || a.to == NULL)
        return usage_error("%s is required", a.from ? "--to CONNINFO" : "--from SQLITE_FILE");
    if (!*a.from || !*a.to) return usage_error("--from and --to need a value%s", "");
    iotca_db_copy_report r;
    iotca_rc rc = iotca_ca_db_copy(a.from, a.to, &r);
    /* a --from or --to of the wrong kind: the detail, then how the command is used */
    if (rc == IOTCA_E_USAGE) return usage_error("%s", iotca_error_detail());
    if (rc != IOTCA_OK) return cli_fail(rc);
    if (a.json) return print_json(a.from, &r);
    print_text(a.from, &r);
    return 0;
}
