/* Passphrases and confirmations for the ceremony: no-echo terminal prompts or a passphrase file. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "iotca/file.h"
#include "root.h"

#define MIN_PASSPHRASE 12
#define MAX_PASSPHRASE 1024

/* The terminal, as separate read and write streams (C forbids switching
 * direction on one stream without repositioning, which a tty cannot do). */
typedef struct tty {
    FILE *in, *out;
} tty_t;

static bool tty_open(tty_t *t) {
    t->in = fopen("/dev/tty", "r");
    t->out = t->in ? fopen("/dev/tty", "w") : NULL;
    if (t->out == NULL && t->in) fclose(t->in);
    return t->out != NULL;
}

static void tty_close(tty_t *t) {
    fclose(t->in);
    fclose(t->out);
}

static iotca_rc prompt(const char *label, iotca_buf *out) {
    tty_t tty;
    IOTCA_ENSURE(tty_open(&tty), IOTCA_E_USAGE, "no terminal to ask for a passphrase; use --passphrase-file");
    struct termios old, quiet;
    int fd = fileno(tty.in);
    iotca_rc rc = IOTCA_OK;
    char line[MAX_PASSPHRASE + 2];
    IOTCA_CHECK(tcgetattr(fd, &old) == 0, IOTCA_E_USAGE, "cannot control the terminal");
    quiet = old;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    fprintf(tty.out, "%s: ", label);
    fflush(tty.out);
    tcsetattr(fd, TCSAFLUSH, &quiet);
    char *got = fgets(line, sizeof line, tty.in);
    tcsetattr(fd, TCSAFLUSH, &old);
    fprintf(tty.out, "\n");
    IOTCA_CHECK(got != NULL, IOTCA_E_USAGE, "no passphrase entered");
    line[strcspn(line, "\r\n")] = 0;
    IOTCA_TRY(iotca_buf_append_str(out, line));
out:
    iotca_wipe(line, sizeof line);
    tty_close(&tty);
    return rc;
}

bool secret_allow_readable;

iotca_rc secret_file_read(const char *path, size_t max, iotca_buf *out) {
    bool loose = false;
    IOTCA_GUARD(iotca_file_read_secret(path, max, secret_allow_readable, out, &loose));
    if (loose)
        fprintf(stderr, "iotca-root: warning: %s holds a secret and group or others can read it; used because of "
                IOTCA_ALLOW_READABLE_SECRETS ", chmod 600 it\n", path);
    return IOTCA_OK;
}

iotca_rc secret_passphrase(const char *file, bool confirm, iotca_buf *out) {
    out->secret = true;
    if (file) {
        iotca_buf raw = {.secret = true};
        iotca_rc rc = secret_file_read(file, MAX_PASSPHRASE, &raw);
        if (rc == IOTCA_OK) {
            size_t n = 0;
            while (n < raw.len && raw.data[n] != '\n' && raw.data[n] != '\r') n++;
            rc = iotca_buf_append(out, raw.data, n);
        }
        iotca_buf_free(&raw);
        IOTCA_GUARD(rc);
    } else {
        IOTCA_GUARD(prompt("Root key passphrase", out));
        if (confirm) {
            iotca_buf again = {.secret = true};
            iotca_rc rc = prompt("Repeat passphrase", &again);
            bool same = rc == IOTCA_OK && again.len == out->len && iotca_ct_equal(again.data, out->data, out->len);
            iotca_buf_free(&again);
            IOTCA_GUARD(rc);
            IOTCA_ENSURE(same, IOTCA_E_USAGE, "the passphrases do not match");
        }
    }
    IOTCA_ENSURE(out->len > 0, IOTCA_E_USAGE, "empty passphrase");
    if (confirm)
        IOTCA_ENSURE(out->len >= MIN_PASSPHRASE, IOTCA_E_USAGE, "passphrase must be at least %d characters",
                     MIN_PASSPHRASE);
    return IOTCA_OK;
}

iotca_rc secret_confirm(const char *question) {
    tty_t tty;
    IOTCA_ENSURE(tty_open(&tty), IOTCA_E_USAGE, "no terminal to confirm on; re-run with --yes to sign non-interactively");
    char line[16] = {0};
    fprintf(tty.out, "%s [type yes]: ", question);
    fflush(tty.out);
    char *got = fgets(line, sizeof line, tty.in);
    tty_close(&tty);
    IOTCA_ENSURE(got != NULL && strncmp(line, "yes", 3) == 0 && (line[3] == '\n' || line[3] == 0), IOTCA_E_USAGE,
                 "not confirmed; nothing was signed");
    return IOTCA_OK;
}
