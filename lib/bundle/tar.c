/* A minimal POSIX ustar writer (IEEE Std 1003.1, "pax" utility, ustar Interchange Format) and the "der" bundle. */
#include <stdio.h>
#include <string.h>

#include "bundle_int.h"

#define BLOCK 512

/* Header field offsets and sizes (POSIX pax, Table: ustar Header Block). */
enum {
    F_NAME = 0, F_MODE = 100, F_UID = 108, F_GID = 116, F_SIZE = 124, F_MTIME = 136, F_CHKSUM = 148,
    F_TYPEFLAG = 156, F_MAGIC = 257, F_VERSION = 263, F_DEVMAJOR = 329, F_DEVMINOR = 337,
};

/* A numeric field: octal digits filling width-1 bytes, zero-padded, then NUL. */
static void octal(uint8_t *h, size_t off, size_t width, unsigned long long v) {
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%0*llo", (int)(width - 1), v);
    memcpy(h + off, tmp, width - 1);
    h[off + width - 1] = 0;
}

iotca_rc iotca_tar_add(iotca_buf *out, const char *name, const uint8_t *data, size_t n, time_t mtime) {
    size_t nl = name ? strlen(name) : 0;
    IOTCA_ENSURE(nl > 0 && nl < 100, IOTCA_E_USAGE, "tar member names must be 1-99 bytes");
    for (size_t i = 0; i < nl; i++)
        IOTCA_ENSURE(name[i] > ' ' && name[i] < 0x7f && name[i] != '/', IOTCA_E_USAGE,
                     "tar member names are printable ASCII without '/' or spaces");
    IOTCA_ENSURE((unsigned long long)n < 077777777777ull, IOTCA_E_USAGE, "tar member too large");
    IOTCA_ENSURE(data != NULL || n == 0, IOTCA_E_USAGE, "no data");
    unsigned long long mt = mtime < 0 ? 0 : (unsigned long long)mtime;
    if (mt > 077777777777ull) mt = 077777777777ull; /* the 11-digit field's limit (year 6325) */
    uint8_t h[BLOCK] = {0};
    memcpy(h + F_NAME, name, nl);
    octal(h, F_MODE, 8, 0644);
    octal(h, F_UID, 8, 0);
    octal(h, F_GID, 8, 0);
    octal(h, F_SIZE, 12, n);
    octal(h, F_MTIME, 12, mt);
    h[F_TYPEFLAG] = '0'; /* regular file */
    memcpy(h + F_MAGIC, "ustar", 6); /* "ustar" and its NUL */
    memcpy(h + F_VERSION, "00", 2);
    octal(h, F_DEVMAJOR, 8, 0);
    octal(h, F_DEVMINOR, 8, 0);
    /* the checksum is the sum of the header's bytes with the checksum field read as eight spaces */
    memset(h + F_CHKSUM, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < BLOCK; i++) sum += h[i];
    char ck[8];
    snprintf(ck, sizeof ck, "%06o", sum);
    memcpy(h + F_CHKSUM, ck, 6);
    h[F_CHKSUM + 6] = 0;
    h[F_CHKSUM + 7] = ' ';
    size_t pad = (BLOCK - n % BLOCK) % BLOCK;
    IOTCA_GUARD(iotca_buf_reserve(out, BLOCK + n + pad));
    IOTCA_GUARD(iotca_buf_append(out, h, BLOCK));
    IOTCA_GUARD(iotca_buf_append(out, data, n));
    static const uint8_t zeros[BLOCK];
    return iotca_buf_append(out, zeros, pad);
}

iotca_rc iotca_tar_finish(iotca_buf *out) {
    static const uint8_t zeros[2 * BLOCK];
    return iotca_buf_append(out, zeros, sizeof zeros);
}

/* "01-acme-iot-root-r1.der": the position, then the CN in lower case with
 * every run of other characters turned into one '-'. */
static void member_name(const iotca_bundle_root *r, size_t pos, char out[100]) {
    int n = snprintf(out, 100, "%02zu-", pos);
    const char *src = r->cn[0] ? r->cn : "root";
    bool dash = false;
    for (const unsigned char *p = (const unsigned char *)src; *p && n < 80; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && out[n - 1] != '-') out[n++] = '-';
            out[n++] = (char)c;
            dash = false;
        } else {
            dash = true;
        }
    }
    if (out[n - 1] == '-') memcpy(out + n, "root", 5), n += 4; /* a CN with no letters or digits */
    snprintf(out + n, (size_t)(100 - n), ".der");
}

iotca_rc bundle_enc_der(const iotca_bundle *b, iotca_buf *out) {
    for (size_t i = 0; i < b->n; i++) {
        char name[100];
        member_name(&b->roots[i], i + 1, name);
        /* mtime: the root's notBefore, so the archive is the same bytes every time it is made */
        IOTCA_GUARD(iotca_tar_add(out, name, b->roots[i].der.p, b->roots[i].der.len, b->roots[i].not_before));
    }
    return iotca_tar_finish(out);
}
