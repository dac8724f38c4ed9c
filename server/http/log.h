/* One JSON object per log line on stderr; never a secret in it. */
#ifndef IOTCAD_LOG_H
#define IOTCAD_LOG_H

#include <jansson.h>
#include <stdbool.h>

/* Logs msg at level ("info", "warn" or "error") with the fields of extra (consumed; may be NULL). Lines below
 * the current minimum level are dropped. */
void log_event(const char *level, const char *msg, json_t *extra);
/* As log_event whatever the minimum level: for the few lines an operator must always see (config reloads). */
void log_event_always(const char *level, const char *msg, json_t *extra);
/* The warning for a secret file other users can reach, read anyway because of --allow-readable-secrets (its
 * path only, never its contents). */
void log_readable_secret(const char *path);
/* The rank of a level name (info 0, warn 1, error 2) in *rank; false for any other name. */
bool log_level_parse(const char *name, int *rank);
/* Sets the minimum level (a rank from log_level_parse); thread-safe, takes effect for the next line. */
void log_set_level(int rank);

/* A log line built field by field into a fixed buffer, without Jansson: for the line every request writes
 * (the access log), where building a json_t and dumping it cost a sixth of an OCSP answer's CPU. The output
 * is the same shape as log_event's: one JSON object, ASCII only (other characters as \u escapes, bytes that
 * are not UTF-8 as U+FFFD), keys in the order added. A string value is cut after LOG_VALUE_MAX bytes; a
 * field that does not fit in the line is left out and "truncated":true is added. */
#define LOG_LINE_MAX 4096
#define LOG_VALUE_MAX 512
typedef struct log_line {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool truncated;
} log_line;
/* False if lines of this level are dropped now (then skip building one). */
bool log_enabled(const char *level);
void log_line_begin(log_line *l, const char *level, const char *msg);
void log_line_str(log_line *l, const char *key, const char *val); /* NULL val: field left out */
void log_line_int(log_line *l, const char *key, long long v);
void log_line_num(log_line *l, const char *key, double v); /* six decimals; non-finite as null */
/* Closes the line and writes it with one write(2), like log_event (or holds it, see log_hold). */
void log_line_emit(log_line *l);

/* Holding lines back: a serving thread writes the lines of one turn of its loop together, with one write(2)
 * at the end of the turn (log_flush) instead of one a line. OCSP at 8 clients (wrk, 3 s runs alternating
 * with the binary before, 2 cores), when all connections were on one serving thread: 10.0-11.4 us of daemon
 * CPU an answer against 11.4-12.2, and 85,000-101,000 answers/s against 83,000-87,000; with no access log
 * at all it had taken 9.5-11.8 us. After log_hold, this thread's lines (log_event's and log_line's) are
 * kept in order in a buffer of LOG_HOLD_MAX bytes, written when it fills and by log_flush; a line never
 * shares a write with part of another. LOG_HOLD_MAX is PIPE_BUF on Linux, the size a single line could
 * already reach: a write of at most that many bytes to a pipe is never interleaved with other threads'
 * writes. The cost: the lines of a turn not yet flushed are lost if the process dies in it. log_hold
 * returns false (and lines go out at once) if the buffer cannot be allocated; calling it again is harmless.
 * log_release flushes and goes back to writing each line at once; a thread that held lines must call it
 * before it exits. */
#define LOG_HOLD_MAX 4096
bool log_hold(void);
void log_flush(void);
void log_release(void);

#endif
