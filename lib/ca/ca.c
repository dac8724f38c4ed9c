/* The CA service: opening, per-thread store handles, roots, issuer keys and certificates in memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"
#include "iotca/file.h"
#include "iotca/ocsp.h"
#include "iotca/pem.h"

/* A thread that used the store ends: its crypto caches go too (its database handle went back to the pool). */
static void thread_end(void *p) {
    (void)p;
    iotca_crypto_thread_end();
}

static void mark_thread(iotca_ca *ca) {
    if (pthread_getspecific(ca->thread_key) == NULL) (void)pthread_setspecific(ca->thread_key, ca);
}

iotca_rc ca_store(iotca_ca *ca, iotca_store **out) {
    mark_thread(ca);
    return ca_pool_lend(&ca->store_pool, out);
}

iotca_rc ca_read_store(iotca_ca *ca, iotca_store **out) {
    if (!ca->read_pool.ready) return ca_store(ca, out); /* no read replica: reads go to the primary */
    mark_thread(ca);
    return ca_pool_lend(&ca->read_pool, out);
}

void iotca_ca_store_return(iotca_ca *ca) {
    ca_pool_return(&ca->store_pool);
    ca_pool_return(&ca->read_pool);
}

bool iotca_ca_pool_stats_get(iotca_ca *ca, bool reader, iotca_ca_pool_stats *out) {
    ca_pool_stats(reader ? &ca->read_pool : &ca->store_pool, out);
    return (reader ? &ca->read_pool : &ca->store_pool)->ready;
}

void iotca_ca_release_memory(iotca_ca *ca) {
    iotca_store_release_memory(ca_pool_held(&ca->store_pool)); /* NULL if this thread holds none */
    ca_pool_release_memory(&ca->store_pool);
    iotca_store_group_release_memory(ca->group);
    iotca_crypto_thread_trim();
}

bool iotca_ca_database_is_pg(const char *db_path) { return iotca_store_is_pg_conninfo(db_path); }

iotca_rc iotca_ca_init_db(const char *db_path) {
    iotca_store *s = NULL;
    IOTCA_GUARD(iotca_store_open(db_path, true, 5000, &s));
    iotca_rc rc = iotca_store_migrate(s);
    if (rc == IOTCA_OK) rc = iotca_store_check_schema(s);
    iotca_store_close(s);
    return rc;
}

int iotca_ca_schema_version(void) { return iotca_store_schema_latest(); }
const char *iotca_ca_store_engine(void) { return iotca_store_engine(); }
const char *iotca_ca_crypto_version(void) { return iotca_crypto_version(); }
void iotca_ca_crypto_info(iotca_crypto_info *out) { iotca_crypto_info_get(out); }

static bool same(iotca_slice a, iotca_slice b) { return a.len == b.len && memcmp(a.p, b.p, a.len) == 0; }

/* Cross-certificate i of the config (SPEC §3: a new root signed by an old one, the same subject and key bytes
 * as the new root): parsed, and tied to the configured root it certifies. */
static iotca_rc add_cross(iotca_ca *ca, iotca_slice der, size_t i) {
    iotca_rc rc = iotca_cert_parse(der, &ca->cross[i]);
    IOTCA_ENSURE(rc == IOTCA_OK, rc, "cross-certificate %zu: %s", i + 1, iotca_error_detail());
    ca->n_cross++;
    const iotca_cert_info *x = iotca_cert_get(ca->cross[i]);
    IOTCA_ENSURE(x->is_ca && !iotca_cert_is_self_signed(ca->cross[i]), IOTCA_E_USAGE,
                 "cross-certificate %zu is %s", i + 1,
                 x->is_ca ? "self-signed: a root, which belongs in roots" : "not a CA certificate");
    for (size_t k = 0; k < ca->n_roots; k++) {
        const iotca_cert_info *r = iotca_cert_get(ca->roots[k]);
        if (same(r->subject, x->subject) && same(r->spki, x->spki)) {
            ca->cross_root[i] = k;
            return IOTCA_OK;
        }
    }
    return iotca_error_set(IOTCA_E_USAGE,
                           "cross-certificate %zu: no configured root has its subject and key (it must certify one "
                           "of roots)",
                           i + 1);
}

iotca_rc iotca_ca_open(const iotca_ca_config *cfg, iotca_ca **out) {
    IOTCA_ENSURE(cfg->db_path && cfg->key_dir, IOTCA_E_USAGE, "database path and key directory are required");
    IOTCA_ENSURE(cfg->db_read_path == NULL || iotca_store_is_pg_conninfo(cfg->db_path), IOTCA_E_USAGE,
                 "a read replica needs a PostgreSQL database");
    iotca_store_pg_options(cfg->db_connect_timeout_s, cfg->db_statement_timeout_ms, cfg->db_read_path != NULL);
    IOTCA_ENSURE(cfg->n_roots >= 1 && cfg->n_roots <= CA_MAX_ROOTS, IOTCA_E_USAGE,
                 "between 1 and %d roots must be configured", CA_MAX_ROOTS);
    IOTCA_ENSURE(cfg->key_passphrase.len >= 12, IOTCA_E_USAGE,
                 "the issuer key passphrase must be at least 12 characters");
    iotca_ca *ca = calloc(1, sizeof *ca);
    IOTCA_ENSURE(ca != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = IOTCA_OK;
    pthread_mutex_init(&ca->lock, NULL);
    pthread_mutex_init(&ca->ocsp_lock, NULL);
    pthread_mutex_init(&ca->used_mu, NULL);
    IOTCA_CHECK(pthread_key_create(&ca->thread_key, thread_end) == 0, IOTCA_E_INTERNAL, "pthread_key_create");
    ca->key_created = true;
    /* a thread waits for a connection as long as for a new one to connect */
    unsigned wait_ms = (cfg->db_connect_timeout_s ? cfg->db_connect_timeout_s : 10) * 1000;
    IOTCA_TRY(ca_pool_init(&ca->store_pool, cfg->db_path, false, cfg->db_pool_size, wait_ms));
    if (cfg->db_read_path) IOTCA_TRY(ca_pool_init(&ca->read_pool, cfg->db_read_path, true, cfg->db_pool_size, wait_ms));
    ca->db_path = strdup(cfg->db_path);
    ca->key_dir = strdup(cfg->key_dir);
    ca->default_group = strdup(cfg->default_group ? cfg->default_group : "default");
    ca->base_url = cfg->base_url ? strdup(cfg->base_url) : NULL;
    IOTCA_CHECK(ca->db_path && ca->key_dir && ca->default_group, IOTCA_E_INTERNAL, "out of memory");
    IOTCA_TRY(iotca_store_group_new(ca->db_path, &ca->group));
    IOTCA_TRY(ocsp_cache_new(CA_OCSP_CACHE_SLOTS, &ca->ocsp_cache));
    ca->pass.secret = true;
    IOTCA_TRY(iotca_buf_append(&ca->pass, cfg->key_passphrase.p, cfg->key_passphrase.len));
    ca->issuer_key_type = cfg->issuer_key_type;
    ca->kdf_iterations = cfg->kdf_iterations;
    IOTCA_TRY(ca_keys_open(ca, cfg));
    ca->profiles = cfg->profiles;
    ca->n_profiles = cfg->n_profiles;
    for (size_t i = 0; i < cfg->n_profiles; i++) IOTCA_TRY(iotca_profile_validate(&cfg->profiles[i]));
    for (size_t i = 0; i < cfg->n_roots; i++) {
        rc = iotca_cert_parse(cfg->roots[i], &ca->roots[i]);
        IOTCA_CHECK(rc == IOTCA_OK, rc, "root %zu: %s", i + 1, iotca_error_detail());
        ca->n_roots++;
        const iotca_cert_info *ri = iotca_cert_get(ca->roots[i]);
        IOTCA_CHECK(ri->is_ca && iotca_cert_is_self_signed(ca->roots[i]), IOTCA_E_USAGE,
                    "root %zu is not a self-signed CA certificate", i + 1);
    }
    IOTCA_CHECK(cfg->n_cross <= CA_MAX_ROOTS, IOTCA_E_USAGE, "at most %d cross-certificates", CA_MAX_ROOTS);
    for (size_t i = 0; i < cfg->n_cross; i++) IOTCA_TRY(add_cross(ca, cfg->cross[i], i));
    iotca_store *s = NULL;
    IOTCA_TRY(ca_store(ca, &s));
    IOTCA_TRY(iotca_store_check_schema(s));
    if (ca->read_pool.ready) { /* the replica answers, and is the primary's synchronous standby if a standby */
        iotca_store *r = NULL;
        IOTCA_TRY(iotca_store_open_reader(ca->read_pool.path, s, &r));
        rc = iotca_store_check_schema(r);
        iotca_store_close(r);
        IOTCA_TRY(rc);
    }
    /* the cache starts empty: only revocations from now on can make an answer it takes stale */
    IOTCA_TRY(iotca_store_revocations_head(s, &ca->revocations_seen));
    /* a process that cannot bump the signal would leave the others serving "good" for a revoked certificate
     * until their next tick: no signal, no CA (the file sits beside the database's own -wal and -shm) */
    IOTCA_TRY(iotca_store_signal_open(ca->db_path, &ca->signal));
    ca->signal_seen = (int64_t)iotca_store_signal_read(ca->signal);
    iotca_ca_store_return(ca); /* the opening thread may never serve a request */
    *out = ca;
    return IOTCA_OK;
out:
    iotca_ca_close(ca);
    return rc;
}

void iotca_ca_close(iotca_ca *ca) {
    if (ca == NULL) return;
    ca_crypto_stop(ca); /* first: its jobs use the issuers freed below */
    ca_rehearsal_free(ca);
    iotca_store *s = NULL;
    /* best effort: the last uses since the tick; a failure costs only a last-used time */
    if (ca->n_used && ca->store_pool.ready && ca_store(ca, &s) == IOTCA_OK) (void)ca_tokens_flush_used(ca, s);
    ca_pool_free(&ca->store_pool); /* every other thread that used it has ended */
    ca_pool_free(&ca->read_pool);
    if (ca->key_created) {
        pthread_setspecific(ca->thread_key, NULL);
        pthread_key_delete(ca->thread_key);
    }
    for (size_t i = 0; i < ca->n_roots; i++) iotca_cert_free(ca->roots[i]);
    for (size_t i = 0; i < ca->n_cross; i++) iotca_cert_free(ca->cross[i]);
    iotca_crypto_thread_end();
    for (size_t i = 0; i < ca->n_issuers; i++) {
        ca_issuer *is = ca->issuers[i];
        iotca_cert_free(is->cert);
        iotca_key_free(is->key);
        for (size_t k = 0; k < CA_SIGNERS; k++) {
            iotca_key_free(is->signer[k]);
            pthread_mutex_destroy(&is->signer_mu[k]);
        }
        iotca_cert_free(is->ocsp_cert);
        iotca_key_free(is->ocsp_key);
        free(is);
    }
    free(ca->issuers);
    iotca_token_close(ca->token); /* after every key made on it */
    iotca_store_group_free(ca->group);
    ocsp_cache_free(ca->ocsp_cache);
    iotca_store_signal_close(ca->signal);
    iotca_buf_free(&ca->pass);
    iotca_wipe(ca->acme_eab_master, sizeof ca->acme_eab_master);
    free(ca->db_path);
    free(ca->key_dir);
    free(ca->default_group);
    free(ca->base_url);
    pthread_mutex_destroy(&ca->lock);
    pthread_mutex_destroy(&ca->ocsp_lock);
    pthread_mutex_destroy(&ca->used_mu);
    free(ca);
}

/* Finds (or loads) the in-memory issuer: parsed certificate and decrypted key.
 * Caller holds ca->lock. */
iotca_rc ca_issuer_locked(iotca_ca *ca, const iotca_issuer_rec *rec, ca_issuer **out) {
    for (size_t i = 0; i < ca->n_issuers; i++)
        if (ca->issuers[i]->id == rec->id) {
            *out = ca->issuers[i];
            return IOTCA_OK;
        }
    IOTCA_ENSURE(rec->cert.len > 0, IOTCA_E_POLICY, "issuer %lld has no certificate yet", (long long)rec->id);
    if (ca->n_issuers == ca->cap_issuers) {
        size_t cap = ca->cap_issuers ? 2 * ca->cap_issuers : 8;
        ca_issuer **grown = realloc(ca->issuers, cap * sizeof *grown);
        IOTCA_ENSURE(grown != NULL, IOTCA_E_INTERNAL, "out of memory");
        ca->issuers = grown;
        ca->cap_issuers = cap;
    }
    ca_issuer *ci = calloc(1, sizeof *ci);
    IOTCA_ENSURE(ci != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = IOTCA_OK;
    iotca_buf p8 = {.secret = true};
    IOTCA_TRY(iotca_cert_parse(iotca_buf_slice(&rec->cert), &ci->cert));
    iotca_slice spki = iotca_cert_get(ci->cert)->spki;
    rc = ca_key_load(ca, rec->key_ref, spki, &ci->key);
    IOTCA_CHECK(rc == IOTCA_OK, rc, "issuer %lld: %s", (long long)rec->id, iotca_error_detail());
    ci->root = ca_root_of(ca, ci->cert);
    IOTCA_CHECK(ci->root != NULL, IOTCA_E_POLICY, "issuer %lld does not chain to a configured root",
                (long long)rec->id);
    /* the key copies concurrent issuances sign with: decoded from the same PKCS#8 bytes (on a token: handles
     * of the same token key, which signs one call at a time) */
    if (!iotca_key_on_token(ci->key)) IOTCA_TRY(iotca_key_to_pkcs8(ci->key, &p8));
    for (size_t k = 0; k < CA_SIGNERS; k++) {
        IOTCA_TRY(iotca_key_on_token(ci->key) ? ca_key_load(ca, rec->key_ref, spki, &ci->signer[k])
                                              : iotca_key_from_pkcs8(iotca_buf_slice(&p8), &ci->signer[k]));
        pthread_mutex_init(&ci->signer_mu[k], NULL);
    }
    size_t hl;
    IOTCA_TRY(iotca_ocsp_issuer_hashes(ci->cert, IOTCA_OCSP_SHA1, ci->ocsp_name1, ci->ocsp_key1, &hl));
    IOTCA_TRY(iotca_ocsp_issuer_hashes(ci->cert, IOTCA_OCSP_SHA256, ci->ocsp_name256, ci->ocsp_key256, &hl));
    ci->id = rec->id;
    ca->issuers[ca->n_issuers++] = ci;
    *out = ci;
out:
    iotca_buf_free(&p8);
    if (rc != IOTCA_OK) {
        iotca_cert_free(ci->cert);
        iotca_key_free(ci->key);
        for (size_t k = 0; k < CA_SIGNERS; k++) {
            if (ci->signer[k]) pthread_mutex_destroy(&ci->signer_mu[k]);
            iotca_key_free(ci->signer[k]);
        }
        free(ci);
    }
    return rc;
}

iotca_rc ca_issuer_sign_tbs(ca_issuer *is, iotca_slice tbs, iotca_buf *out) {
    /* take a free copy if there is one, else wait for this thread's usual one */
    size_t first = (size_t)pthread_self() % CA_SIGNERS, k = first;
    bool got = false;
    for (size_t i = 0; i < CA_SIGNERS && !got; i++) {
        k = (first + i) % CA_SIGNERS;
        got = pthread_mutex_trylock(&is->signer_mu[k]) == 0;
    }
    if (!got) {
        k = first;
        pthread_mutex_lock(&is->signer_mu[k]);
    }
    __atomic_add_fetch(&is->signatures, 1, __ATOMIC_RELAXED);
    iotca_rc rc = iotca_cert_sign_tbs(tbs, is->signer[k], out);
    pthread_mutex_unlock(&is->signer_mu[k]);
    return rc;
}

iotca_rc ca_issuer_by_id(iotca_ca *ca, iotca_store *s, int64_t id, ca_issuer **out) {
    iotca_issuer_rec rec = {0};
    IOTCA_GUARD(iotca_store_issuer_get(s, id, &rec));
    pthread_mutex_lock(&ca->lock);
    iotca_rc rc = ca_issuer_locked(ca, &rec, out);
    pthread_mutex_unlock(&ca->lock);
    iotca_issuer_rec_free(&rec);
    return rc;
}

const iotca_cert *ca_root_of(const iotca_ca *ca, const iotca_cert *c) {
    for (size_t i = 0; i < ca->n_roots; i++)
        if (iotca_cert_verify_signed_by(c, ca->roots[i]) == IOTCA_OK) return ca->roots[i];
    return NULL;
}

iotca_rc ca_serial_hex(iotca_slice serial, char out[41]) {
    while (serial.len > 1 && serial.p[0] == 0) serial = iotca_slice_of(serial.p + 1, serial.len - 1);
    IOTCA_ENSURE(serial.len >= 1 && serial.len <= 20, IOTCA_E_USAGE, "no such certificate (a serial of %zu bytes)",
                 serial.len);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < serial.len; i++) {
        out[2 * i] = hex[serial.p[i] >> 4];
        out[2 * i + 1] = hex[serial.p[i] & 15];
    }
    out[2 * serial.len] = 0;
    return IOTCA_OK;
}

time_t ca_cross_end(const iotca_ca *ca, iotca_slice issuer_der, time_t now) {
    iotca_cert *c = NULL;
    if (ca->n_cross == 0 || iotca_cert_parse(issuer_der, &c) != IOTCA_OK) return 0;
    const iotca_cert *root = ca_root_of(ca, c);
    iotca_cert_free(c);
    time_t end = 0;
    for (size_t i = 0; root && i < ca->n_cross; i++) {
        time_t t = iotca_cert_get(ca->cross[i])->not_after;
        if (ca->roots[ca->cross_root[i]] == root && t > now && (end == 0 || t < end)) end = t;
    }
    return end;
}

size_t iotca_ca_root_count(const iotca_ca *ca) { return ca->n_roots; }

iotca_rc iotca_ca_root(const iotca_ca *ca, size_t i, iotca_buf *pem, uint8_t pin[32], time_t *not_after,
                       iotca_buf *subject) {
    IOTCA_ENSURE(i < ca->n_roots, IOTCA_E_USAGE, "no root %zu", i);
    const iotca_cert_info *ri = iotca_cert_get(ca->roots[i]);
    iotca_cert_spki_pin(ca->roots[i], pin);
    *not_after = ri->not_after;
    IOTCA_GUARD(iotca_name_format(ri->subject, subject));
    return iotca_pem_encode("CERTIFICATE", ri->der.p, ri->der.len, pem);
}

void iotca_ca_stats_get(iotca_ca *ca, iotca_ca_stats *out) {
    out->issued = __atomic_load_n(&ca->stats.issued, __ATOMIC_RELAXED);
    out->refused = __atomic_load_n(&ca->stats.refused, __ATOMIC_RELAXED);
    out->revoked = __atomic_load_n(&ca->stats.revoked, __ATOMIC_RELAXED);
    iotca_store_group_stats(ca->group, &out->group_commits, &out->group_writes);
    out->ocsp_cache_hits = __atomic_load_n(&ca->stats.ocsp_cache_hits, __ATOMIC_RELAXED);
    out->feed_revocations = __atomic_load_n(&ca->stats.feed_revocations, __ATOMIC_RELAXED);
}
