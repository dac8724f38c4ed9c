/* CRL encoding (streaming and in memory), signing and parsing (RFC 5280 §5): v2, AKID, CRL number, reason codes. wolfSSL has no CRL builder. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iotca/der.h"
#include "iotca/oid.h"
#include "iotca/pem.h"
#include "iotca/x509.h"
#include "wolf.h"

#define PIECE ((size_t)64 << 10) /* read/write granularity of the spool and the sink */

static void extension(iotca_der *w, const uint8_t *oid, size_t n) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, oid, n);
    iotca_der_begin(w, IOTCA_DER_OCTET_STRING);
}

static void extension_end(iotca_der *w) {
    iotca_der_end(w);
    iotca_der_end(w);
}

/* A DER identifier and definite minimal length (X.690 §10.1) for content of len bytes; returns its size. */
static size_t der_header(uint8_t tag, uint64_t len, uint8_t out[10]) {
    out[0] = tag;
    if (len < 0x80) {
        out[1] = (uint8_t)len;
        return 2;
    }
    size_t nb = 0;
    for (uint64_t v = len; v; v >>= 8) nb++;
    out[1] = (uint8_t)(0x80 | nb);
    for (size_t i = 0; i < nb; i++) out[2 + i] = (uint8_t)(len >> (8 * (nb - 1 - i)));
    return 2 + nb;
}

/* ---- the stream ------------------------------------------------------ */

struct iotca_crl_stream {
    const iotca_key *signer;
    iotca_buf alg;  /* signature AlgorithmIdentifier */
    iotca_buf head; /* TBSCertList content before revokedCertificates: version .. nextUpdate */
    iotca_buf tail; /* crlExtensions [0] */
    iotca_buf mem;  /* encoded entries not yet spilled to the spool */
    char *spool_dir;
    int spool;                /* unlinked temporary file; -1 until the first spill */
    uint64_t spooled, n, ent; /* bytes in the spool, entries, bytes of all entries */
    enum { ADDING, ENDED, SIGNED } stage;
    uint8_t digest[WC_SHA384_DIGEST_SIZE];
    size_t digest_len;
    iotca_buf whole; /* Ed25519 only: the TBS, signed as a whole message */
    iotca_buf sig;
};

static iotca_rc check_spec(const iotca_crl_spec *s) {
    IOTCA_ENSURE(s->issuer.len > 0 && s->issuer_skid.len > 0, IOTCA_E_USAGE, "CRL needs an issuer name and key id");
    IOTCA_ENSURE(s->next_update > s->this_update, IOTCA_E_USAGE, "nextUpdate must be after thisUpdate");
    IOTCA_ENSURE(s->crl_number < ((uint64_t)1 << 62), IOTCA_E_USAGE, "CRL number out of range");
    return IOTCA_OK;
}

iotca_rc iotca_crl_stream_new(const iotca_crl_spec *s, const iotca_key *signer, const char *spool_dir,
                              iotca_crl_stream **out) {
    IOTCA_ENSURE(s != NULL && signer != NULL && out != NULL, IOTCA_E_USAGE, "iotca_crl_stream_new: NULL argument");
    IOTCA_GUARD(check_spec(s));
    iotca_crl_stream *st = calloc(1, sizeof *st);
    IOTCA_ENSURE(st != NULL, IOTCA_E_INTERNAL, "out of memory");
    st->spool = -1;
    st->signer = signer;
    iotca_rc rc = IOTCA_OK;
    if (spool_dir) IOTCA_CHECK((st->spool_dir = strdup(spool_dir)) != NULL, IOTCA_E_INTERNAL, "out of memory");
    IOTCA_TRY(iotca_key_sigalg(signer, &st->alg));
    iotca_der w;
    iotca_der_init(&w, &st->head); /* RFC 5280 §5.1.2.1-5 */
    iotca_der_int(&w, 1);          /* v2 */
    iotca_der_raw(&w, st->alg.data, st->alg.len);
    iotca_der_raw(&w, s->issuer.p, s->issuer.len);
    iotca_der_time(&w, s->this_update);
    iotca_der_time(&w, s->next_update);
    IOTCA_TRY(iotca_der_finish(&w));
    iotca_der_init(&w, &st->tail);
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(0));
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    extension(&w, IOTCA_OID_EXT_AKID, sizeof IOTCA_OID_EXT_AKID); /* §5.2.1 */
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_prim(&w, IOTCA_DER_CTX(0), s->issuer_skid.p, s->issuer_skid.len);
    iotca_der_end(&w);
    extension_end(&w);
    extension(&w, IOTCA_OID_EXT_CRL_NUMBER, sizeof IOTCA_OID_EXT_CRL_NUMBER); /* §5.2.3 */
    iotca_der_int(&w, (int64_t)s->crl_number);
    extension_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
    *out = st;
    return IOTCA_OK;
out:
    iotca_crl_stream_free(st);
    return rc;
}

void iotca_crl_stream_free(iotca_crl_stream *st) {
    if (st == NULL) return;
    if (st->spool >= 0) close(st->spool);
    iotca_buf_free(&st->alg);
    iotca_buf_free(&st->head);
    iotca_buf_free(&st->tail);
    iotca_buf_free(&st->mem);
    iotca_buf_free(&st->whole);
    iotca_buf_free(&st->sig);
    free(st->spool_dir);
    free(st);
}

uint64_t iotca_crl_stream_count(const iotca_crl_stream *st) { return st->n; }

static iotca_rc write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        IOTCA_ENSURE(w > 0, IOTCA_E_STORAGE, "writing the CRL spool file: %s", w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return IOTCA_OK;
}

/* Moves the in-memory entries to the spool file, creating it (unlinked, 0600) on first use. */
static iotca_rc spill(iotca_crl_stream *st) {
    if (st->spool < 0) {
        const char *dir = st->spool_dir;
        if (dir == NULL) dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        st->spool = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (st->spool < 0) { /* file systems without O_TMPFILE: a named file, unlinked at once */
            char path[PATH_MAX];
            IOTCA_ENSURE((size_t)snprintf(path, sizeof path, "%s/iotca-crl-XXXXXX", dir) < sizeof path, IOTCA_E_USAGE,
                         "CRL spool directory name too long");
            st->spool = mkostemp(path, O_CLOEXEC);
            if (st->spool >= 0) unlink(path);
        }
        IOTCA_ENSURE(st->spool >= 0, IOTCA_E_STORAGE, "cannot create a CRL spool file in %s: %s", dir, strerror(errno));
    }
    IOTCA_GUARD(write_all(st->spool, st->mem.data, st->mem.len));
    st->spooled += st->mem.len;
    iotca_buf_clear(&st->mem);
    return IOTCA_OK;
}

iotca_rc iotca_crl_stream_add(iotca_crl_stream *st, const iotca_crl_entry *e) {
    IOTCA_ENSURE(st->stage == ADDING, IOTCA_E_USAGE, "CRL entry added after the list was closed");
    IOTCA_ENSURE(e->serial.len >= 1 && e->serial.len <= 20, IOTCA_E_USAGE,
                 "bad serial in CRL entry: %zu octets (RFC 5280 §4.1.2.2 allows 1 to 20)", e->serial.len);
    IOTCA_ENSURE((int)e->reason >= 0 && (int)e->reason <= 10 && (int)e->reason != 7, IOTCA_E_USAGE,
                 "bad reasonCode %d in CRL entry (RFC 5280 §5.3.1)", (int)e->reason);
    size_t before = st->mem.len;
    iotca_der w;
    iotca_der_init(&w, &st->mem);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_uint(&w, e->serial.p, e->serial.len);
    iotca_der_time(&w, e->revoked_at);
    if (e->reason != IOTCA_REASON_UNSPECIFIED) { /* §5.3.1: omit the extension for unspecified */
        iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
        extension(&w, IOTCA_OID_EXT_CRL_REASON, sizeof IOTCA_OID_EXT_CRL_REASON);
        uint8_t r = (uint8_t)e->reason;
        iotca_der_prim(&w, IOTCA_DER_ENUMERATED, &r, 1);
        extension_end(&w);
        iotca_der_end(&w);
    }
    iotca_der_end(&w);
    iotca_rc rc = iotca_der_finish(&w);
    if (rc != IOTCA_OK) {
        st->mem.len = before;
        return rc;
    }
    st->ent += st->mem.len - before;
    st->n++;
    return st->mem.len >= IOTCA_CRL_SPILL ? spill(st) : IOTCA_OK;
}

/* Feeds the TBSCertList to fn piece by piece: its header, the fixed fields, the entries (spool, then
 * memory) under their SEQUENCE header (absent when there are none, §5.1.2.6) and the extensions. */
typedef iotca_rc (*piece_fn)(void *ctx, const uint8_t *p, size_t n);

static uint64_t revoked_tlv_len(const iotca_crl_stream *st, uint8_t hdr[10], size_t *hl) {
    *hl = st->n ? der_header(IOTCA_DER_SEQUENCE, st->ent, hdr) : 0;
    return st->n ? *hl + st->ent : 0;
}

static uint64_t tbs_content_len(const iotca_crl_stream *st) {
    uint8_t h[10];
    size_t hl;
    return st->head.len + revoked_tlv_len(st, h, &hl) + st->tail.len;
}

static iotca_rc tbs_pieces(const iotca_crl_stream *st, piece_fn fn, void *ctx) {
    uint8_t th[10], rh[10], *buf = NULL;
    size_t rl;
    revoked_tlv_len(st, rh, &rl);
    IOTCA_GUARD(fn(ctx, th, der_header(IOTCA_DER_SEQUENCE, tbs_content_len(st), th)));
    IOTCA_GUARD(fn(ctx, st->head.data, st->head.len));
    if (st->n) {
        IOTCA_GUARD(fn(ctx, rh, rl));
        iotca_rc rc = IOTCA_OK;
        if (st->spooled) {
            buf = malloc(PIECE);
            IOTCA_ENSURE(buf != NULL, IOTCA_E_INTERNAL, "out of memory");
        }
        for (uint64_t off = 0; off < st->spooled && rc == IOTCA_OK;) {
            size_t want = st->spooled - off < PIECE ? (size_t)(st->spooled - off) : PIECE;
            ssize_t got = pread(st->spool, buf, want, (off_t)off);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) rc = iotca_error_set(IOTCA_E_STORAGE, "reading the CRL spool file: %s",
                                               got < 0 ? strerror(errno) : "it is shorter than written");
            else rc = fn(ctx, buf, (size_t)got);
            off += got > 0 ? (uint64_t)got : 0;
        }
        free(buf);
        IOTCA_GUARD(rc);
        IOTCA_GUARD(fn(ctx, st->mem.data, st->mem.len));
    }
    return fn(ctx, st->tail.data, st->tail.len);
}

typedef struct hashing {
    wc_HashAlg h;
    enum wc_HashType type;
} hashing;

static iotca_rc hash_piece(void *ctx, const uint8_t *p, size_t n) {
    hashing *hs = ctx;
    IOTCA_ENSURE(n == 0 || wc_HashUpdate(&hs->h, hs->type, p, (word32)n) == 0, IOTCA_E_CRYPTO, "hashing failed");
    return IOTCA_OK;
}

static iotca_rc collect_piece(void *ctx, const uint8_t *p, size_t n) { return iotca_buf_append(ctx, p, n); }

iotca_rc iotca_crl_stream_end(iotca_crl_stream *st) {
    IOTCA_ENSURE(st->stage == ADDING, IOTCA_E_USAGE, "CRL already ended");
    st->digest_len = iotca_key_digest_len(st->signer);
    if (st->digest_len == 0) { /* Ed25519 signs the message itself (RFC 8410 §6): it has to be in memory */
        IOTCA_GUARD(tbs_pieces(st, collect_piece, &st->whole));
    } else {
        hashing hs = {.type = st->digest_len == WC_SHA384_DIGEST_SIZE ? WC_HASH_TYPE_SHA384 : WC_HASH_TYPE_SHA256};
        IOTCA_ENSURE(wc_HashInit(&hs.h, hs.type) == 0, IOTCA_E_CRYPTO, "hash init failed");
        iotca_rc rc = tbs_pieces(st, hash_piece, &hs);
        if (rc == IOTCA_OK && wc_HashFinal(&hs.h, hs.type, st->digest) != 0)
            rc = iotca_error_set(IOTCA_E_CRYPTO, "hashing failed");
        wc_HashFree(&hs.h, hs.type);
        IOTCA_GUARD(rc);
    }
    st->stage = ENDED;
    return IOTCA_OK;
}

iotca_rc iotca_crl_stream_sign(iotca_crl_stream *st) {
    IOTCA_ENSURE(st->stage == ENDED, IOTCA_E_USAGE, "a CRL is signed once, after its entries are ended");
    iotca_buf_clear(&st->sig);
    if (st->digest_len) IOTCA_GUARD(iotca_key_sign_digest(st->signer, st->digest, st->digest_len, &st->sig));
    else IOTCA_GUARD(iotca_key_sign(st->signer, iotca_buf_slice(&st->whole), &st->sig));
    st->stage = SIGNED;
    return IOTCA_OK;
}

/* Sink adapter counting what goes through. */
typedef struct counting {
    iotca_crl_sink sink;
    void *ctx;
    uint64_t len;
} counting;

static iotca_rc count_piece(void *ctx, const uint8_t *p, size_t n) {
    counting *c = ctx;
    if (n == 0) return IOTCA_OK;
    c->len += n;
    return c->sink(c->ctx, p, n);
}

iotca_rc iotca_crl_stream_write(iotca_crl_stream *st, iotca_crl_sink sink, void *ctx, uint64_t *len) {
    IOTCA_ENSURE(st->stage == SIGNED, IOTCA_E_USAGE, "a CRL is written after it is signed");
    /* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING } (§5.1) */
    uint8_t oh[10], th[10], bh[10], zero = 0;
    uint64_t tbs = tbs_content_len(st);
    uint64_t tbs_tlv = der_header(IOTCA_DER_SEQUENCE, tbs, th) + tbs;
    size_t bl = der_header(IOTCA_DER_BIT_STRING, st->sig.len + 1, bh);
    uint64_t content = tbs_tlv + st->alg.len + bl + 1 + st->sig.len;
    counting c = {sink, ctx, 0};
    IOTCA_GUARD(count_piece(&c, oh, der_header(IOTCA_DER_SEQUENCE, content, oh)));
    IOTCA_GUARD(tbs_pieces(st, count_piece, &c));
    IOTCA_GUARD(count_piece(&c, st->alg.data, st->alg.len));
    IOTCA_GUARD(count_piece(&c, bh, bl));
    IOTCA_GUARD(count_piece(&c, &zero, 1)); /* no unused bits */
    IOTCA_GUARD(count_piece(&c, st->sig.data, st->sig.len));
    if (len) *len = c.len;
    return IOTCA_OK;
}

/* ---- the whole CRL in memory ---------------------------------------- */

static iotca_rc buf_sink(void *ctx, const uint8_t *p, size_t n) { return iotca_buf_append(ctx, p, n); }

iotca_rc iotca_crl_sign(const iotca_crl_spec *s, const iotca_key *signer, iotca_buf *out) {
    iotca_crl_stream *st = NULL;
    IOTCA_GUARD(iotca_crl_stream_new(s, signer, NULL, &st));
    iotca_rc rc = IOTCA_OK;
    size_t keep = out->len;
    for (size_t i = 0; i < s->n_entries; i++) {
        rc = iotca_crl_stream_add(st, &s->entries[i]);
        IOTCA_CHECK(rc == IOTCA_OK, rc, "CRL entry %zu: %s", i, iotca_error_detail());
    }
    IOTCA_TRY(iotca_crl_stream_end(st));
    IOTCA_TRY(iotca_crl_stream_sign(st));
    IOTCA_TRY(iotca_crl_stream_write(st, buf_sink, out, NULL));
out:
    if (rc != IOTCA_OK) out->len = keep;
    iotca_crl_stream_free(st);
    return rc;
}

/* ---- parsing --------------------------------------------------------- */

iotca_rc iotca_crl_parse(iotca_slice in, iotca_buf *der, iotca_crl_info *info) {
    memset(info, 0, sizeof *info);
    IOTCA_GUARD(iotca_pem_or_der(in, "X509 CRL", der));
    iotca_tlv list, tbs, alg, sig, ver, talg, iss, tu, nu, t;
    bool has;
    IOTCA_GUARD(iotca_der_single(iotca_buf_slice(der), IOTCA_DER_SEQUENCE, &list));
    iotca_slice l = list.val;
    IOTCA_GUARD(iotca_der_expect(&l, IOTCA_DER_SEQUENCE, &tbs));
    IOTCA_GUARD(iotca_der_expect(&l, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&l, IOTCA_DER_BIT_STRING, &sig));
    IOTCA_ENSURE(l.len == 0 && sig.val.len >= 2 && sig.val.p[0] == 0, IOTCA_E_PARSE, "malformed CRL");
    iotca_slice b = tbs.val;
    uint64_t v;
    IOTCA_GUARD(iotca_der_expect(&b, IOTCA_DER_INTEGER, &ver));
    IOTCA_GUARD(iotca_der_read_uint(&ver, &v));
    IOTCA_ENSURE(v == 1, IOTCA_E_PARSE, "only v2 CRLs are accepted");
    IOTCA_GUARD(iotca_der_expect(&b, IOTCA_DER_SEQUENCE, &talg));
    IOTCA_ENSURE(iotca_slice_eq(talg.tlv, alg.tlv), IOTCA_E_PARSE, "inner and outer CRL signature algorithms differ");
    IOTCA_GUARD(iotca_der_expect(&b, IOTCA_DER_SEQUENCE, &iss));
    IOTCA_GUARD(iotca_der_next(&b, &tu));
    IOTCA_GUARD(iotca_der_read_time(&tu, &info->this_update));
    IOTCA_GUARD(iotca_der_next(&b, &nu));
    IOTCA_GUARD(iotca_der_read_time(&nu, &info->next_update));
    IOTCA_GUARD(iotca_der_optional(&b, IOTCA_DER_SEQUENCE, &t, &has));
    if (has) {
        info->revoked = t.val;
        iotca_slice e = t.val;
        iotca_tlv entry;
        while (e.len) {
            IOTCA_GUARD(iotca_der_expect(&e, IOTCA_DER_SEQUENCE, &entry));
            info->n_entries++;
        }
    }
    IOTCA_GUARD(iotca_der_optional(&b, IOTCA_DER_CTX_CONS(0), &t, &has));
    if (has) {
        iotca_tlv exts;
        IOTCA_GUARD(iotca_der_single(t.val, IOTCA_DER_SEQUENCE, &exts));
        iotca_slice x = exts.val;
        while (x.len) {
            iotca_tlv ext, oid, val, crit;
            bool c;
            IOTCA_GUARD(iotca_der_expect(&x, IOTCA_DER_SEQUENCE, &ext));
            iotca_slice xe = ext.val;
            IOTCA_GUARD(iotca_der_expect(&xe, IOTCA_DER_OID, &oid));
            IOTCA_GUARD(iotca_der_optional(&xe, IOTCA_DER_BOOLEAN, &crit, &c));
            IOTCA_GUARD(iotca_der_expect(&xe, IOTCA_DER_OCTET_STRING, &val));
            if (IOTCA_OID_IS(oid.val, IOTCA_OID_EXT_CRL_NUMBER)) {
                iotca_tlv n;
                IOTCA_GUARD(iotca_der_single(val.val, IOTCA_DER_INTEGER, &n));
                IOTCA_GUARD(iotca_der_read_uint(&n, &info->number));
                info->has_number = true;
            } else if (IOTCA_OID_IS(oid.val, IOTCA_OID_EXT_AKID)) {
                iotca_tlv a, kid;
                bool hk;
                IOTCA_GUARD(iotca_der_single(val.val, IOTCA_DER_SEQUENCE, &a));
                iotca_slice ai = a.val;
                IOTCA_GUARD(iotca_der_optional(&ai, IOTCA_DER_CTX(0), &kid, &hk));
                if (hk) info->akid = kid.val;
            }
        }
    }
    IOTCA_ENSURE(b.len == 0, IOTCA_E_PARSE, "trailing data in TBSCertList");
    info->tbs = tbs.tlv;
    info->sigalg = alg.tlv;
    info->sig = iotca_slice_of(sig.val.p + 1, sig.val.len - 1);
    info->issuer = iss.tlv;
    return IOTCA_OK;
}

iotca_rc iotca_crl_entry_next(iotca_slice *revoked, iotca_crl_entry *out) {
    iotca_tlv entry, ser, date, exts;
    bool has;
    IOTCA_GUARD(iotca_der_expect(revoked, IOTCA_DER_SEQUENCE, &entry));
    iotca_slice e = entry.val;
    IOTCA_GUARD(iotca_der_expect(&e, IOTCA_DER_INTEGER, &ser));
    IOTCA_GUARD(iotca_der_int_magnitude(&ser, &out->serial));
    IOTCA_GUARD(iotca_der_next(&e, &date));
    IOTCA_GUARD(iotca_der_read_time(&date, &out->revoked_at));
    out->reason = IOTCA_REASON_UNSPECIFIED;
    IOTCA_GUARD(iotca_der_optional(&e, IOTCA_DER_SEQUENCE, &exts, &has));
    IOTCA_ENSURE(e.len == 0, IOTCA_E_PARSE, "trailing data in a CRL entry");
    for (iotca_slice x = has ? exts.val : iotca_slice_of(NULL, 0); x.len;) {
        iotca_tlv ext, oid, val, crit, r;
        bool c;
        IOTCA_GUARD(iotca_der_expect(&x, IOTCA_DER_SEQUENCE, &ext));
        iotca_slice xe = ext.val;
        IOTCA_GUARD(iotca_der_expect(&xe, IOTCA_DER_OID, &oid));
        IOTCA_GUARD(iotca_der_optional(&xe, IOTCA_DER_BOOLEAN, &crit, &c));
        IOTCA_GUARD(iotca_der_expect(&xe, IOTCA_DER_OCTET_STRING, &val));
        if (!IOTCA_OID_IS(oid.val, IOTCA_OID_EXT_CRL_REASON)) continue;
        IOTCA_GUARD(iotca_der_single(val.val, IOTCA_DER_ENUMERATED, &r));
        IOTCA_ENSURE(r.val.len == 1 && r.val.p[0] <= 10, IOTCA_E_PARSE, "bad reasonCode in a CRL entry");
        out->reason = (iotca_reason)r.val.p[0];
    }
    return IOTCA_OK;
}

iotca_rc iotca_crl_verify(const iotca_crl_info *info, const iotca_cert *ca) {
    IOTCA_ENSURE(iotca_slice_eq(info->issuer, iotca_cert_get(ca)->subject), IOTCA_E_CRYPTO,
                 "the CRL's issuer is not this CA");
    return iotca_verify(iotca_cert_get(ca)->spki, info->sigalg, info->tbs, info->sig);
}
