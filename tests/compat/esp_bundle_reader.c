/* A test reader of ESP-IDF certificate bundles, written from the two layouts (not from ESP-IDF's code), with mbedTLS
 * (the stack ESP-IDF verifies with) checking that an entry's key really signs a certificate the daemon issued.
 *
 *   new    (ESP-IDF >= 5.4): n little-endian u32 offsets from the blob's start, n = offsets[0] / 4, each entry
 *          starting where the previous one ends; entry = u16 LE name_len, u16 LE key_len, name, key.
 *   legacy (ESP-IDF <= 5.3): u16 BE count; entries = u16 BE name_len, u16 BE key_len, name, key.
 *
 * Usage: esp-bundle-reader new|legacy BUNDLE [--dump DIR] [--verify CERT.pem]
 *   Checks the layout strictly (every length inside the blob, nothing after the last entry, at most 200
 *   entries, names strictly ascending in memcmp order with a shorter prefix first, as the readers' binary
 *   search needs), prints one line per entry, and with --dump writes DIR/<i>.name.der and DIR/<i>.key.der.
 *   --verify finds CERT's issuer by the readers' binary search on the subject bytes and verifies CERT's
 *   signature with that entry's key (mbedtls_pk_parse_public_key, mbedtls_pk_verify_ext).
 * Exit: 0 fine, 1 malformed bundle or the certificate not verified, 2 usage or I/O. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#define MAX_ENTRIES 200 /* CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_MAX_CERTS default */

typedef struct entry {
    const uint8_t *name, *key;
    size_t name_len, key_len;
} entry;

static entry entries[MAX_ENTRIES];
static size_t n_entries;

static int bad(const char *why) {
    printf("malformed bundle: %s\n", why);
    return 1;
}

static unsigned le16(const uint8_t *p) { return p[0] | (unsigned)p[1] << 8; }
static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t le32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int decode_new(const uint8_t *b, size_t size) {
    if (size < 8) return bad("too small for one offset and one entry header");
    uint32_t first = le32(b);
    if (first == 0 || first % 4 != 0 || first >= size) return bad("first offset is not 4 * count inside the blob");
    n_entries = first / 4;
    if (n_entries > MAX_ENTRIES) return bad("more than 200 entries");
    for (size_t i = 0; i < n_entries; i++) {
        uint64_t off = le32(b + 4 * i);
        if (off + 4 > size) return bad("an offset points past the end");
        entry *e = &entries[i];
        e->name_len = le16(b + off);
        e->key_len = le16(b + off + 2);
        uint64_t end = off + 4 + e->name_len + e->key_len;
        if (end > size) return bad("an entry runs past the end");
        e->name = b + off + 4;
        e->key = e->name + e->name_len;
        if (i + 1 < n_entries && le32(b + 4 * (i + 1)) != end) return bad("an entry does not start where the last ended");
        if (i + 1 == n_entries && end != size) return bad("bytes after the last entry");
    }
    return 0;
}

static int decode_legacy(const uint8_t *b, size_t size) {
    if (size < 2) return bad("too small for the count");
    n_entries = be16(b);
    if (n_entries == 0 || n_entries > MAX_ENTRIES) return bad("count is 0 or more than 200");
    size_t pos = 2;
    for (size_t i = 0; i < n_entries; i++) {
        if (pos + 4 > size) return bad("an entry header runs past the end");
        entry *e = &entries[i];
        e->name_len = be16(b + pos);
        e->key_len = be16(b + pos + 2);
        if (pos + 4 + e->name_len + e->key_len > size) return bad("an entry runs past the end");
        e->name = b + pos + 4;
        e->key = e->name + e->name_len;
        pos += 4 + e->name_len + e->key_len;
    }
    if (pos != size) return bad("bytes after the last entry");
    return 0;
}

static int name_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* The lookup both ESP-IDF readers do: binary search comparing the issuer with each name over the shorter length. */
static int find_issuer(const uint8_t *issuer, size_t len) {
    int lo = 0, hi = (int)n_entries - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = memcmp(issuer, entries[mid].name, len < entries[mid].name_len ? len : entries[mid].name_len);
        if (c == 0) return mid;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return -1;
}

static int verify(const char *path) {
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    int rc = 1;
    if (mbedtls_x509_crt_parse_file(&crt, path) != 0) {
        printf("verify: %s does not parse\n", path);
        goto out;
    }
    int i = find_issuer(crt.issuer_raw.p, crt.issuer_raw.len);
    if (i < 0) {
        printf("verify: no entry names the issuer of %s\n", path);
        goto out;
    }
    if (mbedtls_pk_parse_public_key(&pk, entries[i].key, entries[i].key_len) != 0) {
        printf("verify: the key of entry %d does not parse\n", i);
        goto out;
    }
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(crt.sig_md);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    if (md == NULL || mbedtls_md(md, crt.tbs.p, crt.tbs.len, hash) != 0) {
        printf("verify: unsupported signature hash\n");
        goto out;
    }
    int ret = mbedtls_pk_verify_ext(crt.sig_pk, crt.sig_opts, &pk, crt.sig_md, hash, mbedtls_md_get_size(md),
                                    crt.sig.p, crt.sig.len);
    if (ret != 0) {
        printf("verify: entry %d matches the issuer name but its key does not verify the signature (-0x%04x)\n", i,
               (unsigned)-ret);
        goto out;
    }
    printf("verify: issuer found at entry %d by binary search; its key verifies %s\n", i, path);
    rc = 0;
out:
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    return rc;
}

static int dump(const char *dir) {
    for (size_t i = 0; i < n_entries; i++) {
        char p[4096];
        for (int k = 0; k < 2; k++) {
            snprintf(p, sizeof p, "%s/%zu.%s.der", dir, i, k ? "key" : "name");
            FILE *f = fopen(p, "wb");
            if (f == NULL) return 2;
            fwrite(k ? entries[i].key : entries[i].name, 1, k ? entries[i].key_len : entries[i].name_len, f);
            if (fclose(f) != 0) return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "new") != 0 && strcmp(argv[1], "legacy") != 0)) {
        fprintf(stderr, "usage: %s new|legacy BUNDLE [--dump DIR] [--verify CERT.pem]\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[2], "rb");
    static uint8_t blob[1 << 20];
    size_t size = f ? fread(blob, 1, sizeof blob, f) : 0;
    if (f) fclose(f);
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 2;
    }
    int rc = strcmp(argv[1], "new") == 0 ? decode_new(blob, size) : decode_legacy(blob, size);
    if (rc) return rc;
    for (size_t i = 0; i < n_entries; i++) {
        printf("entry %zu: name %zu bytes, key %zu bytes\n", i, entries[i].name_len, entries[i].key_len);
        if (i && name_cmp(entries[i - 1].name, entries[i - 1].name_len, entries[i].name, entries[i].name_len) >= 0)
            return bad("names are not in strictly ascending order: the binary search would miss entries");
    }
    printf("%zu entries, sorted by subject\n", n_entries);
    for (int a = 3; a < argc; a++) {
        if (strcmp(argv[a], "--dump") == 0 && a + 1 < argc) {
            if (dump(argv[++a])) return 2;
        } else if (strcmp(argv[a], "--verify") == 0 && a + 1 < argc) {
            if (verify(argv[++a])) return 1;
        } else {
            fprintf(stderr, "unknown argument %s\n", argv[a]);
            return 2;
        }
    }
    return 0;
}
