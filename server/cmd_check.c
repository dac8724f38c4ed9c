/* `iotcad check-config --config F`: everything iotcad checks before it serves, without serving -- the config
 * parsed and validated, the roots read, the key passphrase file readable by iotcad alone, the key directory,
 * the database present and at this iotcad's schema, the profiles valid, the TLS certificate and key readable.
 * The systemd unit runs it before a reload (ExecReload), so `systemctl reload` fails visibly on a bad file
 * instead of a SIGHUP the daemon refuses in its log. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "iotca/file.h"
#include "iotca/pem.h"

static const char usage[] = "usage: iotcad check-config --config FILE [--allow-readable-secrets]\n";

/* The PEM file path holds at least one block of type (or, type NULL, of a private key type). */
static iotca_rc pem_has(const char *path, const char *type, bool secret) {
    iotca_buf text = {.secret = secret}, der = {.secret = secret};
    iotca_rc rc = secret ? iotca_file_read_secret(path, 1 << 20, cli_allow_readable_secrets, &text, NULL)
                         : iotca_file_read(path, 1 << 20, &text);
    if (rc == IOTCA_OK) {
        iotca_slice in = iotca_buf_slice(&text);
        bool found = false;
        const char *kinds[] = {"PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"};
        for (size_t i = 0; i < (type ? 1 : 3) && !found; i++) {
            in = iotca_buf_slice(&text);
            found = iotca_pem_next(&in, type ? type : kinds[i], &der, NULL) == IOTCA_OK;
        }
        if (!found) rc = iotca_error_set(IOTCA_E_PARSE, "%s holds no PEM %s", path, type ? type : "private key");
    }
    iotca_buf_free(&der);
    iotca_buf_free(&text);
    return rc;
}

static iotca_rc check(const config *c) {
    struct stat st;
    IOTCA_GUARD(cli_check_key_dir(c));
    IOTCA_ENSURE(iotca_ca_database_is_pg(c->database) || stat(c->database, &st) == 0, IOTCA_E_USAGE,
                 "database %s: %s (iotcad init creates it)", c->database, strerror(errno));
    if (c->tls_cert) {
        IOTCA_GUARD(pem_has(c->tls_cert, "CERTIFICATE", false));
        IOTCA_GUARD(pem_has(c->tls_key, NULL, true));
    }
    /* the roots, the key passphrase (and its file's mode), the schema, the profiles: as at start-up */
    roots r;
    iotca_ca *ca = NULL;
    iotca_rc rc = open_ca(c, &r, &ca);
    iotca_ca_close(ca);
    free_roots(&r);
    return rc;
}

int cmd_check_config(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"allow-readable-secrets", no_argument, 0, 'A'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = NULL;
    opterr = 0;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': path = optarg; break;
        case 'A': cli_allow_readable_secrets = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fprintf(stderr, "iotcad: unknown or incomplete option '%s'\n%s", argv[optind - 1], usage); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "iotcad: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    if (path == NULL) {
        fprintf(stderr, "iotcad: --config FILE is required\n%s", usage);
        return 2;
    }
    config c;
    iotca_rc rc = config_load(path, &c);
    if (rc != IOTCA_OK) {
        fprintf(stderr, "iotcad: check-config %s: %s\n", path, iotca_error_detail());
        return 1;
    }
    rc = check(&c);
    char shown[1024];
    config_database_display(c.database, shown, sizeof shown);
    if (rc == IOTCA_OK)
        printf("config ok: %s: listen %s:%d (%s), %zu profile(s), %zu root file(s), database %s at schema %d\n",
               path, c.address, c.port, c.tls_cert ? "https" : "http", c.n_profiles, c.n_roots, shown,
               iotca_ca_schema_version());
    else
        fprintf(stderr, "iotcad: check-config %s: %s\n", path, iotca_error_detail());
    config_free(&c);
    return rc == IOTCA_OK ? 0 : 1;
}
