/* Structured logging: one line, one JSON object, written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *const levels[] = {"info", "warn", "error"};
static int min_rank; /* atomically read and written: a config reload changes it while requests log */

bool log_level_parse(const char *name, int *rank) {
    for (int i = 0; i < (int)(sizeof levels / sizeof levels[0]); i++)
        if (name && strcmp(name, levels[i]) == 0) {
            *rank = i;
            return true;
        }
    return false;
}

void log_set_level(int rank) { __atomic_store_n(&min_rank, rank, __ATOMIC_RELAXED); }

void log_event(const char *level, const char *msg, json_t *extra) {
    int rank = 2; /* an unknown level name is never filtered out */
    if (log_level_parse(level, &rank) && rank < __atomic_load_n(&min_rank, __ATOMIC_RELAXED)) {
        json_decref(extra);
        return;
    }
    log_event_always(level, msg, extra);
}

void log_event_always(const char *level, const char *msg, json_t *extra) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    json_t *o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level, "msg", msg);
    if (extra) json_object_update(o, extra);
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (line) {
        size_t len = strlen(line);
        line[len] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
        ssize_t w = write(STDERR_FILENO, line, len + 1); /* one write: lines never interleave */
        (void)w;
        free(line);
    }
    json_decref(o);
    json_decref(extra);
}
