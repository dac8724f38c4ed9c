/* `iotcad est hash-secret`: the stored form of an EST profile's enrollment secret (est.profiles.P.secret_hash),
 * from a secret read from a file or standard input, or from one it makes and shows once (--generate). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "iotca/ca_est.h"
#include "iotca/key.h"
#include "iotca/file.h"

static const char usage[] = "usage: iotcad est hash-secret [--secret-file FILE | --generate]\n"
                            "  reads the secret from FILE (mode 0600) or one line of standard input, or makes one;\n"
                            "  prints the line for the config's est.profiles.P.secret_hash\n";

#define usage_error(fmt, arg) cli_usage_error(usage, fmt, arg)

/* One line of standard input, without its line ending. */
static iotca_rc read_stdin(iotca_buf *secret) {
    char line[1100];
    IOTCA_ENSURE(fgets(line, sizeof line, stdin) != NULL, IOTCA_E_USAGE, "no secret on standard input");
    size_t n = strcspn(line, "\r\n");
    iotca_rc rc = iotca_buf_append(secret, line, n);
    iotca_wipe(line, sizeof line);
    return rc;
}

int cmd_est(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "hash-secret") != 0)
        return usage_error("unknown command 'est %s'", argc < 2 ? "" : argv[1]);
    static const struct option opts[] = {{"secret-file", required_argument, 0, 'f'}, {"generate", no_argument, 0, 'g'},
                                         {"allow-readable-secrets", no_argument, 0, 'A'}, {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *file = NULL;
    bool generate = false;
    opterr = 0;
    optind = 1;
    int o;
    while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (o) {
        case 'f': file = optarg; break;
        case 'g': generate = true; break;
        case 'A': cli_allow_readable_secrets = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind]);
        }
    }
    if (optind != argc - 1) return usage_error("unexpected argument '%s'", argv[optind + 1]);
    if (file && generate) return usage_error("%s", "--secret-file and --generate do not go together");
    iotca_buf given = {.secret = true};
    iotca_rc rc = IOTCA_OK;
    if (generate) {
        uint8_t raw[16];
        rc = iotca_random(raw, sizeof raw);
        if (rc == IOTCA_OK) rc = iotca_hex_encode(raw, sizeof raw, &given);
        iotca_wipe(raw, sizeof raw);
    } else if (file) {
        bool loose = false;
        rc = iotca_file_read_secret(file, 1100, cli_allow_readable_secrets, &given, &loose);
        while (rc == IOTCA_OK && given.len && (given.data[given.len - 1] == '\n' || given.data[given.len - 1] == '\r'))
            given.len--;
    } else {
        rc = read_stdin(&given);
    }
    char hash[IOTCA_EST_HASH_MAX];
    if (rc == IOTCA_OK) rc = iotca_est_secret_hash(iotca_buf_slice(&given), IOTCA_EST_SECRET_ITERATIONS, hash);
    if (rc == IOTCA_OK) {
        /* a made secret is shown this once: only its hash goes into the config */
        if (generate) printf("secret: %.*s\n", (int)given.len, (const char *)given.data);
        printf("secret_hash: %s\n", hash);
    }
    iotca_buf_free(&given);
    return rc == IOTCA_OK ? 0 : cli_fail(rc);
}
