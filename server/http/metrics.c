/* Lock-free request metrics rendered as Prometheus text (exposition format 0.0.4). */
#include "metrics.h"

static const double bounds[METRICS_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};

void metrics_observe(metrics *m, unsigned status, double seconds) {
    unsigned cls = status / 100;
    if (cls >= 1 && cls <= 5) __atomic_add_fetch(&m->requests[cls], 1, __ATOMIC_RELAXED);
    size_t b = 0;
    while (b < METRICS_BUCKETS && seconds > bounds[b]) b++;
    __atomic_add_fetch(&m->buckets[b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->count, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->sum_us, (unsigned long)(seconds * 1e6), __ATOMIC_RELAXED);
}

iotca_rc metrics_render(const metrics *m, iotca_buf *out) {
    IOTCA_GUARD(iotca_buf_append_str(out, "# HELP iotca_http_requests_total HTTP requests by status class.\n"
                                          "# TYPE iotca_http_requests_total counter\n"));
    for (int c = 1; c <= 5; c++)
        IOTCA_GUARD(iotca_buf_printf(out, "iotca_http_requests_total{code=\"%dxx\"} %lu\n", c,
                                     __atomic_load_n(&m->requests[c], __ATOMIC_RELAXED)));
    IOTCA_GUARD(iotca_buf_append_str(out, "# HELP iotca_http_request_duration_seconds Request latency.\n"
                                          "# TYPE iotca_http_request_duration_seconds histogram\n"));
    unsigned long cum = 0;
    for (size_t b = 0; b < METRICS_BUCKETS; b++) {
        cum += __atomic_load_n(&m->buckets[b], __ATOMIC_RELAXED);
        IOTCA_GUARD(iotca_buf_printf(out, "iotca_http_request_duration_seconds_bucket{le=\"%g\"} %lu\n", bounds[b], cum));
    }
    cum += __atomic_load_n(&m->buckets[METRICS_BUCKETS], __ATOMIC_RELAXED);
    IOTCA_GUARD(iotca_buf_printf(out, "iotca_http_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum));
    IOTCA_GUARD(iotca_buf_printf(out, "iotca_http_request_duration_seconds_sum %.6f\n",
                                 (double)__atomic_load_n(&m->sum_us, __ATOMIC_RELAXED) / 1e6));
    IOTCA_GUARD(iotca_buf_printf(out, "iotca_http_request_duration_seconds_count %lu\n", cum));
    IOTCA_GUARD(iotca_buf_printf(out,
                                 "# HELP iotca_http_rate_limited_total Requests refused with 429: the token was over "
                                 "its rate limit.\n# TYPE iotca_http_rate_limited_total counter\n"
                                 "iotca_http_rate_limited_total %lu\n",
                                 __atomic_load_n(&m->rate_limited, __ATOMIC_RELAXED)));
    IOTCA_GUARD(iotca_buf_printf(out,
                                 "# HELP iotca_http_connections Open client connections.\n"
                                 "# TYPE iotca_http_connections gauge\niotca_http_connections %ld\n",
                                 __atomic_load_n(&m->connections, __ATOMIC_RELAXED)));
    IOTCA_GUARD(iotca_buf_printf(out,
                                 "# HELP iotca_http_connections_timed_out_total Connections shut down because no "
                                 "complete request arrived within request_timeout_s.\n"
                                 "# TYPE iotca_http_connections_timed_out_total counter\n"
                                 "iotca_http_connections_timed_out_total %lu\n",
                                 __atomic_load_n(&m->conn_timeouts, __ATOMIC_RELAXED)));
    IOTCA_GUARD(iotca_buf_printf(out,
                                 "# HELP iotca_config_reloads_total Config reloads (SIGHUP) by outcome.\n"
                                 "# TYPE iotca_config_reloads_total counter\n"
                                 "iotca_config_reloads_total{outcome=\"ok\"} %lu\n"
                                 "iotca_config_reloads_total{outcome=\"refused\"} %lu\n",
                                 __atomic_load_n(&m->reloads_ok, __ATOMIC_RELAXED),
                                 __atomic_load_n(&m->reloads_refused, __ATOMIC_RELAXED)));
    IOTCA_GUARD(iotca_buf_printf(out,
                                 "# HELP iotca_est_grace_reenrollments_total EST re-enrollments of certificates "
                                 "already expired, within their profile's reenroll_grace.\n"
                                 "# TYPE iotca_est_grace_reenrollments_total counter\n"
                                 "iotca_est_grace_reenrollments_total %lu\n",
                                 __atomic_load_n(&m->est_grace, __ATOMIC_RELAXED)));
    if (m->crypto_version == NULL) return IOTCA_OK;
    IOTCA_GUARD(iotca_buf_printf(out,
                                 "# HELP iotca_crypto_info The crypto library that runs: its version, whether its "
                                 "SP P-256/P-384 code is in, and the Debian source its SP build came from.\n"
                                 "# TYPE iotca_crypto_info gauge\n"
                                 "iotca_crypto_info{library=\"wolfSSL\",version=\"%s\",sp=\"%s\",built_from=\"%s\"} 1\n",
                                 m->crypto_version, m->crypto_sp ? "on" : "off",
                                 m->crypto_built_from ? m->crypto_built_from : "debian-library"));
    if (m->crypto_package_newer >= 0)
        IOTCA_GUARD(iotca_buf_printf(out,
                                     "# HELP iotca_crypto_package_newer 1 when Debian's installed wolfSSL package is "
                                     "newer than the source of this SP build (rebuild: deploy/wolfssl-sp.sh "
                                     "--rebuild).\n# TYPE iotca_crypto_package_newer gauge\n"
                                     "iotca_crypto_package_newer %d\n",
                                     m->crypto_package_newer));
    return IOTCA_OK;
}
