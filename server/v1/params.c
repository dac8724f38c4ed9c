/* Parameters the /v1 handlers share: times in queries and bodies, serials in paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "v1.h"

iotca_rc v1_parse_time(const char *s, time_t *out) {
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    if (end == NULL || *end) {
        memset(&tm, 0, sizeof tm);
        end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
    }
    IOTCA_ENSURE(end != NULL && *end == 0, IOTCA_E_USAGE, "time must be RFC 3339 UTC (2030-01-31T00:00:00Z) or a date");
    *out = timegm(&tm);
    return IOTCA_OK;
}

/* A date "2040-01-01" (optionally "T00:00:00Z") as a time; false if malformed. */
bool v1_parse_day(const char *s, time_t *out) {
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
    if (end == NULL || (*end && strcmp(end, "T00:00:00Z") != 0)) return false;
    *out = timegm(&tm);
    return true;
}

/* Serial path segments: 1-40 hex digits, normalised to lower case. */
bool v1_serial_param(const char *in, char out[41]) {
    size_t n = strlen(in);
    if (n == 0 || n > 40) return false;
    for (size_t i = 0; i <= n; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
        if (i < n && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        out[i] = c;
    }
    return true;
}
