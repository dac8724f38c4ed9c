/* Private state of the CA service, shared by its source files. */
#ifndef IOTCA_CA_INTERNAL_H
#define IOTCA_CA_INTERNAL_H

#include <pthread.h>

#include "iotca/ca.h"
#include "iotca/fleet.h"
#include "iotca/store.h"
#include "iotca/token.h"
#include "ocsp_cache.h"
#include "store_pool.h"

#define CA_MAX_ROOTS 8
#define CA_MAX_ISSUERS 64 /* issuers whose CRL one tick makes, and held activations tracked */
#define CA_SIGNERS 4 /* copies of each issuer key, so concurrent issuances sign in parallel */
/* answers the OCSP responder keeps in memory: about 550 bytes each with the slot, so about 9 MiB when full */
#define CA_OCSP_CACHE_SLOTS 16384
/* distinct API tokens whose use one tick interval remembers (tokens.c); a use past that waits for the next */
#define CA_TOKENS_USED 1024

/* An issuer that has signed or will sign: its certificate and key in memory. */
typedef struct ca_issuer {
    int64_t id;
    iotca_cert *cert;
    iotca_key *key;
    /* independent copies of key, each used by one thread at a time (ca_issuer_sign) */
    iotca_key *signer[CA_SIGNERS];
    pthread_mutex_t signer_mu[CA_SIGNERS];
    unsigned long signatures; /* leaves its keys signed (ca_issuer_sign_tbs); atomic; tests read it */
    const iotca_cert *root;
    /* OCSP: CertID hashes of this issuer (SHA-1, SHA-256) and its current
     * delegated responder (loaded by ocsp.c under ca->ocsp_lock) */
    uint8_t ocsp_name1[32], ocsp_key1[32], ocsp_name256[32], ocsp_key256[32];
    iotca_cert *ocsp_cert;
    iotca_key *ocsp_key;
    /* CRL (crl.c), for the revocation debounce; under lock: when this process last published the issuer's
     * CRL (CLOCK_MONOTONIC milliseconds; 0 before the first) and how many entries it had */
    int64_t crl_done_ms;
    uint64_t crl_entries;
} ca_issuer;

typedef struct ca_crypto_pool ca_crypto_pool;

struct iotca_ca {
    char *db_path, *key_dir, *default_group, *base_url;
    /* the database connections lent to threads (store_pool.c): the primary's, and a read replica's
     * (read_pool.ready; its conninfo read_pool.path) when one is configured, else reads use the primary */
    ca_store_pool store_pool, read_pool;
    /* set on each thread that used the store: its end releases the thread's crypto caches */
    pthread_key_t thread_key;
    iotca_buf pass;
    iotca_token *token; /* the PKCS#11 token issuer keys are made and used on (keystore.c); NULL: key files */
    bool ocsp_on_token; /* the OCSP responders' keys too (else software keys in key_dir) */
    iotca_key_type issuer_key_type;
    unsigned kdf_iterations;
    const iotca_profile *profiles;
    size_t n_profiles;
    iotca_cert *roots[CA_MAX_ROOTS];
    size_t n_roots;
    iotca_cert *cross[CA_MAX_ROOTS]; /* cross-certificates; cross_root[i] the index of the root it certifies */
    size_t cross_root[CA_MAX_ROOTS];
    size_t n_cross;
    /* lock guards issuers (the array and its growth) and serialises signing with an issuer's main key */
    pthread_mutex_t lock;
    pthread_mutex_t ocsp_lock; /* the delegated OCSP responders' keys (ocsp.c); taken before lock, never after */
    /* every issuer loaded since start, each allocated once so pointers to it stay valid (no fixed limit:
     * a long-lived daemon loads each new issuer as it rotates in) */
    ca_issuer **issuers;
    size_t n_issuers, cap_issuers;
    iotca_store_group *group; /* group commit of the issuance writes and the audit trail */
    ocsp_cache *ocsp_cache;   /* answers served without a store read (ocsp.c); revocation invalidates */
    int64_t revocations_seen; /* the revocation feed position whose serials ocsp_cache has dropped (atomic) */
    iotca_store_signal *signal; /* bumped by every process on the database after a revocation */
    int64_t signal_seen;        /* the signal's value when the feed was last read through (atomic) */
    ca_crypto_pool *crypto;   /* NULL: the calling thread does its own crypto (crypto_pool.c) */
    bool key_created;
    /* API tokens used since the tick last wrote their last-used times (tokens.c, tick.c): remembered here so
     * that authenticating a request never writes to the database; guarded by used_mu */
    pthread_mutex_t used_mu;
    iotca_token_use used[CA_TOKENS_USED];
    size_t n_used;
    iotca_ca_stats stats;
    /* staged issuers whose activation the tick held back (rotation preflight); guarded by lock */
    int64_t held[CA_MAX_ISSUERS];
    size_t n_held;
    /* the tick (tick.c), guarded by lock: the advance warnings already reported at their threshold, where to
     * report new ones, and what its last write probe found (the database refused writes since write_failed_at) */
    char warned[IOTCA_MAX_WARNINGS][300];
    size_t n_warned;
    iotca_warning_sink warning_sink;
    void *warning_ctx;
    time_t write_failed_at; /* 0: the last probe's write committed */
    /* the thread iotcad ticks on (iotca_ca_tick_thread), and whether its last tick held the store's tick lock
     * (atomic): the replica that runs the once-only duties (issue 25) */
    pthread_t tick_thread;
    bool tick_thread_set;
    bool tick_leader;
    /* ACME (acme.c): the secret the EAB keys are made from (PBKDF2 of the key passphrase), derived on first use
     * under lock and wiped at close */
    uint8_t acme_eab_master[32];
    bool acme_eab_ready;
    /* Test seam (tests/unit/test_lint.c), NULL otherwise: called on a crypto thread with each issuance's spec
     * and the TBS built from it, before the lint; it may rewrite the TBS, as a builder mistake would, so the
     * tests can show that the lint refuses it before any key signs. Set before issuing. */
    iotca_rc (*tbs_hook)(void *arg, const iotca_cert_spec *spec, iotca_buf *tbs);
    void *tbs_hook_arg;
    /* rehearsals (rehearsal.c), NULL unless configured */
    struct ca_rehearsal *rehearsal;
};

/* Frees the rehearsals' state (rehearsal.c; iotca_ca_close). */
void ca_rehearsal_free(iotca_ca *ca);

/* The certificates of a registered trust store (PEM) into der[] (at most CA_TRUST_STORE_MAX; preflight.c);
 * IOTCA_E_PARSE when it holds none. */
#define CA_TRUST_STORE_MAX 64
iotca_rc ca_trust_store_certs(const char *pem, size_t len, iotca_buf *der, size_t *n);
/* The chains an issuer group serves from now (preflight.c): its active issuer from now, its staged ones from
 * their activation (now when past), every one but skip_id, and extra (when not empty) from extra_at; sorted by
 * start into sched[] (certs[] holds what they point to, into list and extra). Returns how many. */
#define CA_SCHEDULE_MAX 16
size_t ca_group_schedule(const iotca_issuer_rec *list, size_t n, const char *group, int64_t skip_id, iotca_slice extra,
                         time_t extra_at, time_t now, iotca_slice certs[CA_SCHEDULE_MAX],
                         iotca_served sched[CA_SCHEDULE_MAX]);
/* The fleet check of a schedule against one registered trust profile until its end of life, into *rep (empty
 * when its end of life is past or nothing is served). Errors: a stack or store that no longer parses. */
iotca_rc ca_check_profile(const iotca_trust_profile_rec *p, const iotca_served *sched, size_t nsched, time_t now,
                          iotca_check_report *rep);

/* Records or clears that the tick held issuer id back; and asks whether it is held. */
void ca_set_held(iotca_ca *ca, int64_t id, bool held);
bool ca_is_held(iotca_ca *ca, int64_t id);

/* This thread's store handle, opened on first use. */
iotca_rc ca_store(iotca_ca *ca, iotca_store **out);
/* This thread's handle for OCSP, CRL and inventory reads: the read replica's when one is configured (opened on
 * first use; never written to), else ca_store's. */
iotca_rc ca_read_store(iotca_ca *ca, iotca_store **out);
/* The loaded issuer for rec (parsing its certificate and decrypting its key
 * on first use). Caller holds ca->lock. */
iotca_rc ca_issuer_locked(iotca_ca *ca, const iotca_issuer_rec *rec, ca_issuer **out);
/* Fills an audit record (fields cleaned to one line each) and appends it on s, joining an open
 * transaction (audit.c). */
void ca_audit_fill(iotca_audit_rec *r, const char *actor, const char *action, const char *subject,
                   const char *request_id, const char *outcome, const char *detail);
iotca_rc ca_audit_append(iotca_store *s, iotca_audit_rec *r);
/* Signs a leaf's linted DER TBS with one of the issuer's key copies (iotca_cert_sign_tbs: signed, re-parsed,
 * its TBS compared with tbs, verified) and counts the signature in is->signatures. */
iotca_rc ca_issuer_sign_tbs(ca_issuer *is, iotca_slice tbs, iotca_buf *out);
/* A job for a crypto thread, held by its owner (embedded in what it works on). */
typedef struct ca_crypto_job {
    void (*fn)(struct ca_crypto_job *j);
    struct ca_crypto_job *next;
} ca_crypto_job;
/* Has j->fn(j) run on a crypto thread, in the order posted, and returns at once; without crypto threads, runs
 * it on the calling thread before returning. fn owns what it works on from then: it reports back itself. */
void ca_crypto_post(iotca_ca *ca, ca_crypto_job *j);
/* Stops the crypto threads once they have run every queued job (iotca_ca_close). */
void ca_crypto_stop(iotca_ca *ca);
/* The soonest notAfter after now of a configured cross-certificate of the root that signed issuer_der (the
 * day the chain through it stops being served), or 0: none, or the issuer unreadable. */
time_t ca_cross_end(const iotca_ca *ca, iotca_slice issuer_der, time_t now);
/* A certificate's serial (its INTEGER's content octets) as the inventory spells it: lowercase hex of the
 * magnitude. IOTCA_E_USAGE an empty or over-20-byte serial ("no such certificate"). */
iotca_rc ca_serial_hex(iotca_slice serial, char out[41]);
/* The configured root that signed c, or NULL. */
const iotca_cert *ca_root_of(const iotca_ca *ca, const iotca_cert *c);
/* Loads the issuer with this id (certificate and key) under ca->lock. */
iotca_rc ca_issuer_by_id(iotca_ca *ca, iotca_store *s, int64_t id, ca_issuer **out);

/* Revocation hooks, called by the issuance path, revoke and the tick.
 * CRLs live in crl.c, OCSP in ocsp.c. Each returns IOTCA_OK or a failure that
 * the caller logs or reports; *changes counts work done (may be NULL). */
iotca_rc ca_crl_tick(iotca_ca *ca, iotca_store *s, time_t now, int *changes);
iotca_rc ca_crl_on_revoke(iotca_ca *ca, iotca_store *s, int64_t issuer_id, iotca_revoke_note *note);
iotca_rc ca_ocsp_tick(iotca_ca *ca, iotca_store *s, time_t now, int *changes);
iotca_rc ca_ocsp_on_revoke(iotca_ca *ca, iotca_store *s, const char *serial);
/* Drops the cached OCSP answers of certificates revoked through any process sharing the database since this
 * one last looked (the store's revocation feed; read only when the revocation signal moved, unless always).
 * False if the feed could not be read: the cache may then be
 * stale, and answers must come from the store. */
bool ca_ocsp_follow_revocations(iotca_ca *ca, iotca_store *s, bool always);
/* Drops the responder's cached answers for serial (lowercase hex) once its status changed in the store. */
void ca_ocsp_forget(iotca_ca *ca, const char *serial);

/* Writes the last-used times that requests remembered since the last call (the tick's duty, and at close);
 * on failure they stay remembered for the next try. */
iotca_rc ca_tokens_flush_used(iotca_ca *ca, iotca_store *s);

/* The issuance cycle of issue.c, for a fresh certificate (renews NULL) or a renewal (renew.c): renews is the
 * renewed certificate, owned from the call on whatever happens (freed with the issuance), renews_serial its
 * serial. ca_issue_start is iotca_ca_issue_start's, ca_issue_sync iotca_ca_issue_audited's. */
/* bridge (NULL for any other issuance): a bridge certificate from that issuer, with that justification
 * (bridge.c checks both before; issue.c checks the issuer's state and the profile). */
typedef struct ca_bridge {
    int64_t issuer_id;
    const char *justification;
} ca_bridge;
iotca_rc ca_issue_start(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl, const iotca_issue_audit *audit,
                        iotca_cert *renews, const char *renews_serial, const ca_bridge *bridge,
                        void (*done)(void *arg), void *arg, iotca_issuance **out);
iotca_rc ca_issue_sync(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl, const iotca_issue_audit *audit,
                       iotca_cert *renews, const char *renews_serial, const ca_bridge *bridge, iotca_issued *out);
/* Whether a renewal's decision keeps what the renewed certificate (serial) says: the same subject DER and the
 * same names, in any order (renew.c). IOTCA_E_USAGE naming the difference otherwise. */
iotca_rc ca_renew_check(const iotca_cert *renews, const char *serial, const iotca_decision *d);

/* What an operator does when a group has no issuer that can sign: /readyz (tick.c) and the refusal of an
 * issuance (issue.c) say the same words. */
extern const char *const ca_no_issuer_remedy;

/* Issuer keys (keystore.c): files in key_dir, or on the PKCS#11 token the config names. */
iotca_rc ca_keys_open(iotca_ca *ca, const iotca_ca_config *cfg);
/* A new issuer key: an encrypted file key_dir/issuer-NAME.key, or a key pair on the token; ref (cap bytes) gets
 * the record's key_ref (the path, or the PKCS#11 URI). */
iotca_rc ca_key_new_issuer(iotca_ca *ca, const char *name, iotca_key **key, char *ref, size_t cap);
/* A new key of type: on the token (label) when on_token and a token is open, else key_dir/FILE.key. */
iotca_rc ca_key_new(iotca_ca *ca, const char *file, const char *label, iotca_key_type type, bool on_token,
                    iotca_key **key, char *ref, size_t cap);
/* The key key_ref names, which must be spki's (IOTCA_E_CRYPTO otherwise). */
iotca_rc ca_key_load(iotca_ca *ca, const char *ref, iotca_slice spki, iotca_key **out);
/* Whether key_ref names a key on a token (a PKCS#11 URI) rather than a file. */
bool ca_key_ref_on_token(const char *ref);
/* Removes a key no record uses any more: the file overwritten with zeros, synced and removed (already gone: no
 * failure), or the token's objects destroyed. */
iotca_rc ca_key_discard(iotca_ca *ca, const char *ref);
/* Splits "pkcs11:token=LABEL;id=%xx..." (RFC 7512; other attributes ignored). IOTCA_E_PARSE when malformed. */
iotca_rc ca_key_uri_parse(const char *ref, char label[33], uint8_t id[IOTCA_TOKEN_ID_MAX], size_t *id_len);

#endif
