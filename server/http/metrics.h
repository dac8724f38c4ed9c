/* Prometheus metrics: request counters by status class, a latency histogram, limits and reloads. */
#ifndef IOTCAD_METRICS_H
#define IOTCAD_METRICS_H

#include <stdbool.h>

#include "iotca/buf.h"

#define METRICS_BUCKETS 10

typedef struct metrics {
    unsigned long requests[6]; /* by status class 1xx..5xx; [0] unused */
    unsigned long buckets[METRICS_BUCKETS + 1]; /* cumulative at render time; last is +Inf */
    unsigned long count;
    double sum; /* seconds, guarded by atomics on a long of microseconds */
    unsigned long sum_us;
    unsigned long rate_limited;   /* requests refused with 429 (per-token rate limit) */
    unsigned long conn_timeouts;  /* connections shut down for not delivering a request in time */
    long connections;             /* open connections (gauge) */
    unsigned long reloads_ok, reloads_refused; /* SIGHUP config reloads */
    unsigned long est_grace;                   /* EST re-enrollments of expired certificates within their grace */
    /* the crypto library that runs, set once at start (SPEC §14) */
    const char *crypto_version, *crypto_built_from; /* "5.5.4"; the SP build's Debian source version or NULL */
    bool crypto_sp;
    int crypto_package_newer; /* 1: Debian's installed package is newer than crypto_built_from; 0: not; -1: unknown */
    char crypto_installed[128]; /* that package's version; "" when unknown */
} metrics;

/* Records one request (thread-safe). */
void metrics_observe(metrics *m, unsigned status, double seconds);
/* Appends the request, limit and reload metrics in Prometheus text format. */
iotca_rc metrics_render(const metrics *m, iotca_buf *out);

#endif
