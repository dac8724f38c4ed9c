/* One JSON object per log line on stderr; never a secret in it. */
#ifndef IOTCAD_LOG_H
#define IOTCAD_LOG_H

#include <jansson.h>

/* Logs msg at level with the fields of extra (consumed; may be NULL). */
void log_event(const char *level, const char *msg, json_t *extra);

#endif
