/* iotcad: the online CA daemon. `init` creates the database, `token` and `audit` are the operator's commands
 * (cmd_token.c, cmd_audit.c), and without a command it serves the REST API and runs the periodic tick until SIGINT/SIGTERM, re-reading its config on
 * SIGHUP. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "iotca/clock.h"
#include "iotca/debversion.h"
#include "iotca/file.h"
#include "iotca/pem.h"
#include "log.h"
#include "rehearsal/endpoints.h"

static const char usage[] =
    "usage: iotcad --config FILE                 run the CA\n"
    "       iotcad init --config FILE            create the database and key directory\n"
    "       iotcad check-config --config FILE    check everything start-up checks, without serving\n"
    "       iotcad --version\n"
    "       iotcad token create --config FILE --role admin|provisioner [--profiles a,b] [--expires 90d|TIME]\n"
    "       iotcad token list --config FILE [--json]\n"
    "       iotcad token revoke --config FILE ID\n"
    "       iotcad acme eab create --config FILE --profile P [--json] | list [--json] | revoke KID\n"
    "       iotcad est hash-secret [--secret-file FILE | --generate]\n"
    "       iotcad audit verify --config FILE [--head HASH]\n"
    "       iotcad audit show --config FILE [--since TIME] [--until TIME] [--actor A] [--action X] [--json]\n"
    "       iotcad db copy --from SQLITE_FILE --to CONNINFO [--json]\n"
    "The key passphrase file must not be readable by group or others (chmod 600); --allow-readable-secrets\n"
    "(with any command) reads it anyway, with a warning.\n";

static int fail(iotca_rc rc) {
    fprintf(stderr, "iotcad: %s\n", iotca_error_detail());
    return rc == IOTCA_E_USAGE ? 2 : 1;
}

static volatile sig_atomic_t stopping;

typedef struct ticker {
    iotca_ca *ca;
    unsigned interval;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} ticker;

/* The CA's tick reports each advance warning once per threshold it reaches (lib/ca/tick.c); the log line. */
static void log_warning(void *ctx, const iotca_warning *w) {
    (void)ctx;
    log_event("warn", "advance warning",
              json_pack("{s:s, s:i, s:I, s:s, s:s}", "kind", iotca_warning_kind_name(w->kind), "threshold_days",
                        w->threshold_days, "days_left", (json_int_t)w->days_left, "subject", w->subject, "detail",
                        w->message));
}

/* Runs the CA's tick (lib/ca/tick.c: every periodic duty) every tick_interval_s and logs what it did. */
static void *tick_loop(void *arg) {
    ticker *t = arg;
    /* Background work (pre-signing every new certificate's OCSP answer: up to 2,000 signatures a tick)
     * yields the CPU to requests. With a tick every 3 s under 8 issuing clients, wrk's p99 was 93-139 ms at
     * the default priority and 11-21 ms at nice 10. Nice 10 still gets its share of a contended CPU, so
     * the tick never stops; on Linux a thread's nice value is its own (setpriority on its thread id).
     * Failing to lower it changes nothing else. */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    iotca_ca_tick_thread(t->ca); /* this thread keeps the tick's lock among replicas (issue 25) */
    bool led = false;
    pthread_mutex_lock(&t->mu);
    while (!stopping) {
        /* monotonic: setting the wall clock back cannot hold the tick (and with it rotation) for that long */
        struct timespec until = iotca_mono_deadline_us((int64_t)t->interval * 1000000);
        pthread_cond_timedwait(&t->cv, &t->mu, &until);
        if (stopping) break;
        int changes = 0;
        iotca_rc rc = iotca_ca_tick(t->ca, time(NULL), &changes);
        if (rc != IOTCA_OK) log_event("error", "tick failed", json_pack("{s:s}", "detail", iotca_error_detail()));
        else if (changes) /* issuer transitions, CRLs made and OCSP answers signed */
            log_event("info", "tick made changes", json_pack("{s:i}", "changes", changes));
        bool leads = iotca_ca_tick_leader(t->ca);
        if (leads != led) /* replicas on PostgreSQL: which one runs activation, CRLs, OCSP answers, warnings */
            log_event("info", leads ? "tick lead taken" : "tick lead lost",
                      json_pack("{s:b}", "leader", leads));
        led = leads;
        release_idle_memory(t->ca); /* the tick signs in bursts a minute or more apart: keep no tables between */
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* Every client connection is a descriptor: raise the soft RLIMIT_NOFILE to the hard limit (no privilege
 * needed) and log both, so an operator can see how many connections the daemon can hold. */
static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        log_event("warn", "cannot read the file descriptor limit", json_pack("{s:s}", "detail", strerror(errno)));
        return;
    }
    rlim_t before = rl.rlim_cur;
    const char *detail = NULL;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (rlim_t)CONFIG_MAX_CONNECTIONS : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            detail = strerror(errno);
            rl.rlim_cur = before;
        }
    }
    json_t *f = json_pack("{s:I, s:I, s:I}", "soft_before", (json_int_t)before, "soft", (json_int_t)rl.rlim_cur,
                          "hard", rl.rlim_max == RLIM_INFINITY ? (json_int_t)-1 : (json_int_t)rl.rlim_max);
    if (detail) json_object_set_new(f, "detail", json_string(detail));
    log_event(detail ? "warn" : "info", "file descriptor limit", f);
}

/* Which wolfSSL runs, into the start-up log and /metrics; a warning when the SP build is older than Debian's
 * installed wolfSSL package (a security update it lacks). dpkg's status file: IOTCA_DPKG_STATUS, or Debian's. */
static void crypto_check(metrics *m) {
    iotca_crypto_info ci;
    iotca_ca_crypto_info(&ci);
    m->crypto_version = ci.version;
    m->crypto_sp = ci.sp;
    m->crypto_built_from = ci.built_from;
    m->crypto_package_newer = -1;
    char *installed = m->crypto_installed;
    _Static_assert(sizeof m->crypto_installed >= IOTCA_DEBVERSION_MAX, "room for a Debian version");
    if (ci.built_from) {
        const char *path = getenv("IOTCA_DPKG_STATUS") ? getenv("IOTCA_DPKG_STATUS") : "/var/lib/dpkg/status";
        iotca_buf status = {0};
        if (iotca_file_read(path, 64u << 20, &status) == IOTCA_OK &&
            iotca_dpkg_installed(iotca_buf_slice(&status), "libwolfssl", installed))
            m->crypto_package_newer = iotca_debversion_valid(ci.built_from) &&
                                      iotca_debversion_cmp(installed, ci.built_from) > 0;
        iotca_buf_free(&status);
    }
    json_t *f = json_pack("{s:s, s:s, s:b, s:s}", "library", ci.library, "version", ci.version, "sp", ci.sp,
                          "build", iotca_ca_crypto_version());
    if (ci.built_from) json_object_set_new(f, "built_from", json_string(ci.built_from));
    if (installed[0]) json_object_set_new(f, "debian_installed", json_string(installed));
    log_event("info", "crypto library", f);
    if (m->crypto_package_newer == 1)
        log_event("warn", "Debian's wolfSSL package is newer than the source of this SP build",
                  json_pack("{s:s, s:s, s:s}", "built_from", ci.built_from, "debian_installed", installed, "detail",
                            "its security fixes may be missing here; rebuild: bash deploy/wolfssl-sp.sh --rebuild, "
                            "then rebuild iotca (cmake --build BUILD_DIR) and restart iotcad"));
}

static int run(const char *path, config *loaded) {
    live lv;
    iotca_rc rc = live_init(&lv, path, loaded);
    if (rc != IOTCA_OK) return fail(rc);
    const config *c = live_current(&lv); /* what cannot change until a restart, read from it below */
    log_set_level(c->log_level);
    raise_fd_limit();
    roots r;
    iotca_ca *ca = NULL;
    rc = open_ca(c, &r, &ca);
    if (rc != IOTCA_OK) {
        free_roots(&r);
        live_free(&lv);
        return fail(rc);
    }
    iotca_ca_on_warning(ca, log_warning, NULL); /* before the first tick: it reports what is due already */
    if (c->rehearsal.on) rc = iotca_ca_rehearsal_configure(ca, &c->rehearsal.rc); /* the tick makes the leaves */
    int changes = 0;
    if (rc == IOTCA_OK) rc = iotca_ca_tick(ca, time(NULL), &changes);
    release_idle_memory(ca); /* what loading and the first tick built, the main thread never uses again */
    iotca_ca_store_return(ca);
    server s = {.cfg = &lv, .ca = ca};
    crypto_check(&s.m);
    if (rc == IOTCA_OK) rc = http_start(&s);
    rehearsal_endpoints *rh = NULL;
    if (rc == IOTCA_OK && c->rehearsal.on) rc = rehearsal_start(ca, c->rehearsal.address, c->rehearsal.base_port, &rh);
    if (rc != IOTCA_OK) {
        http_stop(&s); /* frees the TLS files read before a failed listen */
        iotca_ca_close(ca);
        free_roots(&r);
        live_free(&lv);
        return fail(rc);
    }
    if (r.n < 2)
        log_event("warn", "only one root configured",
                  json_pack("{s:s}", "detail", "devices must trust at least two independent roots (SPEC §1)"));
    log_event("info", "iotcad started",
              json_pack("{s:s, s:i, s:b, s:i, s:s, s:i, s:i, s:i, s:i, s:i}", "address", c->address, "port",
                        c->port, "tls", c->tls_cert != NULL, "profiles", (int)c->n_profiles, "poller", s.poller,
                        "max_connections", (int)s.max_connections, "threads", (int)s.n_serving, "workers",
                        (int)c->workers, "crypto_threads", (int)c->threads, "rate_limit_per_token_per_second",
                        (int)c->rate_per_s));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    ticker t = {.ca = ca, .interval = c->tick_s};
    pthread_mutex_init(&t.mu, NULL);
    iotca_cond_init_mono(&t.cv);
    pthread_t th;
    pthread_create(&th, NULL, tick_loop, &t);
    int sig;
    /* reloads run here, on the main thread, one at a time; requests keep the config they started with */
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        live_reload(&lv, ca, &s.m);
        iotca_ca_store_return(ca);
    }
    pthread_mutex_lock(&t.mu);
    stopping = 1;
    pthread_cond_signal(&t.cv);
    pthread_mutex_unlock(&t.mu);
    pthread_join(th, NULL);
    rehearsal_stop(rh);
    http_stop(&s);
    log_event("info", "iotcad stopped", json_pack("{s:i}", "signal", sig));
    iotca_ca_close(ca);
    free_roots(&r);
    live_free(&lv);
    return 0;
}

static int init(const config *c) {
    roots r; /* refuse a config whose roots cannot be read before creating anything */
    iotca_rc rrc = load_roots(c, &r);
    free_roots(&r);
    if (rrc != IOTCA_OK) return fail(rrc);
    iotca_buf pass = {.secret = true}; /* nor a key passphrase file iotcad would refuse to start with */
    rrc = cli_read_key_passphrase(c, &pass);
    iotca_buf_free(&pass);
    if (rrc != IOTCA_OK) return fail(rrc);
    if (mkdir(c->key_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "iotcad: cannot create %s: %s\n", c->key_dir, strerror(errno));
        return 1;
    }
    iotca_rc rc = iotca_ca_init_db(c->database);
    if (rc != IOTCA_OK) return fail(rc);
    char shown[1024];
    config_database_display(c->database, shown, sizeof shown);
    printf("database %s is at schema version %d\n", shown, iotca_ca_schema_version());
    return 0;
}

int main(int argc, char **argv) {
    /* block the stop and reload signals in every thread; the main thread waits for them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    const char *cmd = "run";
    int skip = 0;
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        cli_print_version();
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "init") == 0) cmd = "init", skip = 1;
    else if (argc > 1 && strcmp(argv[1], "check-config") == 0) return cmd_check_config(argc - 1, argv + 1);
    else if (argc > 1 && strcmp(argv[1], "token") == 0) return cmd_token(argc - 1, argv + 1);
    else if (argc > 1 && strcmp(argv[1], "audit") == 0) return cmd_audit(argc - 1, argv + 1);
    else if (argc > 1 && strcmp(argv[1], "db") == 0) return cmd_db(argc - 1, argv + 1);
    else if (argc > 1 && strcmp(argv[1], "acme") == 0) return cmd_acme(argc - 1, argv + 1);
    else if (argc > 1 && strcmp(argv[1], "est") == 0) return cmd_est(argc - 1, argv + 1);
    else if (argc > 1 && argv[1][0] != '-') {
        fprintf(stderr, "iotcad: unknown command '%s'\n%s", argv[1], usage);
        return 2;
    }
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"role", required_argument, 0, 'r'},
                                         {"profiles", required_argument, 0, 'p'},
                                         {"head", required_argument, 0, 'H'},
                                         {"allow-readable-secrets", no_argument, 0, 'A'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = NULL, *role = NULL, *profiles = NULL, *head = NULL;
    int o;
    opterr = 0;
    argc -= skip;
    argv += skip;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': path = optarg; break;
        case 'r': role = optarg; break;
        case 'p': profiles = optarg; break;
        case 'H': head = optarg; break;
        case 'A': cli_allow_readable_secrets = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fprintf(stderr, "iotcad: unknown or incomplete option '%s'\n%s", argv[optind - 1], usage); return 2;
        }
    }
    if (optind != argc || path == NULL) {
        fprintf(stderr, "iotcad: %s\n%s", path ? "unexpected argument" : "--config FILE is required", usage);
        return 2;
    }
    if (head) {
        fprintf(stderr, "iotcad: --head belongs to 'audit verify'\n");
        return 2;
    }
    if (role || profiles) {
        fprintf(stderr, "iotcad: --role and --profiles belong to 'token create'\n");
        return 2;
    }
    config c;
    iotca_rc rc = config_load(path, &c);
    if (rc != IOTCA_OK) return fail(rc);
    c.allow_readable_secrets = cli_allow_readable_secrets;
    int code = strcmp(cmd, "init") == 0 ? init(&c) : run(path, &c);
    config_free(&c);
    return code;
}
