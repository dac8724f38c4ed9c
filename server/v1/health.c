/* Liveness, readiness and the Prometheus metrics (SPEC §6: /healthz, /readyz, /metrics). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "iotca/ca_rehearsal.h"
#include "v1.h"

void api_healthz(request *r, const char *const *p, response *out) {
    (void)r;
    (void)p;
    respond_json(out, 200, json_pack("{s:s}", "status", "ok"));
}

void api_readyz(request *r, const char *const *p, response *out) {
    (void)p;
    /* the reason, not just the verdict: a load balancer needs only the status, the operator needs the why */
    iotca_rc rc = iotca_ca_readiness(r->srv->ca, time(NULL));
    const metrics *m = &r->srv->m;
    if (rc == IOTCA_OK && m->crypto_package_newer == 1) /* ready, and the operator should know (SPEC §14) */
        respond_json(out, 200,
                     json_pack("{s:s, s:[s++++]}", "status", "ready", "warnings",
                               "Debian's wolfSSL package ", m->crypto_installed,
                               " is newer than the source of this SP build, ", m->crypto_built_from,
                               ": rebuild with deploy/wolfssl-sp.sh and restart"));
    else if (rc == IOTCA_OK) respond_json(out, 200, json_pack("{s:s}", "status", "ready"));
    else respond_error(out, 503, rc == IOTCA_E_UNAVAILABLE ? "no_issuer" : "unavailable", "%s", iotca_error_detail());
}

/* The database connection pools (lib/ca/store_pool.c): the primary's, and the read replica's if any. */
static void pool_metrics(iotca_ca *ca, iotca_buf *b) {
    iotca_ca_pool_stats ps[2];
    iotca_ca_pool_stats_get(ca, false, &ps[0]);
    size_t pools = iotca_ca_pool_stats_get(ca, true, &ps[1]) ? 2 : 1;
    static const char *const help[][2] = {
        {"iotca_db_pool_size", "The most database connections this process opens for its work (0: no limit)."},
        {"iotca_db_pool_open", "Database connections open for this process's work."},
        {"iotca_db_pool_lent", "Of which lent to a thread now."},
        {"iotca_db_pool_waits_total", "Times a thread waited for a connection, all of them lent."},
        {"iotca_db_pool_timeouts_total", "Of which gave up (the request answered 503)."}};
    for (size_t m = 0; m < 5; m++) {
        iotca_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", help[m][0], help[m][1], help[m][0],
                         m < 3 ? "gauge" : "counter");
        for (size_t k = 0; k < pools; k++) {
            unsigned long long v = m == 0   ? ps[k].max
                                   : m == 1 ? ps[k].open
                                   : m == 2 ? ps[k].lent
                                   : m == 3 ? ps[k].waited
                                            : ps[k].timed_out;
            iotca_buf_printf(b, "%s{database=\"%s\"} %llu\n", help[m][0], k ? "read_replica" : "primary", v);
        }
    }
}

void api_metrics(request *r, const char *const *p, response *out) {
    (void)p;
    iotca_buf b = {0};
    iotca_ca_stats st;
    iotca_ca_stats_get(r->srv->ca, &st);
    iotca_buf_printf(&b,
                     "# HELP iotca_certificates_issued_total Certificates issued.\n"
                     "# TYPE iotca_certificates_issued_total counter\niotca_certificates_issued_total %lu\n"
                     "# HELP iotca_issuance_refused_total Issuance requests refused.\n"
                     "# TYPE iotca_issuance_refused_total counter\niotca_issuance_refused_total %lu\n"
                     "# HELP iotca_certificates_revoked_total Certificates revoked.\n"
                     "# TYPE iotca_certificates_revoked_total counter\niotca_certificates_revoked_total %lu\n"
                     "# HELP iotca_store_group_commits_total Transactions of the store's group commit (one fsync each).\n"
                     "# TYPE iotca_store_group_commits_total counter\niotca_store_group_commits_total %lu\n"
                     "# HELP iotca_store_group_writes_total Writes those transactions held.\n"
                     "# TYPE iotca_store_group_writes_total counter\niotca_store_group_writes_total %lu\n"
                     "# HELP iotca_ocsp_cache_hits_total OCSP answers served from memory.\n"
                     "# TYPE iotca_ocsp_cache_hits_total counter\niotca_ocsp_cache_hits_total %lu\n"
                     "# HELP iotca_revocation_feed_total Revocations this process read from the database's feed, made "
                     "through it or another process sharing the database (their cached OCSP answers dropped).\n"
                     "# TYPE iotca_revocation_feed_total counter\niotca_revocation_feed_total %lu\n"
                     "# HELP iotca_tick_leader 1 when this process's tick runs the once-only duties (activation, "
                     "CRLs, OCSP answers, warnings): on PostgreSQL, the replica holding the tick lock.\n"
                     "# TYPE iotca_tick_leader gauge\niotca_tick_leader %d\n",
                     st.issued, st.refused, st.revoked, st.group_commits, st.group_writes, st.ocsp_cache_hits,
                     st.feed_revocations, iotca_ca_tick_leader(r->srv->ca) ? 1 : 0);
    metrics_render(&r->srv->m, &b);
    pool_metrics(r->srv->ca, &b);
    unsigned long reopened = 0;
    int up = iotca_ca_token_up(r->srv->ca, &reopened);
    if (up >= 0)
        iotca_buf_printf(&b,
                         "# HELP iotca_key_token_up 1 when the PKCS#11 token of the issuer keys answered its last "
                         "operation, 0 while it fails (issuance answers 503).\n"
                         "# TYPE iotca_key_token_up gauge\niotca_key_token_up %d\n"
                         "# HELP iotca_key_token_reopened_total Times the token was found and logged in to again "
                         "after failing.\n# TYPE iotca_key_token_reopened_total counter\n"
                         "iotca_key_token_reopened_total %lu\n",
                         up, reopened);
    time_t now = time(NULL);
    iotca_buf_append_str(&b, "# HELP iotca_root_days_to_expiry Days until each root expires.\n"
                             "# TYPE iotca_root_days_to_expiry gauge\n");
    for (size_t i = 0; i < iotca_ca_root_count(r->srv->ca); i++) {
        iotca_buf pem = {0}, subj = {0};
        uint8_t pin[32];
        time_t na;
        if (iotca_ca_root(r->srv->ca, i, &pem, pin, &na, &subj) == IOTCA_OK) {
            for (size_t k = 0; k < subj.len; k++)
                if (subj.data[k] == '"' || subj.data[k] == '\\') subj.data[k] = '_';
            iotca_buf_printf(&b, "iotca_root_days_to_expiry{root=\"%s\"} %.1f\n", (const char *)subj.data,
                             (double)(na - now) / 86400);
        }
        iotca_buf_free(&pem);
        iotca_buf_free(&subj);
    }
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    if (iotca_ca_issuers(r->srv->ca, &list, &n) == IOTCA_OK) {
        iotca_buf_append_str(&b, "# HELP iotca_issuer_days_to_expiry Days until each issuer certificate expires.\n"
                                 "# TYPE iotca_issuer_days_to_expiry gauge\n");
        for (size_t i = 0; i < n; i++) {
            if (list[i].not_after)
                iotca_buf_printf(&b, "iotca_issuer_days_to_expiry{issuer=\"%s\",group=\"%s\",state=\"%s\"} %.1f\n",
                                 list[i].name, list[i].group, iotca_issuer_state_name(list[i].state),
                                 (double)(list[i].not_after - now) / 86400);
            iotca_issuer_rec_free(&list[i]);
        }
        free(list);
    }
    iotca_warning w[IOTCA_MAX_WARNINGS];
    size_t nw = 0;
    if (iotca_ca_warnings(r->srv->ca, now, w, &nw) == IOTCA_OK) {
        iotca_buf_append_str(&b, "# HELP iotca_advance_warning Days left for each item inside its 180/60/30-day window.\n"
                                 "# TYPE iotca_advance_warning gauge\n");
        for (size_t i = 0; i < nw; i++) {
            for (char *c = w[i].subject; *c; c++)
                if (*c == '"' || *c == '\\') *c = '_';
            iotca_buf_printf(&b, "iotca_advance_warning{kind=\"%s\",subject=\"%s\",threshold=\"%d\"} %ld\n",
                             iotca_warning_kind_name(w[i].kind), w[i].subject, w[i].threshold_days, w[i].days_left);
        }
        iotca_buf_printf(&b, "# HELP iotca_advance_warnings Items inside a warning window.\n"
                             "# TYPE iotca_advance_warnings gauge\niotca_advance_warnings %zu\n", nw);
    }
    /* CRLs (issue 4): how long each issuer's current CRL stays valid, and how long it is */
    iotca_issuer_rec *cl = NULL;
    size_t cn = 0;
    if (iotca_ca_issuers(r->srv->ca, &cl, &cn) == IOTCA_OK) {
        iotca_buf entries = {0};
        iotca_buf_append_str(&b, "# HELP iotca_crl_next_update_seconds Seconds until each issuer CRL's nextUpdate "
                                 "(negative: relying parties see it stale).\n"
                                 "# TYPE iotca_crl_next_update_seconds gauge\n");
        iotca_buf_append_str(&entries, "# HELP iotca_crl_entries Revoked certificates listed in each issuer's CRL.\n"
                                       "# TYPE iotca_crl_entries gauge\n");
        for (size_t i = 0; i < cn; i++) {
            iotca_crl_rec crl = {0};
            if (iotca_ca_crl_info(r->srv->ca, cl[i].id, &crl) == IOTCA_OK) {
                iotca_buf_printf(&b, "iotca_crl_next_update_seconds{issuer=\"%s\",id=\"%lld\"} %lld\n", cl[i].name,
                                 (long long)cl[i].id, (long long)(crl.next_update - now));
                iotca_buf_printf(&entries, "iotca_crl_entries{issuer=\"%s\",id=\"%lld\"} %llu\n", cl[i].name,
                                 (long long)cl[i].id, (unsigned long long)crl.entries);
            }
            iotca_issuer_rec_free(&cl[i]);
        }
        iotca_buf_append(&b, entries.data, entries.len);
        iotca_buf_free(&entries);
        free(cl);
    }
    /* bridge certificates from retiring issuers (issue 24): each one until it expires, and how many are valid */
    iotca_bridge_rec *br = NULL;
    size_t nb = 0;
    if (iotca_ca_bridge_list(r->srv->ca, now, &br, &nb) == IOTCA_OK) {
        size_t valid = 0;
        iotca_buf_append_str(&b, "# HELP iotca_bridge_certificate_not_after Unix time each bridge certificate from "
                                 "a retiring issuer expires, until it does.\n"
                                 "# TYPE iotca_bridge_certificate_not_after gauge\n");
        for (size_t i = 0; i < nb; i++) {
            iotca_buf_printf(&b, "iotca_bridge_certificate_not_after{serial=\"%s\",issuer=\"%lld\",profile=\"%s\","
                             "status=\"%s\"} %lld\n", br[i].serial, (long long)br[i].issuer_id, br[i].profile,
                             br[i].revoked ? "revoked" : "valid", (long long)br[i].not_after);
            if (!br[i].revoked) valid++;
        }
        iotca_buf_printf(&b, "# HELP iotca_bridge_certificates Bridge certificates valid now (unexpired, unrevoked).\n"
                             "# TYPE iotca_bridge_certificates gauge\niotca_bridge_certificates %zu\n", valid);
        free(br);
    }
    /* rehearsals (issue 24): the latest result of each trust profile on each scenario (trust profile names are
     * letters, digits and -_. : nothing to escape in a label) */
    iotca_rehearsal_result_rec *rr = NULL;
    size_t nr = 0;
    if (iotca_ca_rehearsal_enabled(r->srv->ca) && iotca_ca_rehearsal_results(r->srv->ca, &rr, &nr) == IOTCA_OK) {
        iotca_buf_append_str(&b, "# HELP iotca_rehearsal_passed Whether the latest rehearsal result of a trust "
                                 "profile on a scenario is what a correct device does (1) or not (0).\n"
                                 "# TYPE iotca_rehearsal_passed gauge\n");
        for (size_t i = 0; i < nr; i++)
            iotca_buf_printf(&b, "iotca_rehearsal_passed{trust_profile=\"%s\",scenario=\"%s\",issuer=\"%lld\","
                             "result=\"%s\"} %d\n", rr[i].trust_profile, rr[i].scenario, (long long)rr[i].issuer_id,
                             rr[i].accepted ? "ok" : "failed", rr[i].passed ? 1 : 0);
        iotca_buf_append_str(&b, "# HELP iotca_rehearsal_result_timestamp_seconds Unix time of that result.\n"
                                 "# TYPE iotca_rehearsal_result_timestamp_seconds gauge\n");
        for (size_t i = 0; i < nr; i++)
            iotca_buf_printf(&b, "iotca_rehearsal_result_timestamp_seconds{trust_profile=\"%s\",scenario=\"%s\"} "
                             "%lld\n", rr[i].trust_profile, rr[i].scenario, (long long)rr[i].at);
        free(rr);
    }
    respond_text(out, 200, "text/plain; version=0.0.4", (const char *)b.data, b.len);
    iotca_buf_free(&b);
}
