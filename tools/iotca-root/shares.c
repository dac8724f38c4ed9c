/* Custodian shares of the root key's passphrase: Shamir M-of-N over GF(2^8) with libgfshare. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libgfshare.h>

#include "iotca/file.h"
#include "root.h"

/* libgfshare's default randomness is random(); coefficients must come from
 * the CSPRNG or the shares leak the secret. */
static void csprng_fill(unsigned char *buf, unsigned int n) {
    if (iotca_random(buf, n) != IOTCA_OK) {
        fprintf(stderr, "iotca-root: CSPRNG failure while splitting shares\n");
        _exit(70);
    }
}

iotca_rc shares_split(const uint8_t *secret, size_t len, unsigned n, unsigned m, const char *dir,
                      const char *vault_fp_hex) {
    IOTCA_ENSURE(m >= 2 && m <= n && n <= MAX_SHARES, IOTCA_E_USAGE,
                 "shares need 2 <= threshold <= shares <= %d (got %u of %u)", MAX_SHARES, m, n);
    gfshare_fill_rand = csprng_fill;
    unsigned char nrs[MAX_SHARES];
    for (unsigned i = 0; i < n; i++) nrs[i] = (unsigned char)(i + 1);
    uint8_t copy[64], share[64];
    IOTCA_ENSURE(len <= sizeof copy, IOTCA_E_USAGE, "secret too long to share");
    memcpy(copy, secret, len);
    gfshare_ctx *ctx = gfshare_ctx_init_enc(nrs, n, (unsigned char)m, (unsigned)len);
    IOTCA_ENSURE(ctx != NULL, IOTCA_E_INTERNAL, "libgfshare init failed");
    gfshare_ctx_enc_setsecret(ctx, copy);
    iotca_wipe(copy, sizeof copy);
    iotca_rc rc = IOTCA_OK;
    IOTCA_CHECK(mkdir(dir, 0700) == 0, IOTCA_E_STORAGE, "cannot create %s (it must not exist yet)", dir);
    for (unsigned i = 0; i < n && rc == IOTCA_OK; i++) {
        gfshare_ctx_enc_getshare(ctx, (unsigned char)i, share);
        iotca_buf hex = {.secret = true}, body = {.secret = true};
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/share-%u-of-%u.json", dir, i + 1, n);
        rc = iotca_hex_encode(share, len, &hex);
        if (rc == IOTCA_OK)
            rc = iotca_buf_printf(&body,
                                  "{\"iotca_share\": 1, \"vault\": \"%s\", \"index\": %u, \"threshold\": %u, "
                                  "\"shares\": %u, \"share\": \"%s\"}\n",
                                  vault_fp_hex, (unsigned)nrs[i], m, n, (const char *)hex.data);
        if (rc == IOTCA_OK) rc = iotca_file_create(path, body.data, body.len, 0600);
        iotca_buf_free(&hex);
        iotca_buf_free(&body);
    }
out:
    iotca_wipe(share, sizeof share);
    gfshare_ctx_free(ctx);
    return rc;
}

typedef struct share {
    unsigned index, threshold;
    iotca_buf bytes;
} share;

static iotca_rc read_share(const char *path, const char *vault_fp_hex, share *s) {
    iotca_buf raw = {.secret = true};
    iotca_rc rc = secret_file_read(path, 4096, &raw);
    json_t *j = NULL;
    if (rc != IOTCA_OK) goto out;
    json_error_t e;
    j = json_loadb((const char *)raw.data, raw.len, JSON_REJECT_DUPLICATES, &e);
    IOTCA_CHECK(j != NULL, IOTCA_E_PARSE, "share %s is not valid JSON: %s", path, e.text);
    json_int_t idx = 0, thr = 0, ver = 0;
    const char *vault = NULL, *hex = NULL;
    IOTCA_CHECK(json_unpack(j, "{s:I, s:s, s:I, s:I, s:s}", "iotca_share", &ver, "vault", &vault, "index", &idx,
                            "threshold", &thr, "share", &hex) == 0 &&
                    ver == 1,
                IOTCA_E_PARSE, "%s is not an iotca share file", path);
    IOTCA_CHECK(strcmp(vault, vault_fp_hex) == 0, IOTCA_E_USAGE, "%s is a share of another vault", path);
    IOTCA_CHECK(idx >= 1 && idx <= MAX_SHARES && thr >= 2 && thr <= MAX_SHARES, IOTCA_E_PARSE,
                "%s has an invalid index or threshold", path);
    s->index = (unsigned)idx;
    s->threshold = (unsigned)thr;
    s->bytes.secret = true;
    IOTCA_TRY(iotca_hex_decode(hex, &s->bytes));
out:
    if (j) {
        /* wipe the share text Jansson holds before freeing it */
        json_t *h = json_object_get(j, "share");
        if (json_is_string(h)) iotca_wipe((void *)json_string_value(h), json_string_length(h));
        json_decref(j);
    }
    iotca_buf_free(&raw);
    return rc;
}

iotca_rc shares_combine(const char *const *files, size_t n_files, const char *vault_fp_hex, iotca_buf *secret) {
    IOTCA_ENSURE(n_files >= 1 && n_files <= MAX_SHARES, IOTCA_E_USAGE, "no share files given (use --share FILE)");
    share sh[MAX_SHARES];
    memset(sh, 0, sizeof sh);
    iotca_rc rc = IOTCA_OK;
    size_t loaded = 0;
    unsigned char nrs[MAX_SHARES];
    for (; loaded < n_files; loaded++) {
        IOTCA_TRY(read_share(files[loaded], vault_fp_hex, &sh[loaded]));
        nrs[loaded] = (unsigned char)sh[loaded].index;
        for (size_t j = 0; j < loaded; j++)
            IOTCA_CHECK(sh[j].index != sh[loaded].index, IOTCA_E_USAGE, "share %u was given twice", sh[j].index);
        IOTCA_CHECK(sh[loaded].bytes.len == sh[0].bytes.len && sh[loaded].threshold == sh[0].threshold,
                    IOTCA_E_USAGE, "shares do not belong together");
    }
    IOTCA_CHECK(n_files >= sh[0].threshold, IOTCA_E_USAGE, "%zu share(s) given; this vault needs %u", n_files,
                sh[0].threshold);
    gfshare_fill_rand = csprng_fill; /* gfshare_ctx_free scrubs with it */
    gfshare_ctx *ctx = gfshare_ctx_init_dec(nrs, (unsigned)n_files, (unsigned)sh[0].bytes.len);
    IOTCA_CHECK(ctx != NULL, IOTCA_E_INTERNAL, "libgfshare init failed");
    for (size_t i = 0; i < n_files; i++) gfshare_ctx_dec_giveshare(ctx, (unsigned char)i, sh[i].bytes.data);
    secret->secret = true;
    rc = iotca_buf_reserve(secret, sh[0].bytes.len);
    if (rc == IOTCA_OK) {
        gfshare_ctx_dec_extract(ctx, secret->data + secret->len);
        secret->len += sh[0].bytes.len;
    }
    gfshare_ctx_free(ctx);
out:
    for (size_t i = 0; i < loaded + 1 && i < MAX_SHARES; i++) iotca_buf_free(&sh[i].bytes);
    return rc;
}
