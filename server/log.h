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
/* Closes the line and writes it with one write(2), like log_event. */
void log_line_emit(log_line *l);

#endif
