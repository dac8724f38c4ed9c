/* The store interface: everything iotcad persists (SQLite, PostgreSQL coming: issue 25), behind prepared statements. */
#ifndef IOTCA_STORE_H
#define IOTCA_STORE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "iotca/buf.h"
#include "iotca/records.h"

/* An opened database. One handle per thread: a handle is not shared between
 * threads (open one per worker; SQLite WAL lets them read concurrently). */
typedef struct iotca_store iotca_store;

/* Opens the SQLite database at path in WAL mode with synchronous=FULL,
 * foreign keys on and a busy timeout (busy_ms; 0 means 5000).
 * create: make the file if missing (iotcad init), else it must exist.
 * Does not migrate. IOTCA_E_STORAGE with SQLite's message on failure
 * (missing file, not a database, read-only, locked). */
iotca_rc iotca_store_open(const char *path, bool create, int busy_ms, iotca_store **out);
/* Whether path names a PostgreSQL database (a postgresql:// or postgres:// URL, or libpq's key=value words with
 * dbname= or host=): iotca_store_open then connects to it (issue 25; create and busy_ms do not apply), and the
 * store functions not yet written for PostgreSQL refuse with IOTCA_E_STORAGE "not available on PostgreSQL yet". */
bool iotca_store_is_pg_conninfo(const char *path);
/* The database engine and its version at run time, e.g. "SQLite 3.40.1" (a static string, for --version). */
const char *iotca_store_engine(void);
void iotca_store_close(iotca_store *s);
/* Whether a transaction is open on s (one a caller began and has not ended). */
bool iotca_store_in_transaction(iotca_store *s);
/* Gives back the page cache memory of s that no statement is using (sqlite3_db_release_memory); the cache
 * refills from the file as pages are read again. NULL is ignored. */
void iotca_store_release_memory(iotca_store *s);

/* ---- group commit (lib/store/group.c) ----
 * Writes of many threads that share one transaction, so one fsync (synchronous=FULL) covers a batch.
 * One group per database per process; any thread's handle may be passed. */
typedef struct iotca_store_group iotca_store_group;
/* db_path (may be NULL): the database, for the group's own writer connection that every batch runs on (so
 * its page cache stays warm), a committer thread that commits the writes nobody waits for
 * (iotca_store_group_notify), and a checkpointer thread with its own handle that checkpoints the WAL when a
 * batch grew it past the threshold, so no request pays for a checkpoint. Without a path, batches run on
 * the leading thread's `s` and that thread checkpoints after releasing the group. IOTCA_E_STORAGE if the
 * writer cannot be opened. */
iotca_rc iotca_store_group_new(const char *db_path, iotca_store_group **out);
void iotca_store_group_free(iotca_store_group *g); /* NULL is ignored; no write may be in flight */
/* A write to run inside the shared transaction: it must not BEGIN or COMMIT itself (the store's own
 * writers notice an open transaction and join it). It runs on the group's writer connection (or on the
 * `s` of whichever thread leads the batch), under a SAVEPOINT: if it fails, only its own changes are
 * undone. */
typedef iotca_rc (*iotca_store_write_fn)(iotca_store *s, void *arg);
/* Runs fn(arg) in the next group transaction and returns once that transaction committed (fn's result,
 * or IOTCA_E_STORAGE if the commit failed: then nothing of the batch was written). */
iotca_rc iotca_store_group_write(iotca_store_group *g, iotca_store *s, iotca_store_write_fn fn, void *arg);
/* The same in two steps, so a thread can queue a write, do other work, then wait for it: writes are
 * committed in the order they were submitted (a later write's commit implies every earlier one's). A
 * submitted write MUST be waited for before w (and arg) go out of scope, on every path. */
typedef struct iotca_store_write {
    iotca_store_write_fn fn;
    void *arg;
    iotca_rc rc;
    char detail[512]; /* a failure's detail, handed back to the submitting thread */
    bool queued, done;
    bool waited;     /* group-internal: its owner waits for a batch (or one took it) */
    bool taken;      /* group-internal: a batch took it */
    pthread_t owner; /* group-internal: the submitting thread */
    void (*notify)(void *arg); /* group-internal: set by iotca_store_group_notify */
    void *notify_arg;
    struct iotca_store_write *next, *next_notify;
} iotca_store_write;
void iotca_store_group_submit(iotca_store_group *g, iotca_store_write *w, iotca_store_write_fn fn, void *arg);
iotca_rc iotca_store_group_wait(iotca_store_group *g, iotca_store *s, iotca_store_write *w);
/* Instead of waiting: has fn(arg) called once w, submitted by this thread, is done — at once on this thread
 * if it already is, else on the thread that committed its batch (the group's committer thread, or a thread
 * waiting for another write), outside the group's lock. fn must be quick and must not call into the group.
 * Like a wait, it tells the group this thread works no more towards its queued writes (no batch waits for
 * them). w (and arg) belong to the group until fn is called; read the result with
 * iotca_store_group_result. IOTCA_E_USAGE (fn never called) for a group without a database path, which has
 * no committer thread, or a write never submitted; w must then still be waited for. */
iotca_rc iotca_store_group_notify(iotca_store_group *g, iotca_store_write *w, void (*fn)(void *arg), void *arg);
/* The result of a write whose notification ran: IOTCA_OK or its error, with its detail set. */
iotca_rc iotca_store_group_result(iotca_store_group *g, const iotca_store_write *w);
/* How long (microseconds, 0 for not at all) a leader waits for another thread's queued write whose owner
 * has not come to wait yet; IOTCA_SQ_COMMIT_DELAY_US (100) by default. For tests and tuning. */
void iotca_store_group_set_commit_delay(iotca_store_group *g, long microseconds);
/* How many WAL frames a batch may leave before the WAL is checkpointed (by the checkpointer thread, or by
 * the leading thread in a group without a path); IOTCA_SQ_CHECKPOINT_PAGES (4000) by default, at least 1.
 * For tests and tuning. */
void iotca_store_group_set_checkpoint_pages(iotca_store_group *g, int pages);
/* Gives back the writer connection's unused page cache, unless a batch is running (then the group is not
 * idle and the cache is in use). For a daemon gone quiet. */
void iotca_store_group_release_memory(iotca_store_group *g);
/* How many batches committed and writes they held (for /metrics and the benchmark). */
void iotca_store_group_stats(iotca_store_group *g, unsigned long *batches, unsigned long *writes);

/* The schema version this binary knows (the number of schema/ migrations). */
int iotca_store_schema_latest(void);
/* Applies pending migrations in one transaction each. */
iotca_rc iotca_store_migrate(iotca_store *s);
/* Fails unless the database is exactly at the latest version: older says
 * "run iotcad init", newer says the binary is too old. */
iotca_rc iotca_store_check_schema(iotca_store *s);

/* ---- issuers ---- */


/* Inserts a pending issuer (name, group, key_ref, csr); sets r->id. A
 * duplicate name is IOTCA_E_POLICY. */
iotca_rc iotca_store_issuer_add(iotca_store *s, iotca_issuer_rec *r, time_t now);
/* Loads one issuer; IOTCA_E_USAGE "no issuer N" if absent. r is freed first. */
iotca_rc iotca_store_issuer_get(iotca_store *s, int64_t id, iotca_issuer_rec *r);
/* All issuers, ordered by id. *out is a malloc'd array of *n records; free
 * each with iotca_issuer_rec_free and then the array with free(). */
iotca_rc iotca_store_issuer_list(iotca_store *s, iotca_issuer_rec **out, size_t *n);
/* Stores the signed certificate of a pending issuer and makes it staged,
 * activating at activate_at. IOTCA_E_POLICY unless it is pending. */
iotca_rc iotca_store_issuer_stage(iotca_store *s, int64_t id, iotca_slice cert, time_t not_before, time_t not_after,
                                  time_t activate_at, time_t now);
/* Moves an issuer from `from` to `to` atomically, recording an event. When
 * `to` is ACTIVE, the group's current active issuer (if any) becomes
 * RETIRING in the same transaction. IOTCA_E_POLICY if the issuer is not in
 * `from` (someone else moved it). */
iotca_rc iotca_store_issuer_transition(iotca_store *s, int64_t id, iotca_issuer_state from, iotca_issuer_state to,
                                       time_t now);
/* The id of the group's active issuer; IOTCA_E_POLICY "no active issuer in group G" if none. */
iotca_rc iotca_store_issuer_active(iotca_store *s, const char *group, int64_t *id);
/* Moves pending issuer id to abandoned (a final state; the row stays, with its CSR), recording the event.
 * Joins an open transaction (a group write, with the audit record of the change), else runs its own.
 * IOTCA_E_USAGE "no issuer N"; IOTCA_E_POLICY an issuer that is not pending (its state named). */
iotca_rc iotca_store_issuer_abandon(iotca_store *s, int64_t id, time_t now);

/* ---- serials and certificates ---- */

/* Reserves a serial (lowercase hex) for an issuer, durably. A serial already
 * reserved is IOTCA_E_POLICY "serial already used" and reserves nothing. */
iotca_rc iotca_store_serial_reserve(iotca_store *s, const char *serial_hex, int64_t issuer_id, time_t now);
/* What an issuance is about to sign: written with its serial's reservation once the TBS is linted and before
 * the issuer key signs it (the issuance cycle's intent record, lib/ca/issue.c). */
typedef struct iotca_serial_intent {
    char serial[41]; /* lowercase hex */
    int64_t issuer_id;
    char profile[64];
    time_t not_after;
    uint8_t tbs_sha256[32]; /* SHA-256 of the DER TBSCertificate the certificate will carry */
    time_t reserved_at;
} iotca_serial_intent;
/* iotca_store_serial_reserve that also records in's intent in the same row; the same errors, and
 * IOTCA_E_USAGE for an empty or unterminated profile or serial. */
iotca_rc iotca_store_serial_reserve_intent(iotca_store *s, const iotca_serial_intent *in);
/* Loads a serial's reservation into out; *has_intent tells whether it carries an intent (reservations made
 * before schema 0012 and those of OCSP responder certificates do not: then only serial, issuer_id and
 * reserved_at are set). IOTCA_E_USAGE "no serial S" if it was never reserved. */
iotca_rc iotca_store_serial_intent_get(iotca_store *s, const char *serial_hex, iotca_serial_intent *out,
                                       bool *has_intent);


/* Records an issued certificate (its serial must be reserved) durably,
 * before it is returned to anyone; r->renews, if set, names the recorded certificate it renews. */
iotca_rc iotca_store_cert_add(iotca_store *s, const iotca_cert_rec *r);
/* Loads one certificate, with the latest certificate renewing it (renewed_by); IOTCA_E_USAGE "no certificate
 * with serial S". */
iotca_rc iotca_store_cert_get(iotca_store *s, const char *serial_hex, iotca_cert_rec *r);

/* Records that certificate r->serial (recorded in the same transaction, before this) is a bridge: its
 * issuer, justification (1 to 200 bytes), actor and notAfter. IOTCA_E_USAGE for a missing or oversized
 * field; IOTCA_E_POLICY if the certificate is not recorded or is a bridge already. */
iotca_rc iotca_store_bridge_add(iotca_store *s, const iotca_bridge_rec *r);
/* The bridges whose notAfter is after now, oldest first, with their certificate's profile and status. *out is
 * malloc'd (*n entries; free() it); at most 1,000. */
iotca_rc iotca_store_bridge_list(iotca_store *s, time_t now, iotca_bridge_rec **out, size_t *n);

/* ---- rehearsals (issue 24; schema 0021) ---- */

/* Records a rehearsal leaf: for issuer_id > 0, reserves its serial in the serials table (the issuer's serial
 * space: IOTCA_E_POLICY "serial already used" if taken) and stores the leaf, in one transaction (or joining an
 * open one). IOTCA_E_USAGE a bad serial, an empty or oversized scenario, an empty DER or notAfter before
 * notBefore. Never adds to the certificates table. */
iotca_rc iotca_store_rehearsal_leaf_add(iotca_store *s, const iotca_rehearsal_leaf_rec *r);
/* The stored rehearsal leaves whose notAfter is after `now` (all, with now 0), newest first (ties: the greater
 * serial first), without DER; *out
 * malloc'd (*n entries; free() it), at most 1,000. */
iotca_rc iotca_store_rehearsal_leaf_list(iotca_store *s, time_t now, iotca_rehearsal_leaf_rec **out, size_t *n);
/* Deletes the rehearsal leaves whose notAfter is before `before` (their serials stay reserved); *deleted may be
 * NULL. */
iotca_rc iotca_store_rehearsal_leaf_prune(iotca_store *s, time_t before, size_t *deleted);
/* Records a result (r->id is set). IOTCA_E_USAGE an empty or oversized scenario, trust profile, source or actor,
 * a source other than "report" or "handshake", or an oversized note. */
iotca_rc iotca_store_rehearsal_result_add(iotca_store *s, iotca_rehearsal_result_rec *r);
/* The latest result of each (trust profile, scenario) pair, ordered by trust profile then scenario; *out
 * malloc'd (*n entries; free() it), at most 1,000. */
iotca_rc iotca_store_rehearsal_result_latest(iotca_store *s, iotca_rehearsal_result_rec **out, size_t *n);
/* Whether the latest result for (scenario, trust_profile) about the chain of issuer_id passed (*passed false
 * when there is none). */
iotca_rc iotca_store_rehearsal_passed(iotca_store *s, const char *scenario, const char *trust_profile,
                                      int64_t issuer_id, bool *passed);

/* The dashboard's counts over time (issue 27), in weeks from since (week w: [since + w * 7 days, since + (w + 1)
 * * 7 days)), weeks 1 to 5,000: certificates recorded (created_at), revoked (revoked_at), or valid certificates
 * expiring (not_after) per profile. One row per week (and profile) with a count; weeks with none are left out.
 * *out malloc'd (*n rows; free() it). */
iotca_rc iotca_store_weekly(iotca_store *s, iotca_weekly what, time_t since, size_t weeks, iotca_week_count **out,
                            size_t *n);
#define IOTCA_STORE_AUDIT_PATTERNS 8
/* The same for audit records: those whose outcome is LIKE outcome and whose action is LIKE one of actions
 * (NULL-terminated, 1 to IOTCA_STORE_AUDIT_PATTERNS SQL LIKE patterns). What the actions and outcomes spell is
 * the writer's (iotcad writes "<method> <path>" and the status answered); the store only counts. */
iotca_rc iotca_store_weekly_audit(iotca_store *s, time_t since, size_t weeks, const char *const *actions,
                                  const char *outcome, iotca_week_count **out, size_t *n);

/* Lists certificates matching f in serial order (without DER bodies, but with them for a text search).
 * *out is malloc'd (*n entries); free each with iotca_cert_rec_free, then free(). */
iotca_rc iotca_store_cert_list(iotca_store *s, const iotca_cert_filter *f, iotca_cert_rec **out, size_t *n);
/* Marks a certificate revoked with reason and time. IOTCA_E_USAGE if the
 * serial is unknown, IOTCA_E_POLICY "already revoked". */
iotca_rc iotca_store_cert_revoke(iotca_store *s, const char *serial_hex, int reason, time_t at);

/* ---- API tokens ---- */

typedef struct iotca_token_rec {
    char id[33];
    uint8_t hash[32];
    char role[16];       /* "admin" or "provisioner" */
    char profiles[1024]; /* comma-separated; "" means every profile */
    time_t created_at;
    time_t expires_at; /* 0: never */
    time_t revoked_at; /* 0: not revoked */
} iotca_token_rec;

/* Inserts a token; a duplicate id is IOTCA_E_POLICY. */
iotca_rc iotca_store_token_add(iotca_store *s, const iotca_token_rec *t);
/* The tick's write probe: commits one small write (outside any transaction), so a database that refuses
 * writes (full disk, read-only file) shows as IOTCA_E_STORAGE here before an issuance meets it. */
iotca_rc iotca_store_heartbeat(iotca_store *s, time_t now);
/* Loads a token by id; IOTCA_E_USAGE "no such token" if absent. */
iotca_rc iotca_store_token_get(iotca_store *s, const char *id, iotca_token_rec *t);
/* Every token, oldest first, without secrets or hashes. *out is malloc'd (*n entries; free() it). */
iotca_rc iotca_store_token_list(iotca_store *s, iotca_token_info **out, size_t *n);
/* Marks token id revoked at `at`, joining an open transaction (a group write that also appends its audit
 * record). IOTCA_E_USAGE "no such token" if absent; IOTCA_E_POLICY if already revoked (*t holds the token
 * as it was in both success and that case). */
iotca_rc iotca_store_token_revoke(iotca_store *s, const char *id, time_t at, iotca_token_rec *t);
/* When a token was last used, as requests remembered it in memory: one write of n entries in one
 * transaction (the tick's), each keeping the later of the stored and the given time. An id that no longer
 * exists is skipped. */
typedef struct iotca_token_use {
    char id[33];
    time_t at;
} iotca_token_use;
iotca_rc iotca_store_token_used(iotca_store *s, const iotca_token_use *u, size_t n);

/* ---- OCSP ---- */

typedef struct iotca_ocsp_signer_rec {
    int64_t id, issuer_id;
    iotca_buf cert; /* DER */
    char key_ref[512];
    time_t not_after, created_at;
} iotca_ocsp_signer_rec;
void iotca_ocsp_signer_rec_free(iotca_ocsp_signer_rec *r);

/* The issuer's delegated responder with the latest notAfter; IOTCA_E_USAGE
 * "no OCSP signer" if it has none. r is freed first. */
iotca_rc iotca_store_ocsp_signer_current(iotca_store *s, int64_t issuer_id, iotca_ocsp_signer_rec *r);
/* Records a new responder certificate (sets r->id). */
iotca_rc iotca_store_ocsp_signer_add(iotca_store *s, iotca_ocsp_signer_rec *r);

/* What the OCSP responder needs for a serial, read in one statement: the certificate's issuer and
 * revocation state and its stored pre-signed answer. IOTCA_E_USAGE "no certificate with serial S" if none
 * is recorded or the serial is not 1 to 40 lowercase hex digits. When an answer is stored (has_answer; the placeholder
 * row of a certificate never answered has none) its DER is appended to der. out is zeroed first. */
typedef struct iotca_ocsp_lookup {
    int64_t issuer_id;
    bool revoked;
    time_t revoked_at;
    bool has_answer;
    time_t this_update, next_update; /* of the stored answer; 0 without one */
} iotca_ocsp_lookup;
iotca_rc iotca_store_ocsp_lookup(iotca_store *s, const char *serial, iotca_ocsp_lookup *out, iotca_buf *der);
/* Stores (or replaces) the pre-signed response of a recorded certificate. */
iotca_rc iotca_store_ocsp_response_put(iotca_store *s, const char *serial, iotca_slice der, time_t this_update,
                                       time_t next_update);
/* Serials whose response needs signing, at most max (1..10000) into out (malloc'd array of 41-byte
 * strings): first the unexpired certificates recorded after the OCSP mark (schema 0009), oldest first,
 * unless already answered with a next_update from refresh_before on; then answers of the certificates up
 * to the mark whose next_update is before refresh_before, soonest first, through the next_update index
 * (placeholder rows of schema 0008 have next_update 0). Answer rows of expired certificates met on the way
 * are deleted (the responder still answers for them on demand). *mark is set to the rowid to pass to
 * iotca_store_ocsp_mark once every new certificate listed was answered (0: none was looked at). */
iotca_rc iotca_store_ocsp_due(iotca_store *s, time_t now, time_t refresh_before, size_t max, char (**out)[41],
                              size_t *n, int64_t *mark);
/* Moves the OCSP mark to upto (never backwards): certificates up to it are no longer listed as new. Write
 * it in the transaction that stores their answers. */
iotca_rc iotca_store_ocsp_mark(iotca_store *s, int64_t upto);

/* ---- the revocation feed (schema 0015): every revocation in commit order, for processes sharing the
 * database to keep their cached OCSP answers coherent ---- */

/* The newest feed position (0 when nothing was ever revoked): where a process starts following. */
iotca_rc iotca_store_revocations_head(iotca_store *s, int64_t *head);
typedef void (*iotca_revocation_fn)(void *ctx, const char *serial);
/* Calls fn with the serial (lowercase hex) of each revocation after position `after` (0 or more), oldest
 * first, at most max (1..10000) of them; *last is the position of the last one (after, if none). *gap is set
 * when revocations past `after` were pruned before they could be read: the caller must assume any serial
 * may have been revoked. IOTCA_E_USAGE for bad arguments, IOTCA_E_STORAGE if the read fails. */
iotca_rc iotca_store_revocations_since(iotca_store *s, int64_t after, size_t max, iotca_revocation_fn fn, void *ctx,
                                       int64_t *last, bool *gap);
/* Deletes feed rows of revocations before `before`, always keeping the newest; *pruned says how many. */
iotca_rc iotca_store_revocations_prune(iotca_store *s, time_t before, int *pruned);

/* The revocation signal (signal.c): a counter shared by every process on the database, bumped after each
 * committed revocation, so a process reads the feed only when it moved. Opened per process; thread-safe.
 * On PostgreSQL it is this process's own, moved by a thread that LISTENs for the revocations' notifications. */
typedef struct iotca_store_signal iotca_store_signal;
/* Maps <db_path>-revocations (created 0600 if absent); for PostgreSQL conninfo, connects and listens.
 * IOTCA_E_STORAGE if it cannot. */
iotca_rc iotca_store_signal_open(const char *db_path, iotca_store_signal **out);
void iotca_store_signal_close(iotca_store_signal *sig); /* NULL is ignored */
uint64_t iotca_store_signal_read(const iotca_store_signal *sig);
/* Call after the revocation's transaction committed, before telling anyone it is revoked. */
void iotca_store_signal_bump(iotca_store_signal *sig);

/* Settings for every PostgreSQL connection opened from now on (process-wide): libpq's connect_timeout where
 * the conninfo names none (0: 10 s), statement_timeout in ms (0: none), and whether writing connections
 * commit at synchronous_commit = remote_apply (with a read replica: see iotca_store_open_reader). */
void iotca_store_pg_options(unsigned connect_timeout_s, unsigned statement_timeout_ms, bool remote_apply);

/* Opens a read replica's connection (issue 25: a hot standby serving OCSP, CRL and inventory reads), its
 * transactions read-only. When it is a standby (in recovery) and primary is given, primary must list a synchronous standby
 * (synchronous_standby_names): with remote_apply, every write this process reported is then visible there;
 * without one, reads could lag a revocation, and that is IOTCA_E_USAGE. IOTCA_E_STORAGE if it cannot connect. */
iotca_rc iotca_store_open_reader(const char *conninfo, iotca_store *primary, iotca_store **out);

/* ---- the tick's leader (lead.c, issue 25) ---- */

/* Whether this handle's process may run the tick's once-only duties (activation, CRLs, OCSP answers, warnings,
 * pruning): always on SQLite; on PostgreSQL when this connection holds the tick's advisory lock, taking it if it
 * is free. The lock stays with the connection until iotca_store_tick_release or the connection ends, so when
 * a replica dies the next replica's tick takes over. IOTCA_E_STORAGE if the database cannot be asked. */
iotca_rc iotca_store_tick_lead(iotca_store *s, bool *leader);
/* Lets the tick's lock go (PostgreSQL; nothing on SQLite): a caller that took it for one tick only. */
iotca_rc iotca_store_tick_release(iotca_store *s);

/* ---- trust profiles (SPEC §7) ---- */


/* Registers a trust store in the field; a duplicate name is IOTCA_E_POLICY. */
iotca_rc iotca_store_trust_profile_add(iotca_store *s, iotca_trust_profile_rec *r);
/* All profiles by id (malloc'd array; free each record, then the array). */
iotca_rc iotca_store_trust_profile_list(iotca_store *s, iotca_trust_profile_rec **out, size_t *n);
/* The profile named name into *out (freed first), *found set; *found false (out empty) when none is. */
iotca_rc iotca_store_trust_profile_get(iotca_store *s, const char *name, iotca_trust_profile_rec *out, bool *found);
/* Replaces the store, stack and end date of the profile named r->name (its id and created_at stay; r->id and
 * r->created_at are set from the row); *found false when none is named so (nothing changes). */
iotca_rc iotca_store_trust_profile_replace(iotca_store *s, iotca_trust_profile_rec *r, bool *found);
/* Deletes the profile named name; *found false when none was. */
iotca_rc iotca_store_trust_profile_delete(iotca_store *s, const char *name, bool *found);
/* Records that a preflight refusal was overridden for an issuer, why, by whom, and what broke. */
iotca_rc iotca_store_preflight_override_add(iotca_store *s, int64_t issuer_id, const char *justification,
                                            const char *actor, const char *findings, time_t at);
/* The latest override recorded for the issuer, if any (*found). */
iotca_rc iotca_store_preflight_override_get(iotca_store *s, int64_t issuer_id, iotca_override_rec *out, bool *found);

/* ---- audit trail ---- */

/* iotca_audit_rec is in iotca/records.h: the CA hands it to `iotcad audit show`. */

/* The bytes a record's hash covers: every field and the previous hash. */
iotca_rc iotca_audit_canonical(const iotca_audit_rec *r, iotca_buf *out);
/* Hashes data into out (SHA-256); supplied by the caller so the store needs no crypto. */
typedef void (*iotca_hash_fn)(iotca_slice data, uint8_t out[32]);
/* Appends r (seq, prev and hash are assigned here, in one transaction, after
 * the current last record). */
iotca_rc iotca_store_audit_append(iotca_store *s, iotca_audit_rec *r, iotca_hash_fn hash);
/* Calls fn for every record in seq order; fn returning non-OK stops. */
iotca_rc iotca_store_audit_each(iotca_store *s, iotca_rc (*fn)(void *ctx, const iotca_audit_rec *r), void *ctx);

/* ---- CRLs ---- */


/* The description of the issuer's current CRL (der stays empty);
 * IOTCA_E_USAGE "no CRL for issuer N" if none yet. */
iotca_rc iotca_store_crl_get(iotca_store *s, int64_t issuer_id, iotca_crl_rec *r);
/* Records a new current CRL for the issuer (number, dates, size, entries,
 * covers). Its number must be greater than the recorded one (RFC 5280
 * §5.2.3): IOTCA_E_POLICY "... not greater ..." otherwise, and nothing changes. */
iotca_rc iotca_store_crl_put(iotca_store *s, int64_t issuer_id, const iotca_crl_rec *r);
/* Reserves the issuer's next CRL number durably (committed before this
 * returns), so a number is never used twice, even across a crash. */
iotca_rc iotca_store_crl_reserve(iotca_store *s, int64_t issuer_id, uint64_t *number);
/* How many of the issuer's certificates have been revoked, counted by a
 * trigger in each revoking transaction (0 if none). A CRL whose covers is
 * below this is out of date. */
iotca_rc iotca_store_crl_revocations(iotca_store *s, int64_t issuer_id, int64_t *count);
/* Issuers that publish a CRL (active, retiring; retired ones until their
 * certificate's notAfter, as no leaf outlives it) and need a new one: none
 * yet, nextUpdate at or before refresh_before, or revocations it does not
 * cover. At most max ids (by id) go into ids. */
iotca_rc iotca_store_crl_due(iotca_store *s, time_t now, time_t refresh_before, int64_t *ids, size_t max, size_t *n);
/* The same for a root's CRL, keyed by the root's SHA-256 (hex); der holds the CRL. */
iotca_rc iotca_store_root_crl_get(iotca_store *s, const char *root_sha256, iotca_crl_rec *r);
iotca_rc iotca_store_root_crl_put(iotca_store *s, const char *root_sha256, const iotca_crl_rec *r);

typedef struct iotca_revoked_rec {
    char serial[41];
    time_t revoked_at;
    int reason;
} iotca_revoked_rec;
/* Streams the issuer's revoked certificates that expire after min_not_after
 * through one cursor (rows are never gathered: memory stays flat), in no
 * particular order; fn returning non-OK stops and is returned. */
iotca_rc iotca_store_revoked_each(iotca_store *s, int64_t issuer_id, time_t min_not_after,
                                  iotca_rc (*fn)(void *ctx, const iotca_revoked_rec *r), void *ctx);

#endif
