/* Times as people and scripts write them on command lines: RFC 3339 in, RFC 3339 UTC out. */
#ifndef IOTCA_TIMEFMT_H
#define IOTCA_TIMEFMT_H

#include <time.h>

#include "iotca/result.h"

/* Parses an RFC 3339 date-time (RFC 3339 §5.6: "2030-01-31T12:00:00Z", a lower-case t or z, fractional
 * seconds, which are dropped, or an offset "+02:00"/"-05:30") or a full date alone ("2030-01-31", midnight
 * UTC) into *out. Anything else (missing zone, out-of-range fields such as month 13 or 25:00, trailing
 * text, NULL) is IOTCA_E_USAGE with a detail that quotes s and shows the expected form; *out is then
 * untouched. Leap seconds (":60") are refused: time_t has none. */
iotca_rc iotca_time_parse(const char *s, time_t *out);
/* Writes t as RFC 3339 UTC ("2030-01-31T12:00:00Z") into out (at least 21 bytes; 32 is plenty). */
void iotca_time_format(time_t t, char out[32]);

#endif
