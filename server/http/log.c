/* Structured logging: one line, one JSON object, written atomically. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iotca/file.h"
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

bool log_enabled(const char *level) {
    int rank = 2; /* an unknown level name is never filtered out */
    return !(log_level_parse(level, &rank) && rank < __atomic_load_n(&min_rank, __ATOMIC_RELAXED));
}

void log_event(const char *level, const char *msg, json_t *extra) {
    if (!log_enabled(level)) {
        json_decref(extra);
        return;
    }
    log_event_always(level, msg, extra);
}

_Static_assert(LOG_LINE_MAX <= LOG_HOLD_MAX, "a held line must fit in an empty buffer");

/* The lines this thread holds back (log_hold), NULL when it writes each line at once. */
static _Thread_local struct held {
    char *buf;
    size_t len;
} held_;

/* Writes all n bytes to stderr (a short write or EINTR continues; any other failure drops the rest: a log
 * that cannot be written must not stop the daemon). */
static void write_out(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* One or more whole lines: held back if this thread holds its lines, else written at once. A line never
 * shares a write with part of another, so lines never interleave. */
static void out(const char *p, size_t n) {
    if (held_.buf) {
        if (held_.len + n > LOG_HOLD_MAX) log_flush();
        if (n <= LOG_HOLD_MAX) {
            memcpy(held_.buf + held_.len, p, n);
            held_.len += n;
            return;
        }
    }
    write_out(p, n);
}

bool log_hold(void) {
    if (held_.buf == NULL) held_.buf = malloc(LOG_HOLD_MAX);
    return held_.buf != NULL;
}

void log_flush(void) {
    if (held_.buf == NULL || held_.len == 0) return;
    write_out(held_.buf, held_.len);
    held_.len = 0;
}

void log_release(void) {
    log_flush();
    free(held_.buf);
    held_.buf = NULL;
}

/* RFC 3339 UTC with milliseconds. The date and time of day are formatted once a second per thread: at tens
 * of thousands of lines a second, gmtime_r and strftime for each were a tenth of the access log's cost. */
static void timestamp(char ts[40]) {
    static _Thread_local time_t sec_ = (time_t)-1;
    static _Thread_local char head_[32];
    static _Thread_local size_t head_len_;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != sec_) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        head_len_ = strftime(head_, sizeof head_, "%Y-%m-%dT%H:%M:%S", &tm);
        sec_ = now.tv_sec;
    }
    unsigned ms = (unsigned)(now.tv_nsec / 1000000);
    memcpy(ts, head_, head_len_);
    char *t = ts + head_len_;
    t[0] = '.';
    t[1] = (char)('0' + ms / 100);
    t[2] = (char)('0' + ms / 10 % 10);
    t[3] = (char)('0' + ms % 10);
    t[4] = 'Z';
    t[5] = 0;
}

void log_event_always(const char *level, const char *msg, json_t *extra) {
    char ts[40];
    timestamp(ts);
    json_t *o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level, "msg", msg);
    if (extra) json_object_update(o, extra);
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (line) {
        size_t len = strlen(line);
        line[len] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
        out(line, len + 1);
        free(line);
    }
    json_decref(o);
    json_decref(extra);
}

/* ---- log_line ---------------------------------------------------------------------------------------- */

/* Room kept for what log_line_emit adds: ,"truncated":true}\n */
#define LOG_TAIL 24

/* The length of the UTF-8 sequence at p (at most n bytes) and its code point, or 0 if it is not valid
 * UTF-8 (overlong forms, surrogates and values past U+10FFFF included; RFC 3629 §4). */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp) {
    size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
    if (len == 0 || len > n || p[0] > 0xF4) return 0;
    uint32_t v = p[0] & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (p[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

/* Appends what fits of s; false (and nothing appended past the room) if it did not all fit. */
static bool put(log_line *l, const char *s, size_t n) {
    if (l->len + n > LOG_LINE_MAX - LOG_TAIL) return false;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

static bool put_u(log_line *l, uint32_t u) {
    char e[8];
    snprintf(e, sizeof e, "\\u%04x", (unsigned)u);
    return put(l, e, 6);
}

/* A JSON string (RFC 8259 §7) of at most max bytes of s, ASCII only. */
static bool put_string(log_line *l, const char *s, size_t max) {
    if (!put(l, "\"", 1)) return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strnlen(s, max);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        bool ok;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            ok = put(l, e, 2);
            i++;
        } else if (c >= 0x20 && c < 0x7F) {
            ok = put(l, (const char *)p + i, 1);
            i++;
        } else if (c < 0x80) {
            ok = put_u(l, c);
            i++;
        } else {
            uint32_t cp = 0;
            size_t len = utf8_next(p + i, n - i, &cp);
            if (len == 0) {
                ok = put_u(l, 0xFFFD);
                i++;
            } else if (cp >= 0x10000) { /* a surrogate pair */
                cp -= 0x10000;
                ok = put_u(l, 0xD800 | (cp >> 10)) && put_u(l, 0xDC00 | (cp & 0x3FF));
                i += len;
            } else {
                ok = put_u(l, cp);
                i += len;
            }
        }
        if (!ok) return false;
    }
    return put(l, "\"", 1);
}

/* ,"key": then the value via fn; a field that does not fit whole is taken back out. */
static bool field_begin(log_line *l, const char *key, size_t *mark) {
    *mark = l->len;
    if (put(l, ",", 1) && put_string(l, key, LOG_VALUE_MAX) && put(l, ":", 1)) return true;
    l->len = *mark;
    l->truncated = true;
    return false;
}

static void field_end(log_line *l, size_t mark, bool ok) {
    if (ok) return;
    l->len = mark;
    l->truncated = true;
}

void log_line_begin(log_line *l, const char *level, const char *msg) {
    char ts[40];
    timestamp(ts);
    l->len = 0;
    l->truncated = false;
    (void)put(l, "{\"ts\":", 6);
    (void)put_string(l, ts, sizeof ts);
    size_t mark;
    if (field_begin(l, "level", &mark)) field_end(l, mark, put_string(l, level, LOG_VALUE_MAX));
    if (field_begin(l, "msg", &mark)) field_end(l, mark, put_string(l, msg, LOG_VALUE_MAX));
}

void log_line_str(log_line *l, const char *key, const char *val) {
    size_t mark;
    if (val && field_begin(l, key, &mark)) field_end(l, mark, put_string(l, val, LOG_VALUE_MAX));
}

void log_line_int(log_line *l, const char *key, long long v) {
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", v);
    size_t mark;
    if (field_begin(l, key, &mark)) field_end(l, mark, put(l, num, (size_t)n));
}

void log_line_num(log_line *l, const char *key, double v) {
    char num[40];
    int n = isfinite(v) ? snprintf(num, sizeof num, "%.6f", v) : snprintf(num, sizeof num, "null");
    size_t mark;
    if (field_begin(l, key, &mark)) field_end(l, mark, n > 0 && (size_t)n < sizeof num && put(l, num, (size_t)n));
}

void log_line_emit(log_line *l) {
    /* the tail always fits: put() never fills the last LOG_TAIL bytes */
    if (l->truncated) {
        memcpy(l->buf + l->len, ",\"truncated\":true", 17);
        l->len += 17;
    }
    l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    out(l->buf, l->len);
}

void log_readable_secret(const char *path) {
    log_event("warn", "secret file readable by other users",
              json_pack("{s:s, s:s}", "file", path, "detail",
                        "read because of " IOTCA_ALLOW_READABLE_SECRETS "; chmod 600 it"));
}
