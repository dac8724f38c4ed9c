/* seccomp-run: runs a program under a seccomp allow-list, the way systemd applies a unit's SystemCallFilter=
 * (tests/integration/test_systemd_unit.sh expands the shipped unit's filter with systemd-analyze and hands the
 * resulting system call names to this launcher).
 *
 *   seccomp-run --allow FILE [--errno N] -- PROGRAM [ARGS...]
 *
 * FILE holds one system call name a line. Every call not listed kills the process with SIGSYS (systemd's
 * action when the unit sets no SystemCallErrorNumber=), or fails with errno N when --errno is given. Names the
 * kernel's architecture does not know are skipped, as systemd skips them. Only the native architecture is
 * allowed (SystemCallArchitectures=native), and no-new-privileges is set, as seccomp requires. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void) {
    fprintf(stderr, "usage: seccomp-run --allow FILE [--errno N] -- PROGRAM [ARGS...]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *allow = NULL;
    long err = -1;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--allow") == 0 && i + 1 < argc) allow = argv[++i];
        else if (strcmp(argv[i], "--errno") == 0 && i + 1 < argc) {
            char *end = NULL;
            err = strtol(argv[++i], &end, 10);
            if (!end || *end || err <= 0 || err > 4095) return usage();
        } else return usage();
    }
    if (!allow || i + 1 >= argc) return usage();
    char **prog = &argv[i + 1];

    FILE *f = fopen(allow, "r");
    if (!f) {
        fprintf(stderr, "seccomp-run: %s: %s\n", allow, strerror(errno));
        return 2;
    }
    scmp_filter_ctx ctx = seccomp_init(err > 0 ? SCMP_ACT_ERRNO((unsigned)err) : SCMP_ACT_KILL_PROCESS);
    if (!ctx) {
        fclose(f);
        fprintf(stderr, "seccomp-run: seccomp_init failed\n");
        return 2;
    }
    char line[128];
    int allowed = 0, unknown = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, " \t\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        int nr = seccomp_syscall_resolve_name(line);
        if (nr == __NR_SCMP_ERROR) {
            unknown++;
            continue;
        }
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc < 0) { /* a pseudo-call number another architecture uses: skipped, as systemd does */
            unknown++;
            continue;
        }
        allowed++;
    }
    fclose(f);
    if (allowed == 0) {
        seccomp_release(ctx);
        fprintf(stderr, "seccomp-run: %s allows no system call\n", allow);
        return 2;
    }
    int rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0) {
        fprintf(stderr, "seccomp-run: seccomp_load: %s\n", strerror(-rc));
        return 2;
    }
    fprintf(stderr, "seccomp-run: %d system calls allowed (%d not on this architecture), default %s\n", allowed,
            unknown, err > 0 ? "errno" : "kill");
    execv(prog[0], prog);
    fprintf(stderr, "seccomp-run: %s: %s\n", prog[0], strerror(errno));
    return 127;
}
