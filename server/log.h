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

#endif
