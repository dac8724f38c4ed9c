/* The CA service: the issuance cycle (policy -> issuer -> serial -> TBS -> lint -> intent -> sign -> verify ->
 * record; lib/ca/issue.c says why in that order), issuer lifecycle, tokens and the periodic tick. The only
 * module that uses policy, issuer and store together; server/ talks to it and never to keys or SQL. */
#ifndef IOTCA_CA_H
#define IOTCA_CA_H

#include "iotca/fleet.h"
#include "iotca/policy.h"
#include "iotca/records.h"

typedef struct iotca_ca iotca_ca;

typedef struct iotca_ca_config {
    const char *db_path;
    const char *key_dir;             /* issuer keys, encrypted PKCS#8, one file each */
    iotca_slice key_passphrase;      /* encrypts issuer keys at rest; copied */
    iotca_key_type issuer_key_type;  /* for new issuers (SPEC §3: P-256 default) */
    const char *default_group;       /* group of new issuers when none is given */
    const iotca_slice *roots;        /* DER trust anchors (>= 1) */
    size_t n_roots;
    /* DER cross-certificates: a configured root's subject and key, signed by another CA (an older root); each
     * makes an alternate chain for leaves under that root (iotca_ca_chain_alternates). May be none. */
    const iotca_slice *cross;
    size_t n_cross;
    const iotca_profile *profiles;   /* borrowed; must outlive the CA */
    size_t n_profiles;
    const char *base_url;            /* public URL for AIA/CRL DP in leaves; NULL: none */
    unsigned kdf_iterations;         /* 0: default */
    /* PostgreSQL (issue 25): libpq's connect timeout (0: 10 s) and each statement's timeout (0: none) */
    unsigned db_connect_timeout_s, db_statement_timeout_ms;
    /* the most database connections the CA opens for its threads' work (0: no limit, one for each thread
     * working at once); as many again to db_read_path. A thread borrows one for a request and gives it back
     * (iotca_ca_store_return); with all of them lent, a thread waits up to db_connect_timeout_s, then the
     * call fails with IOTCA_E_STORAGE (503). The tick's thread keeps one (its lock among replicas). */
    unsigned db_pool_size;
    /* issuer keys on a PKCS#11 token (issue 26): the module, the token by label or by serial number (one), and
     * its user PIN (copied); NULL module: encrypted key files in key_dir */
    const char *pkcs11_module, *pkcs11_token_label, *pkcs11_token_serial;
    iotca_slice pkcs11_pin;
    /* the delegated OCSP responders' keys on the token too (every OCSP answer then signs there, one at a
     * time); false: software keys, encrypted in key_dir */
    bool ocsp_keys_on_token;
    /* PostgreSQL conninfo of a read replica (a hot standby) for OCSP, CRL and inventory reads; NULL: none. A
     * standby must be the primary's synchronous standby (iotca_ca_open refuses it otherwise); this process's
     * commits then wait until it applied them (remote_apply). */
    const char *db_read_path;
} iotca_ca_config;

/* Whether db_path is PostgreSQL conninfo (a postgresql:// URL, or key=value words naming dbname or host) rather
 * than a SQLite file. */
bool iotca_ca_database_is_pg(const char *db_path);
/* Creates the database (if missing) and applies migrations: `iotcad init`. */
iotca_rc iotca_ca_init_db(const char *db_path);
/* The schema version this binary's migrations bring a database to. */
int iotca_ca_schema_version(void);
/* The store's database engine and version, e.g. "SQLite 3.40.1" (for --version). */
const char *iotca_ca_store_engine(void);
/* The crypto library and its ECC build, e.g. "wolfSSL 5.5.4 (generic ECC, no SP)" (for --version). */
const char *iotca_ca_crypto_version(void);
/* The same as fields (iotca_crypto_info, key.h). */
void iotca_ca_crypto_info(iotca_crypto_info *out);
/* The token's state: -1 none configured, 0 its last operation failed (issuance answers 503; it is looked for
 * again once a second), 1 working; *reopened (may be NULL) how often it was found again after failing. */
int iotca_ca_token_up(iotca_ca *ca, unsigned long *reopened);
/* Opens the CA: checks the schema version, parses the roots, opens the PKCS#11 token if one is configured. */
iotca_rc iotca_ca_open(const iotca_ca_config *cfg, iotca_ca **out);
void iotca_ca_close(iotca_ca *ca);
/* Gives the database connections the calling thread borrowed back to the CA's pool (db_pool_size): call it when
 * a request's work is done. A thread that never calls it keeps its connection until it ends. */
void iotca_ca_store_return(iotca_ca *ca);
/* A connection pool's counters (/metrics): max 0 is no limit. */
typedef struct iotca_ca_pool_stats {
    unsigned max, open, lent;
    unsigned long long waited, timed_out; /* lends that had to wait; of which gave up (IOTCA_E_STORAGE) */
} iotca_ca_pool_stats;
/* The primary's pool, or (reader) the read replica's: false (and all zero) when there is none. */
bool iotca_ca_pool_stats_get(iotca_ca *ca, bool reader, iotca_ca_pool_stats *out);
/* Gives back what the calling thread's work left allocated: the page cache of its database handle and of
 * the shared writer's (if no batch is running), and its crypto tables (iotca_crypto_thread_trim). For a
 * thread after occasional work or gone quiet; the caches refill on demand. */
void iotca_ca_release_memory(iotca_ca *ca);
#define IOTCA_CA_MAX_CRYPTO_THREADS 256 /* as many as iotcad allows serving threads (limits.threads) */
/* Starts n threads that do every issuance's public-key work (checking the CSR's signature; signing and
 * verifying the leaf): iotca_ca_issue_start hands it to them and returns. wolfSSL's per-thread point tables
 * (about 12 MB a thread once a fleet's distinct keys fill them) then exist once a crypto thread, however many
 * threads issue at once. Without them (n = 0, the default) the thread that starts an issuance does its own.
 * Once per CA, before issuing; iotca_ca_close stops them after the work queued. A crypto thread quiet for a
 * second gives back its tables. Errors: IOTCA_E_USAGE n above IOTCA_CA_MAX_CRYPTO_THREADS or called twice,
 * IOTCA_E_INTERNAL a thread that cannot start (none are left running). */
iotca_rc iotca_ca_set_crypto_threads(iotca_ca *ca, unsigned n);

/* ---- issuance ---- */

typedef struct iotca_issued {
    char serial[41];
    int64_t issuer_id;
    iotca_buf cert_pem, chain_pem; /* chain: the leaf's issuer up to, not including, the root */
    time_t not_before, not_after;
    /* what was asked and what was granted (seconds): the request's TTL or the profile's default, and notAfter
     * less the time of issuance; capped_by_issuer when the issuer's notAfter (issuer_not_after, of the issuer
     * named issuer_name) cut it short, as no leaf outlives its issuer (SPEC §3) */
    long ttl_asked, ttl_granted;
    bool capped_by_issuer;
    char issuer_name[64];
    time_t issuer_not_after;
    char renews[41]; /* a renewal: the serial renewed; "" otherwise */
} iotca_issued;
void iotca_issued_free(iotca_issued *r);

/* Issues a leaf for csr (PEM or DER) under the named profile; ttl 0 means
 * the profile default. The TBS is linted before the issuer key signs it, and
 * its serial is reserved with what is about to be signed (the TBS's SHA-256,
 * profile, notAfter: iotca_store_serial_intent_get) before it is signed; the
 * certificate is recorded durably before this returns. Errors: IOTCA_E_USAGE
 * unknown profile, IOTCA_E_PARSE malformed CSR, IOTCA_E_CRYPTO CSR signature,
 * IOTCA_E_POLICY a profile rule (named) or no active issuer, IOTCA_E_INTERNAL
 * a lint refusal ("lint: rule R: ..."; nothing signed or recorded),
 * IOTCA_E_STORAGE the database. */
iotca_rc iotca_ca_issue(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl, iotca_issued *out);

/* Who asked for an issuance, for its audit record (all borrowed for the call). */
typedef struct iotca_issue_audit {
    const char *actor, *action, *request_id, *outcome;
} iotca_issue_audit;
/* iotca_ca_issue that also appends the audit record of a successful issuance (subject "certificate
 * <serial> (<profile>)", the given actor, action, request id and outcome) in the same transaction as the
 * certificate: one durable write instead of two. A refusal appends nothing; the caller audits it. */
iotca_rc iotca_ca_issue_audited(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl,
                                const iotca_issue_audit *audit, iotca_issued *out);
/* The same in two steps, for a thread that serves others meanwhile (iotcad's serving threads): start checks
 * the profile and reads the issuer, hands the rest to a crypto thread (iotca_ca_set_crypto_threads; without
 * them it does it itself) and returns; done(arg) is then called once, from a crypto thread or the group
 * commit's thread (or from this one, before start returns), when the record is durable or the issuance has
 * failed. done must be quick and must not call into the CA: it tells the caller to call iotca_ca_issue_end,
 * which gives the outcome and frees the issuance. csr and audit are copied; the profile table in force must
 * outlive the issuance (iotca_ca_set_profiles).
 * Errors of start (nothing pending, done never called, *out NULL): IOTCA_E_USAGE an unknown profile or a NULL
 * argument, IOTCA_E_POLICY no active issuer, IOTCA_E_STORAGE the database. Errors of end: the rest, as
 * iotca_ca_issue's. A refusal is counted by whichever step reports it. */
typedef struct iotca_issuance iotca_issuance;
iotca_rc iotca_ca_issue_start(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl,
                              const iotca_issue_audit *audit, void (*done)(void *arg), void *arg,
                              iotca_issuance **out);
iotca_rc iotca_ca_issue_end(iotca_issuance *issuance, iotca_issued *out);
const iotca_profile *iotca_ca_profile(const iotca_ca *ca, const char *name);
/* A bridge certificate (issue 24, point 4), issued and recorded as iotca_ca_issue_audited issues, but from
 * issuer_id, which must be of the profile's group and retiring (never active, staged, retired or expired),
 * for a profile that allows bridges (bridge_max_ttl > 0, which caps the TTL), with a justification of 1 to
 * 200 printable bytes. The justification and audit->actor (required) are recorded with the certificate
 * (iotca_ca_bridge_list) and the justification in its audit record's detail.
 * IOTCA_E_USAGE: an unknown profile or issuer, no or a bad justification, a TTL over the cap;
 * IOTCA_E_POLICY: a profile without bridges, an issuer that is not retiring, of another group or expired. */
iotca_rc iotca_ca_issue_bridge(iotca_ca *ca, iotca_slice csr, const char *profile, int64_t issuer_id, long ttl,
                               const char *justification, const iotca_issue_audit *audit, iotca_issued *out);
/* The bridges whose notAfter is after now, oldest first (as iotca_store_bridge_list: *out malloc'd, free() it). */
iotca_rc iotca_ca_bridge_list(iotca_ca *ca, time_t now, iotca_bridge_rec **out, size_t *n);
/* The names of the profiles in force that scope allows ("" or NULL: all; as iotca_scope_allows), comma and
 * space separated, in the config's order, into out (cut short with "..." if it does not fit; "none" when
 * there are none). Returns out. For refusals that name an unknown profile. */
const char *iotca_ca_profile_names(const iotca_ca *ca, const char *scope, char *out, size_t size);

/* Renews the recorded certificate serial (lowercase hex): a successor under its profile, with its subject and
 * names, made by the same cycle as iotca_ca_issue_start (policy as the profile stands now, issuer, serial,
 * TBS, lint, intent, signature, record), recorded as renewing it (iotca_cert_rec.renews) and audited as the
 * issuance is. csr empty: the same public key (its possession was proved at its first issuance); else the
 * CSR's key, and what the profile decides for that CSR must be the same subject and names. ttl 0: the
 * profile's default. Errors of start: IOTCA_E_USAGE an unknown serial ("no certificate with serial S") or a
 * profile no longer configured (naming the known ones), IOTCA_E_POLICY a revoked certificate ("... is
 * revoked"), the rest as iotca_ca_issue_start's. Errors of end: IOTCA_E_USAGE the CSR asks for another
 * subject or other names (named), the rest as iotca_ca_issue_end's. */
iotca_rc iotca_ca_renew_start(iotca_ca *ca, const char *serial, iotca_slice csr, long ttl,
                              const iotca_issue_audit *audit, void (*done)(void *arg), void *arg,
                              iotca_issuance **out);
/* The same, whole, on the calling thread. */
iotca_rc iotca_ca_renew(iotca_ca *ca, const char *serial, iotca_slice csr, long ttl, const iotca_issue_audit *audit,
                        iotca_issued *out);

iotca_rc iotca_ca_cert_get(iotca_ca *ca, const char *serial, iotca_cert_rec *out);
iotca_rc iotca_ca_cert_list(iotca_ca *ca, const iotca_cert_filter *f, iotca_cert_rec **out, size_t *n);
/* What a revocation did about its issuer's CRL: published a new one before returning (crl_now), or left it to
 * the next tick, and why (the last CRL was made under a second ago, it took too long to make in the request,
 * or one was being made). */
typedef struct iotca_revoke_note {
    bool crl_now;
    char crl_why[96]; /* empty when crl_now */
} iotca_revoke_note;
/* Revokes the certificate serial (lowercase hex) for reason (iotca_reason): OCSP answers change at once, the
 * CRL as note says (note may be NULL). IOTCA_E_POLICY if it is already revoked, IOTCA_E_USAGE if unknown. */
iotca_rc iotca_ca_cert_revoke(iotca_ca *ca, const char *serial, int reason, iotca_revoke_note *note);

/* ---- issuers ---- */

/* Makes the next issuer's key (encrypted at rest) and CSR; the subject's CN is cn, or when none is given one
 * no other issuer has: "<group> Issuer <YYYY-MM-DD> <6 random hex digits>". */
iotca_rc iotca_ca_issuer_new(iotca_ca *ca, const char *group, const char *cn, int64_t *id, iotca_buf *csr_pem);
/* Imports what iotca-root signed: refuses a certificate that does not match
 * the issuer's key or subject, does not chain to a configured root, is not a
 * CA, or is expired. Stages it for activation at activate_at (0: now; the
 * tick activates it). */
iotca_rc iotca_ca_issuer_import(iotca_ca *ca, int64_t id, iotca_slice cert, time_t activate_at);
iotca_rc iotca_ca_issuers(iotca_ca *ca, iotca_issuer_rec **out, size_t *n);
/* The CSR (PEM, into csr_pem) of pending issuer id, for the ceremony once more; *rec gets its record (freed
 * by the caller). *found false: no such issuer. IOTCA_E_POLICY an issuer that is not pending (named with its
 * state: its CSR was signed already, or its key is gone). */
iotca_rc iotca_ca_issuer_csr(iotca_ca *ca, int64_t id, iotca_issuer_rec *rec, iotca_buf *csr_pem, bool *found);
/* Abandons pending issuer id: its row becomes `abandoned` (final; kept, with its CSR, for the history) together
 * with an audit record (action issuer.abandon; actor and request_id name who asked), then its key file is
 * overwritten with zeros, synced and removed. *found false: no such issuer. IOTCA_E_POLICY an issuer that is
 * not pending (its state named): nothing changes. IOTCA_E_STORAGE the database (nothing changed), or the key
 * file could not be wiped (the issuer is abandoned all the same; the detail names the file). */
iotca_rc iotca_ca_issuer_abandon(iotca_ca *ca, int64_t id, const char *actor, const char *request_id, bool *found);
/* The PEM chain served for an issuer (0: the default group's active one). */
iotca_rc iotca_ca_chain(iotca_ca *ca, int64_t issuer_id, iotca_buf *pem);
/* The alternate chains of issuer_id at now (RFC 8555 §7.4.2's rel="alternate"): for each configured
 * cross-certificate of the root the issuer chains to, valid at now, the issuer's certificate and that
 * cross-certificate as PEM, into pems[0..*n) (at most max; the caller frees each). A cross-certificate past
 * its notAfter makes no chain: a chain through it is the one devices break on. IOTCA_E_POLICY an issuer with
 * no certificate; IOTCA_E_STORAGE the database. */
iotca_rc iotca_ca_chain_alternates(iotca_ca *ca, int64_t issuer_id, time_t now, iotca_buf *pems, size_t max,
                                   size_t *n);
/* The configured roots as PEM, with SPKI SHA-256 pins. */
size_t iotca_ca_root_count(const iotca_ca *ca);
iotca_rc iotca_ca_root(const iotca_ca *ca, size_t i, iotca_buf *pem, uint8_t spki_sha256[32], time_t *not_after,
                       iotca_buf *subject);

/* The periodic duties, all in one function (lib/ca/tick.c lists them): the database write probe, activation
 * of staged issuers whose time has come (rotation preflight again; held ones recorded), expiry of active
 * issuers past their notAfter, retirement, CRL publication, OCSP responder renewal and pre-signed answers,
 * advance warnings (each newly at a threshold goes to the warning sink), the revocation feed, tokens' last use,
 * ACME's expired state, and the rehearsal leaves (ca_rehearsal.h). A staged issuer is also held while a trust
 * profile the rehearsal config requires has not passed its `next` rehearsal. *changes counts what it did. */
iotca_rc iotca_ca_tick(iotca_ca *ca, time_t now, int *changes);
/* Names the calling thread as the one that ticks every interval: it keeps the tick lock of a PostgreSQL store
 * between ticks, so one replica of several runs the once-only duties (activation, expiry, CRLs, OCSP answers,
 * warnings, pruning) until it dies and another's tick takes the lock. Other threads' ticks take it for one
 * tick when it is free, or run those duties anyway when their process leads. */
void iotca_ca_tick_thread(iotca_ca *ca);
/* Whether the tick thread's last tick led (always after a tick on SQLite). */
bool iotca_ca_tick_leader(iotca_ca *ca);
/* Readiness (/readyz) at now: IOTCA_OK, or why the CA cannot serve: IOTCA_E_STORAGE the database does not
 * answer, is at another schema version, or refused the last tick's write; IOTCA_E_UNAVAILABLE an issuer
 * group that has had an active issuer has none that can sign (expired, or retired with no successor). The
 * detail names it, without internals (those went to the log). A fresh CA before its first issuer is ready. */
iotca_rc iotca_ca_readiness(iotca_ca *ca, time_t now);

/* ---- API tokens ---- */

typedef enum iotca_role { IOTCA_ROLE_NONE, IOTCA_ROLE_PROVISIONER, IOTCA_ROLE_ADMIN } iotca_role;
/* Creates a token: returns the secret text once ("iotca_<id>_<secret>");
 * only its SHA-256 is stored. profiles: comma-separated or NULL for all. expires_at: 0 for never, else a
 * time in the future. actor names who made it in the audit record ("local:<user>" for the operator at the
 * host; NULL reads as "cli"). */
iotca_rc iotca_ca_token_create(iotca_ca *ca, iotca_role role, const char *profiles, time_t expires_at,
                               const char *actor, iotca_buf *token);
/* Checks a presented token in constant time; on success fills role and the profile scope (copied into
 * scope, "" = all) and remembers the use in memory (the tick writes it: no write per request).
 * IOTCA_E_USAGE when malformed, unknown, wrong, revoked or expired; the detail says which, naming the
 * token's public id only (for the log; tell the client no more than "unknown or wrong token"). */
iotca_rc iotca_ca_token_check(iotca_ca *ca, const char *token, iotca_role *role, char scope[1024]);
/* An expiry as `iotcad token create --expires` takes it: a duration from now ("90d", "12h", "30m",
 * "3600s") or an RFC 3339 time after now (iotca_time_parse). IOTCA_E_USAGE otherwise. */
iotca_rc iotca_ca_token_expiry_parse(const char *s, time_t now, time_t *out);
/* Every token, oldest first (never a secret or its hash). *out is malloc'd (*n entries); free() it. */
iotca_rc iotca_ca_token_list(iotca_ca *ca, iotca_token_info **out, size_t *n);
/* Revokes token id (16 lowercase hex digits) now, and appends the audit record "token.revoke" by actor in
 * the same transaction; every process on the database refuses it from its next request. *revoked_at (may
 * be NULL) gets the time. IOTCA_E_USAGE for a malformed or unknown id, IOTCA_E_POLICY if already revoked. */
iotca_rc iotca_ca_token_revoke(iotca_ca *ca, const char *id, const char *actor, time_t *revoked_at);
/* True if scope ("" or comma-separated) allows profile. */
bool iotca_scope_allows(const char *scope, const char *profile);

/* Counters for /metrics. */
typedef struct iotca_ca_stats {
    unsigned long issued, refused, revoked;
    unsigned long group_commits, group_writes; /* transactions of the group commit, and the writes they held */
    unsigned long ocsp_cache_hits;             /* OCSP answers served from memory */
    unsigned long feed_revocations;            /* revocations read from the store's feed (any process's) */
} iotca_ca_stats;
void iotca_ca_stats_get(iotca_ca *ca, iotca_ca_stats *out);

/* ---- OCSP (RFC 6960 with the RFC 5019 profile) ---- */

/* Answers a DER OCSPRequest: appends a DER OCSPResponse to out (always a
 * well-formed response: malformedRequest for bytes it cannot parse,
 * unauthorized for issuers it does not serve). *max_age is how long the
 * answer may be cached (seconds until nextUpdate; 0 for errors). Fails only
 * when even an error response cannot be produced. */
iotca_rc iotca_ca_ocsp_respond(iotca_ca *ca, iotca_slice request, iotca_buf *out, long *max_age);

/* ---- advance warnings (SPEC §7) ---- */

typedef enum iotca_warning_kind {
    IOTCA_WARN_ROOT_EXPIRY,      /* a configured root nears its notAfter */
    IOTCA_WARN_ISSUER_EXPIRY,    /* an active or staged issuer nears its notAfter */
    IOTCA_WARN_ROTATION_DUE,     /* an active issuer is due to rotate and no successor is staged */
    IOTCA_WARN_ACTIVATION_HELD,  /* a staged issuer past its activation time, held by rotation preflight */
} iotca_warning_kind;

typedef struct iotca_warning {
    iotca_warning_kind kind;
    int threshold_days;   /* 180, 60 or 30: the tightest threshold crossed */
    long days_left;       /* until expiry or the rotation date (negative: overdue) */
    int64_t issuer_id;    /* 0 for roots */
    char subject[256];
    char message[256];
} iotca_warning;

#define IOTCA_MAX_WARNINGS 32
/* Days an issuer stays active before it is due to rotate (SPEC §3: valid 3
 * years, active for 1). */
#define IOTCA_ISSUER_ACTIVE_DAYS 365

const char *iotca_warning_kind_name(iotca_warning_kind k);
/* Where the tick reports each advance warning once, when it first reaches a threshold (180, 60, 30 days):
 * iotcad logs them. Called from the thread running the tick, without the CA's locks held; fn must not call
 * iotca_ca_tick. NULL: the tick reports none. Set once, before ticking. */
typedef void (*iotca_warning_sink)(void *ctx, const iotca_warning *w);
void iotca_ca_on_warning(iotca_ca *ca, iotca_warning_sink fn, void *ctx);
/* Everything due within 180 days at `now`, tightest first. */
iotca_rc iotca_ca_warnings(iotca_ca *ca, time_t now, iotca_warning *out, size_t *n);

/* ---- trust profiles and rotation preflight (SPEC §7) ---- */

/* A trust profile to register: a device trust store in the field (PEM), the stack that validates it, the
 * devices' end of life, and the lint error codes (e.g. "store.not_root") its registrar acknowledges. */
typedef struct iotca_trust_profile_req {
    const char *name, *pem, *stack;
    time_t until;
    const char *const *acknowledge;
    size_t n_acknowledge;
} iotca_trust_profile_req;
/* Registers a trust profile after linting its store (iotca_lint_trust_store) against the CA certificates
 * served now and next, for its stack and end of life; *lint gets every finding. Names use letters, digits,
 * '-', '_' and '.', under 64 characters (they are a URL path segment). A lint error not
 * acknowledged refuses it: IOTCA_E_POLICY with *lint_refused set, naming the findings, nothing stored.
 * Other errors: IOTCA_E_USAGE a bad stack, date or acknowledged code that is no lint code; IOTCA_E_PARSE a
 * store without certificates; IOTCA_E_POLICY (lint_refused false) a name already registered. */
iotca_rc iotca_ca_trust_profile_add(iotca_ca *ca, const iotca_trust_profile_req *req, iotca_lint_report *lint,
                                    bool *lint_refused, int64_t *id);
iotca_rc iotca_ca_trust_profiles(iotca_ca *ca, iotca_trust_profile_rec **out, size_t *n);
/* The profile named name (its store as PEM) into *out (the caller frees it); *found false when none is.
 * IOTCA_E_USAGE a name that is empty or 64 characters or longer. */
iotca_rc iotca_ca_trust_profile_get(iotca_ca *ca, const char *name, iotca_trust_profile_rec *out, bool *found);
/* Replaces the store, stack and end of life of the profile req->name, after the lint registration runs (the
 * same refusals: IOTCA_E_POLICY with *lint_refused, nothing changed). The change and an audit record
 * (trust_profile.replace: what it is now and what it was, by store SHA-256, stack and date) commit together;
 * the id and created_at stay. *found false (nothing linted or changed) when no profile has that name. */
iotca_rc iotca_ca_trust_profile_replace(iotca_ca *ca, const iotca_trust_profile_req *req, const char *actor,
                                        const char *request_id, iotca_lint_report *lint, bool *lint_refused,
                                        bool *found);
/* Deletes the profile named name; it no longer holds any rotation or activation back. The deletion and an
 * audit record (trust_profile.delete: what it was) commit together. *found false when none had that name. */
iotca_rc iotca_ca_trust_profile_delete(iotca_ca *ca, const char *name, const char *actor, const char *request_id,
                                       bool *found);

#define IOTCA_PREFLIGHT_MAX_BROKEN 16
typedef struct iotca_preflight {
    bool ok;
    bool refused; /* set when an import was refused because of this preflight */
    /* every registered profile the schedule breaks (the first IOTCA_PREFLIGHT_MAX_BROKEN; `more` counts the
     * rest), each with the first date it breaks and why */
    struct {
        char profile[64];
        time_t at;
        char reason[384];
    } broken[IOTCA_PREFLIGHT_MAX_BROKEN];
    size_t n_broken, more;
} iotca_preflight;

/* Would activating issuer `id` (its certificate `cert`) at `activate_at`
 * break a registered trust profile? Checks the schedule of the issuer's group
 * (active now, staged ones at their times, this one at activate_at) against
 * every profile until its end of life; the first break goes into *out. */
iotca_rc iotca_ca_preflight(iotca_ca *ca, int64_t id, iotca_slice cert, time_t activate_at, iotca_preflight *out);

/* iotca_ca_issuer_import with rotation preflight: a schedule that breaks a
 * registered profile is refused (IOTCA_E_POLICY "preflight: ...", details in
 * *pf) unless `justification` (10 to 200 characters) is given. An override goes
 * into the hash-chained audit trail before the import (actor and request_id
 * name who asked): one record with the justification and one per broken
 * profile with its date and reason; iotca_ca_issuer_override shows it. */
iotca_rc iotca_ca_issuer_import_checked(iotca_ca *ca, int64_t id, iotca_slice cert, time_t activate_at,
                                        const char *justification, const char *actor, const char *request_id,
                                        iotca_preflight *pf);
/* The recorded preflight override of issuer id, if any (*found). */
iotca_rc iotca_ca_issuer_override(iotca_ca *ca, int64_t id, iotca_override_rec *out, bool *found);

/* ---- audit trail (issue 7) ---- */

/* Appends an audit record (who, what, about what, request id, outcome,
 * detail). Never pass secrets: tokens are named by their public id. */
iotca_rc iotca_ca_audit(iotca_ca *ca, const char *actor, const char *action, const char *subject,
                        const char *request_id, const char *outcome, const char *detail);

typedef struct iotca_audit_check {
    bool ok;
    int64_t records;
    int64_t bad_seq; /* the first record that does not verify (0 if ok) */
    char reason[256];
    char head[65];   /* hex hash of the last record, for the operator's records */
} iotca_audit_check;
/* Recomputes the hash chain over the whole trail. */
iotca_rc iotca_ca_audit_verify(iotca_ca *ca, iotca_audit_check *out);
/* Reads the whole trail in order, checking the hash chain as audit_verify does, and calls fn with every
 * record and whether the chain still held at it (broken: NULL while it does, else why this record fails;
 * once broken, every later record is reported with the first reason). *out is as audit_verify's. */
typedef void (*iotca_audit_visit)(void *ctx, const iotca_audit_rec *r, const char *broken);
iotca_rc iotca_ca_audit_show(iotca_ca *ca, iotca_audit_visit fn, void *ctx, iotca_audit_check *out);

/* ---- CRLs (RFC 5280 §5) ---- */

/* Opens the issuer's current CRL: *meta describes it (number, thisUpdate,
 * nextUpdate, size in bytes, entries; der stays empty) and *fd reads its DER
 * (the caller closes it). A publishing issuer without a CRL yet gets its
 * first one now. IOTCA_E_USAGE "no CRL ..." for unknown, pending and staged
 * issuers; IOTCA_E_STORAGE when the database or the CRL file fails. */
iotca_rc iotca_ca_crl_open(iotca_ca *ca, int64_t issuer_id, iotca_crl_rec *meta, int *fd);
/* As iotca_ca_crl_open, with the DER read into out->der (at most
 * IOTCA_BUF_MAX bytes: for tests and tools, not for serving). */
iotca_rc iotca_ca_crl(iotca_ca *ca, int64_t issuer_id, iotca_crl_rec *out);
/* The description of the issuer's current CRL without generating or opening
 * anything (for metrics); IOTCA_E_USAGE if it has none. */
iotca_rc iotca_ca_crl_info(iotca_ca *ca, int64_t issuer_id, iotca_crl_rec *out);
/* Imports a root CRL made by iotca-root: its signature must verify with a
 * configured root and its number must exceed the stored one. *root_index is
 * the 1-based position of that root in the config. */
iotca_rc iotca_ca_root_crl_import(iotca_ca *ca, iotca_slice crl, size_t *root_index, uint64_t *number);
/* The imported CRL of the root at 1-based root_index (DER in out->der). */
iotca_rc iotca_ca_root_crl(iotca_ca *ca, size_t root_index, iotca_crl_rec *out);

/* ---- profiles (issue 7: config reload) ---- */

/* Replaces the CA's profile table with the n profiles at `profiles` (borrowed, as in iotca_ca_config),
 * validating each first: on IOTCA_E_USAGE (an invalid or duplicated profile, named) nothing changes. Safe
 * against concurrent issuance: the table changes under the CA's lock, and iotca_ca_profile (which takes that
 * lock; never call it holding ca->lock) returns either an old or a new profile. Issuance keeps using the
 * profile it looked up, so the caller must keep the previous table alive until every issuance that may have
 * looked it up has returned, and this table until it is replaced or the CA is closed. */
iotca_rc iotca_ca_set_profiles(iotca_ca *ca, const iotca_profile *profiles, size_t n);

#endif
