/* RFC 3339 times for command lines and reports: a strict parser (no locale, no strptime leniency) and the
 * UTC formatter every tool prints with. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "iotca/timefmt.h"

#define FORM "use RFC 3339, e.g. 2030-01-31T12:00:00Z, 2030-01-31T14:00:00+02:00 or 2030-01-31"

/* n decimal digits at *p (advanced past them) into *v; false if any is not a digit. */
static bool digits(const char **p, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return false;
        *v = *v * 10 + (c - '0');
    }
    *p += n;
    return true;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil). */
static long long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

iotca_rc iotca_time_parse(const char *s, time_t *out) {
    IOTCA_ENSURE(s != NULL && *s, IOTCA_E_USAGE, "empty time: " FORM);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
    bool ok = digits(&p, 4, &y) && *p++ == '-' && digits(&p, 2, &mo) && *p++ == '-' && digits(&p, 2, &d);
    ok = ok && mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] + (mo == 2 && leap(y));
    if (ok && *p) { /* a time and its zone must follow a date */
        ok = (*p == 'T' || *p == 't') && (p++, digits(&p, 2, &h)) && *p++ == ':' && digits(&p, 2, &mi) &&
             *p++ == ':' && digits(&p, 2, &sec) && h <= 23 && mi <= 59 && sec <= 59;
        if (ok && *p == '.') { /* fractional seconds: at least one digit, dropped */
            p++;
            ok = *p >= '0' && *p <= '9';
            while (*p >= '0' && *p <= '9') p++;
        }
        if (ok && (*p == 'Z' || *p == 'z')) p++;
        else if (ok && (*p == '+' || *p == '-')) {
            int sign = *p++ == '-' ? -1 : 1, oh = 0, om = 0;
            ok = digits(&p, 2, &oh) && *p++ == ':' && digits(&p, 2, &om) && oh <= 23 && om <= 59;
            off = sign * (oh * 3600 + om * 60);
        } else ok = false;
        ok = ok && *p == 0;
    }
    IOTCA_ENSURE(ok, IOTCA_E_USAGE, "invalid time '%.64s': " FORM, s);
    long long t = days_from_civil(y, mo, d) * 86400LL + h * 3600 + mi * 60 + sec - off;
    IOTCA_ENSURE(sizeof(time_t) >= 8 || (t >= -2147483648LL && t <= 2147483647LL), IOTCA_E_USAGE,
                 "time '%.64s' is out of range", s);
    *out = (time_t)t;
    return IOTCA_OK;
}

void iotca_time_format(time_t t, char out[32]) {
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) snprintf(out, 32, "@%lld", (long long)t);
}
