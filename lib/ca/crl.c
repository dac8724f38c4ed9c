/* Per-issuer CRLs (RFC 5280 §5): streamed from the store into a file next to the database, signed by the
 * issuer, numbered durably; regenerated after revocations (debounced) and by the tick before nextUpdate;
 * retiring and retired issuers keep publishing while any of their leaves can be valid. Also the root
 * CRLs imported from the offline ceremony.
 *
 * Where the revocation list could be large, nothing holds it: the store's cursor feeds the streaming
 * encoder one row at a time, the encoder spills entries past 1 MiB to an unlinked file in the CRL
 * directory and hashes the TBS incrementally, the key signs the digest, and the DER goes straight into
 * crl/<issuer>-<number>.crl, which the HTTP server sends from the file descriptor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca_internal.h"
#include "iotca/clock.h"

#define DAY 86400
/* thisUpdate to nextUpdate. Relying parties may use a CRL until its nextUpdate, so this bounds how long
 * a CRL that stopped being refreshed stays usable; a week is common practice for issuing CAs (the
 * CA/Browser Forum baseline requirements allow ten days). */
#define CRL_VALIDITY (7 * DAY)
/* The tick makes a new CRL once less than half of its validity is left: a relying party fetching late
 * still gets days of validity, and a broken tick has 3.5 days to be noticed before CRLs go stale. */
#define CRL_REFRESH (CRL_VALIDITY / 2)
/* thisUpdate is backdated a minute for relying parties whose clocks run slightly behind. */
#define BACKDATE 60
/* A revoked certificate leaves the CRL a day after it expires (RFC 5280 §3.3 allows removing expired
 * entries; the day absorbs relying parties' clock skew). */
#define EXPIRED_GRACE DAY
/* Revocation debounce. The revoking request regenerates the CRL itself only when the issuer's last CRL
 * was finished at least CRL_DEBOUNCE_MS ago and had at most CRL_SYNC_MAX_ENTRIES entries; otherwise (a
 * burst of revocations, or a revocation list long enough that making it would stall the request) the
 * revocation stays counted in the store and the next tick (tick_interval_s) publishes it with all others
 * since. The size, not the time the last one took: a time measured on a busy machine (or one that included
 * decrypting the issuer's key) would send a small list to the tick at random. bench/README.md has what a
 * CRL of each size costs. */
#define CRL_DEBOUNCE_MS 1000
#define CRL_SYNC_MAX_ENTRIES 20000

/* One generation at a time in this process: the tick and a revoking request may both want one. Other
 * processes sharing the database reserve distinct numbers and the store keeps the highest. */
static pthread_mutex_t crl_mu = PTHREAD_MUTEX_INITIALIZER;

/* The CRL directory: "crl" next to the database file; on PostgreSQL (issue 25), next to the key directory,
 * which every replica shares already (each replica serves the CRL any of them made). */
static iotca_rc crl_dir(const iotca_ca *ca, char out[PATH_MAX]) {
    const char *beside = iotca_store_is_pg_conninfo(ca->db_path) ? ca->key_dir : ca->db_path;
    size_t end = strlen(beside);
    while (end > 1 && beside[end - 1] == '/') end--; /* "keys/" is the directory keys */
    const char *slash = memrchr(beside, '/', end);
    int n = slash ? snprintf(out, PATH_MAX, "%.*s/crl", (int)(slash - beside), beside) : snprintf(out, PATH_MAX, "crl");
    IOTCA_ENSURE(n > 0 && n < PATH_MAX - 64, IOTCA_E_USAGE, "database path too long for a CRL directory");
    return IOTCA_OK;
}

static iotca_rc crl_path(const char *dir, int64_t issuer_id, uint64_t number, const char *suffix, char out[PATH_MAX]) {
    int n = snprintf(out, PATH_MAX, "%s/%lld-%llu.crl%s", dir, (long long)issuer_id, (unsigned long long)number, suffix);
    IOTCA_ENSURE(n > 0 && n < PATH_MAX, IOTCA_E_USAGE, "CRL path too long");
    return IOTCA_OK;
}

/* ---- generation ------------------------------------------------------ */

typedef struct feed {
    iotca_crl_stream *st;
    iotca_buf serial; /* reused for every row */
} feed;

static iotca_rc add_revoked(void *ctx, const iotca_revoked_rec *r) {
    feed *f = ctx;
    iotca_buf_clear(&f->serial);
    IOTCA_GUARD(iotca_hex_decode(r->serial, &f->serial));
    /* a stored reason the CRL cannot carry (RFC 5280 §5.3.1) is published as unspecified rather than
     * holding up the whole CRL */
    int reason = r->reason >= 0 && r->reason <= 10 && r->reason != 7 ? r->reason : IOTCA_REASON_UNSPECIFIED;
    iotca_crl_entry e = {iotca_buf_slice(&f->serial), r->revoked_at, (iotca_reason)reason};
    return iotca_crl_stream_add(f->st, &e);
}

static iotca_rc fd_sink(void *ctx, const uint8_t *p, size_t n) {
    int fd = *(int *)ctx;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        IOTCA_ENSURE(w > 0, IOTCA_E_STORAGE, "writing a CRL file: %s", w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return IOTCA_OK;
}

/* Writes the signed CRL to dir/<id>-<number>.crl durably: a temporary name, fsync, rename, fsync of the
 * directory, so a reader never sees a partial file and a crash leaves either nothing or the whole CRL. */
static iotca_rc write_file(iotca_crl_stream *st, const char *dir, int64_t id, uint64_t number, uint64_t *size) {
    char tmp[PATH_MAX], final[PATH_MAX];
    IOTCA_GUARD(crl_path(dir, id, number, ".tmp", tmp));
    IOTCA_GUARD(crl_path(dir, id, number, "", final));
    unlink(tmp); /* numbers are never reused, so this is only ever debris of a crash */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    IOTCA_ENSURE(fd >= 0, IOTCA_E_STORAGE, "creating %s: %s", tmp, strerror(errno));
    iotca_rc rc = iotca_crl_stream_write(st, fd_sink, &fd, size);
    if (rc == IOTCA_OK && fsync(fd) != 0) rc = iotca_error_set(IOTCA_E_STORAGE, "syncing %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == IOTCA_OK) rc = iotca_error_set(IOTCA_E_STORAGE, "closing %s: %s", tmp, strerror(errno));
    if (rc == IOTCA_OK && rename(tmp, final) != 0)
        rc = iotca_error_set(IOTCA_E_STORAGE, "renaming %s: %s", tmp, strerror(errno));
    if (rc != IOTCA_OK) {
        unlink(tmp);
        return rc;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return IOTCA_OK;
}

/* Removes the issuer's CRL files older than `keep` (the one published before the current CRL, which a
 * reader may still be opening), and temporary files a crash left behind more than an hour ago. */
static void prune(const char *dir, int64_t id, uint64_t keep, time_t now) {
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long long fid;
        unsigned long long num;
        int used = 0;
        if (sscanf(e->d_name, "%lld-%llu.crl%n", &fid, &num, &used) != 2 || fid != id || used == 0) continue;
        const char *rest = e->d_name + used;
        struct stat sb;
        bool old_tmp = strcmp(rest, ".tmp") == 0 && fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                       sb.st_mtime < now - 3600;
        if ((rest[0] == 0 && num < keep) || old_tmp) unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* Makes and publishes a new CRL for the issuer. Caller holds crl_mu. */
static iotca_rc generate_locked(iotca_ca *ca, iotca_store *s, int64_t issuer_id, time_t now) {
    ca_issuer *is;
    IOTCA_GUARD(ca_issuer_by_id(ca, s, issuer_id, &is));
    char dir[PATH_MAX];
    IOTCA_GUARD(crl_dir(ca, dir));
    IOTCA_ENSURE(mkdir(dir, 0755) == 0 || errno == EEXIST, IOTCA_E_STORAGE, "creating %s: %s", dir, strerror(errno));
    /* the count first, then the cursor: every revocation it counts is visible to the cursor, so the
     * CRL never claims to cover one it lacks (a later one it happens to include costs one extra CRL) */
    int64_t covers;
    IOTCA_GUARD(iotca_store_crl_revocations(s, issuer_id, &covers));
    iotca_crl_rec prev = {0};
    iotca_rc rc = iotca_store_crl_get(s, issuer_id, &prev);
    if (rc != IOTCA_OK && rc != IOTCA_E_USAGE) return rc;
    uint64_t number;
    IOTCA_GUARD(iotca_store_crl_reserve(s, issuer_id, &number));

    const iotca_cert_info *ii = iotca_cert_get(is->cert);
    iotca_crl_spec spec = {ii->subject, ii->skid, now - BACKDATE, now + CRL_VALIDITY, number, NULL, 0};
    feed f = {0};
    IOTCA_GUARD(iotca_crl_stream_new(&spec, is->key, dir, &f.st));
    iotca_crl_rec next = {number, spec.this_update, spec.next_update, {0}, 0, 0, covers};
    IOTCA_TRY(iotca_store_revoked_each(s, issuer_id, now - EXPIRED_GRACE, add_revoked, &f));
    next.entries = iotca_crl_stream_count(f.st);
    IOTCA_TRY(iotca_crl_stream_end(f.st));
    pthread_mutex_lock(&ca->lock); /* one signer per key at a time; only the digest is signed under it */
    rc = iotca_crl_stream_sign(f.st);
    pthread_mutex_unlock(&ca->lock);
    IOTCA_TRY(rc);
    IOTCA_TRY(write_file(f.st, dir, issuer_id, number, &next.size));
    rc = iotca_store_crl_put(s, issuer_id, &next);
    if (rc == IOTCA_E_POLICY) { /* another process published a higher number meanwhile: it stands */
        char path[PATH_MAX];
        if (crl_path(dir, issuer_id, number, "", path) == IOTCA_OK) unlink(path);
        rc = IOTCA_OK;
        goto out;
    }
    IOTCA_TRY(rc);
    prune(dir, issuer_id, prev.number, now);
    pthread_mutex_lock(&ca->lock);
    is->crl_done_ms = iotca_mono_ms();
    is->crl_entries = next.entries;
    pthread_mutex_unlock(&ca->lock);
out:
    iotca_crl_stream_free(f.st);
    iotca_buf_free(&f.serial);
    return rc;
}

static iotca_rc generate(iotca_ca *ca, iotca_store *s, int64_t issuer_id, time_t now) {
    pthread_mutex_lock(&crl_mu);
    iotca_rc rc = generate_locked(ca, s, issuer_id, now);
    pthread_mutex_unlock(&crl_mu);
    return rc;
}

iotca_rc ca_crl_on_revoke(iotca_ca *ca, iotca_store *s, int64_t issuer_id, iotca_revoke_note *note) {
    /* The store counted the revocation in the revoking transaction, so the CRL is due whatever happens
     * here: this only decides whether to publish it now or leave it to the tick (see CRL_DEBOUNCE_MS). */
    memset(note, 0, sizeof *note);
    ca_issuer *is;
    IOTCA_GUARD(ca_issuer_by_id(ca, s, issuer_id, &is));
    pthread_mutex_lock(&ca->lock);
    int64_t done = is->crl_done_ms;
    uint64_t entries = is->crl_entries;
    pthread_mutex_unlock(&ca->lock);
    int64_t age = done ? iotca_mono_ms() - done : -1;
    if (entries > CRL_SYNC_MAX_ENTRIES) {
        snprintf(note->crl_why, sizeof note->crl_why, "the last CRL had %llu entries (over %d)",
                 (unsigned long long)entries, CRL_SYNC_MAX_ENTRIES);
        return IOTCA_OK;
    }
    if (age >= 0 && age < CRL_DEBOUNCE_MS) {
        snprintf(note->crl_why, sizeof note->crl_why, "the last CRL was made %lld ms ago (under %d ms)",
                 (long long)age, CRL_DEBOUNCE_MS);
        return IOTCA_OK;
    }
    if (pthread_mutex_trylock(&crl_mu) != 0) { /* one is being made; the tick follows it */
        snprintf(note->crl_why, sizeof note->crl_why, "a CRL was being made");
        return IOTCA_OK;
    }
    iotca_rc rc = generate_locked(ca, s, issuer_id, time(NULL));
    pthread_mutex_unlock(&crl_mu);
    note->crl_now = rc == IOTCA_OK;
    return rc;
}

iotca_rc ca_crl_tick(iotca_ca *ca, iotca_store *s, time_t now, int *changes) {
    int64_t ids[CA_MAX_ISSUERS];
    size_t n = 0;
    IOTCA_GUARD(iotca_store_crl_due(s, now, now + CRL_REFRESH, ids, CA_MAX_ISSUERS, &n));
    iotca_rc first = IOTCA_OK;
    char detail[512] = "";
    for (size_t i = 0; i < n; i++) { /* one issuer failing does not hold up the others */
        iotca_rc rc = generate(ca, s, ids[i], now);
        if (rc == IOTCA_OK && changes) (*changes)++;
        if (rc != IOTCA_OK && first == IOTCA_OK) {
            first = rc;
            snprintf(detail, sizeof detail, "CRL of issuer %lld: %s", (long long)ids[i], iotca_error_detail());
        }
    }
    return first == IOTCA_OK ? IOTCA_OK : iotca_error_set(first, "%s", detail);
}

/* ---- reading --------------------------------------------------------- */

/* The CRL's record is read from the read replica when there is one (issue 25); a CRL made on demand is made
 * on the primary. */
iotca_rc iotca_ca_crl_info(iotca_ca *ca, int64_t issuer_id, iotca_crl_rec *out) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_read_store(ca, &s));
    return iotca_store_crl_get(s, issuer_id, out);
}

iotca_rc iotca_ca_crl_open(iotca_ca *ca, int64_t issuer_id, iotca_crl_rec *meta, int *fd) {
    iotca_store *s = NULL, *r = NULL;
    IOTCA_GUARD(ca_read_store(ca, &r));
    char dir[PATH_MAX], path[PATH_MAX];
    IOTCA_GUARD(crl_dir(ca, dir));
    uint64_t missing = 0; /* the number whose file was found missing */
    for (int attempt = 0; attempt < 4; attempt++) {
        iotca_rc rc = iotca_store_crl_get(r, issuer_id, meta);
        /* none yet, or its file is gone for good (a restored backup, a wiped directory): a publishing issuer
         * gets a new one now */
        if (rc == IOTCA_E_USAGE || (rc == IOTCA_OK && missing != 0 && meta->number == missing)) {
            iotca_issuer_rec rec = {0};
            IOTCA_GUARD(ca_store(ca, &s));
            rc = iotca_store_issuer_get(s, issuer_id, &rec);
            bool publishes = rc == IOTCA_OK && rec.cert.len && rec.state != IOTCA_ISSUER_PENDING &&
                             rec.state != IOTCA_ISSUER_STAGED;
            iotca_issuer_rec_free(&rec);
            IOTCA_ENSURE(publishes, IOTCA_E_USAGE, "no CRL for issuer %lld", (long long)issuer_id);
            IOTCA_GUARD(generate(ca, s, issuer_id, time(NULL)));
            continue;
        }
        IOTCA_GUARD(rc);
        IOTCA_GUARD(crl_path(dir, issuer_id, meta->number, "", path));
        int f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (f < 0 && errno == ENOENT) { /* replaced twice since we read its number, or lost: look again */
            missing = meta->number;
            continue;
        }
        IOTCA_ENSURE(f >= 0, IOTCA_E_STORAGE, "opening %s: %s", path, strerror(errno));
        struct stat sb;
        if (fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != meta->size) {
            close(f); /* not what was written (files are only ever renamed into place whole): make a new one */
            missing = meta->number;
            continue;
        }
        *fd = f;
        return IOTCA_OK;
    }
    IOTCA_BAIL(IOTCA_E_STORAGE, "the CRL of issuer %lld could not be opened (%s): it kept changing or cannot be made",
               (long long)issuer_id, path);
}

iotca_rc iotca_ca_crl(iotca_ca *ca, int64_t issuer_id, iotca_crl_rec *out) {
    int fd = -1;
    IOTCA_GUARD(iotca_ca_crl_open(ca, issuer_id, out, &fd));
    iotca_rc rc = out->size <= IOTCA_BUF_MAX ? iotca_buf_reserve(&out->der, (size_t)out->size)
                                             : iotca_error_set(IOTCA_E_USAGE, "the CRL is too large to load (%llu bytes)",
                                                               (unsigned long long)out->size);
    while (rc == IOTCA_OK && out->der.len < out->size) {
        ssize_t got = read(fd, out->der.data + out->der.len, (size_t)out->size - out->der.len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) rc = iotca_error_set(IOTCA_E_STORAGE, "reading a CRL file: %s", got < 0 ? strerror(errno) : "short");
        else out->der.len += (size_t)got;
    }
    close(fd);
    return rc;
}

/* ---- root CRLs -------------------------------------------------------- */

static void root_key(const iotca_cert *root, char hex[65]) {
    uint8_t fp[32];
    iotca_cert_fingerprint(root, fp);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", fp[i]);
}

iotca_rc iotca_ca_root_crl_import(iotca_ca *ca, iotca_slice crl, size_t *root_index, uint64_t *number) {
    iotca_buf der = {0};
    iotca_crl_info info;
    iotca_rc rc = iotca_crl_parse(crl, &der, &info);
    size_t idx = 0;
    if (rc == IOTCA_OK && !info.has_number) rc = iotca_error_set(IOTCA_E_PARSE, "the CRL has no CRL number");
    for (size_t i = 0; rc == IOTCA_OK && i < ca->n_roots && !idx; i++)
        if (iotca_crl_verify(&info, ca->roots[i]) == IOTCA_OK) idx = i + 1;
    if (rc == IOTCA_OK && !idx) rc = iotca_error_set(IOTCA_E_POLICY, "the CRL is not signed by a configured root");
    if (rc == IOTCA_OK && info.next_update <= time(NULL)) rc = iotca_error_set(IOTCA_E_POLICY, "the CRL is already past its nextUpdate");
    iotca_store *s = NULL;
    if (rc == IOTCA_OK) rc = ca_store(ca, &s);
    if (rc == IOTCA_OK) {
        char key[65];
        root_key(ca->roots[idx - 1], key);
        iotca_crl_rec r = {info.number, info.this_update, info.next_update, iotca_buf_borrow(der.data, der.len), 0, 0, 0};
        rc = iotca_store_root_crl_put(s, key, &r);
    }
    if (rc == IOTCA_OK) {
        *root_index = idx;
        *number = info.number;
    }
    iotca_buf_free(&der);
    return rc;
}

iotca_rc iotca_ca_root_crl(iotca_ca *ca, size_t root_index, iotca_crl_rec *out) {
    IOTCA_ENSURE(root_index >= 1 && root_index <= ca->n_roots, IOTCA_E_USAGE, "no root %zu", root_index);
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    char key[65];
    root_key(ca->roots[root_index - 1], key);
    return iotca_store_root_crl_get(s, key, out);
}
