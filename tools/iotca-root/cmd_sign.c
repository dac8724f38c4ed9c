/* iotca-root sign-intermediate, cross-sign and crl: show exactly what will be signed, confirm, unlock, sign, record. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "iotca/file.h"
#include "iotca/pem.h"
#include "root.h"

#define INPUT_MAX (64 * 1024)
#define DAY 86400

static void print_hex(const char *label, iotca_slice s) {
    iotca_buf h = {0};
    if (iotca_hex_encode(s.p, s.len, &h) == IOTCA_OK) printf("  %-15s %s\n", label, (const char *)h.data);
    iotca_buf_free(&h);
}

static void print_ip(const iotca_ip *ip) {
    char a[64];
    int bits = 0;
    for (size_t i = 0; i < ip->len; i++)
        for (int b = 0; b < 8; b++) bits += (ip->mask[i] >> b) & 1;
    inet_ntop(ip->len == 4 ? AF_INET : AF_INET6, ip->addr, a, sizeof a);
    printf(" %s/%d", a, bits);
}

/* Prints the certificate a spec describes, extension by extension, as it will be encoded. */
static void preview(const char *what, const vault *v, const iotca_cert_spec *s) {
    iotca_buf subj = {0}, iss = {0};
    iotca_name_format(s->subject, &subj);
    iotca_name_format(iotca_cert_get(v->root)->subject, &iss);
    uint8_t pin[32], skid[20];
    iotca_sha256(s->spki, pin);
    iotca_key_type kt;
    const char *kname = iotca_spki_key_type(s->spki, &kt) == IOTCA_OK ? iotca_key_type_name(kt) : "unsupported";
    char nb[32], na[32];
    fmt_time(s->not_before, nb);
    fmt_time(s->not_after, na);
    printf("About to sign %s with root \"%s\":\n", what, (const char *)iss.data);
    printf("  %-15s %s\n", "subject", (const char *)subj.data);
    printf("  %-15s %s\n", "public key", kname);
    print_hex("SPKI SHA-256", iotca_slice_of(pin, sizeof pin));
    print_hex("serial", s->serial);
    printf("  %-15s %s to %s\n", "validity", nb, na);
    printf("  extensions:\n");
    if (s->path_len >= 0) printf("    basicConstraints (critical)  CA:TRUE, pathLen:%d\n", s->path_len);
    else printf("    basicConstraints (critical)  CA:TRUE\n");
    printf("    keyUsage (critical)          keyCertSign, cRLSign\n");
    if (s->eku)
        printf("    extendedKeyUsage             %s%s%s%s\n", s->eku & IOTCA_EKU_SERVER ? "serverAuth " : "",
               s->eku & IOTCA_EKU_CLIENT ? "clientAuth " : "", s->eku & IOTCA_EKU_CODE_SIGNING ? "codeSigning " : "",
               s->eku & IOTCA_EKU_OCSP_SIGNING ? "OCSPSigning" : "");
    if (s->skid.len) print_hex("  subjectKeyIdentifier (kept)", s->skid);
    else if (iotca_skid_from_spki(s->spki, skid) == IOTCA_OK)
        print_hex("  subjectKeyIdentifier", iotca_slice_of(skid, sizeof skid));
    print_hex("  authorityKeyIdentifier", s->issuer_skid);
    if (s->nc_mode != IOTCA_NC_NONE) {
        printf("    nameConstraints (%s) permitted:", s->nc_mode == IOTCA_NC_CRITICAL ? "critical" : "NON-critical");
        for (size_t i = 0; i < s->n_permit_dns; i++)
            printf(" DNS:%s", s->permit_dns[i][0] == '.' ? s->permit_dns[i] + 1 : s->permit_dns[i]);
        for (size_t i = 0; i < s->n_permit_ip; i++) print_ip(&s->permit_ip[i]);
        printf("\n");
        if (s->nc_mode == IOTCA_NC_CRITICAL)
            printf("      note: mbedTLS cannot parse a critical nameConstraints extension; use noncritical for\n"
                   "            fleets on mbedTLS or BearSSL (SPEC §3)\n");
    }
    if (s->ocsp_url) printf("    authorityInfoAccess OCSP     %s\n", s->ocsp_url);
    if (s->ca_issuers_url) printf("    authorityInfoAccess caIssuers %s\n", s->ca_issuers_url);
    if (s->crl_url) printf("    cRLDistributionPoints        %s\n", s->crl_url);
    iotca_buf_free(&subj);
    iotca_buf_free(&iss);
}

static iotca_rc check_out_free(const char *out) {
    IOTCA_ENSURE(out != NULL, IOTCA_E_USAGE, "--out FILE is required");
    struct stat st;
    IOTCA_ENSURE(lstat(out, &st) != 0, IOTCA_E_USAGE, "%s already exists; iotca-root never overwrites a file", out);
    return IOTCA_OK;
}

/* The common tail of every signing command: confirm, unlock, sign, check with
 * wolfSSL's own verifier, record in the ledger, then write the files. */
static iotca_rc sign_and_record(vault *v, const root_opts *o, const iotca_cert_spec *s, const char *op,
                                iotca_slice source_fp, const char *warning) {
    iotca_rc rc = IOTCA_OK;
    iotca_key *key = NULL;
    iotca_buf der = {0}, hex = {0}, fph = {0}, subj = {0};
    iotca_cert *cert = NULL;
    if (!o->yes) IOTCA_TRY(secret_confirm("Sign this certificate?"));
    IOTCA_TRY(vault_unlock(v, o, &key));
    IOTCA_TRY(iotca_cert_sign(s, key, &der));
    IOTCA_TRY(iotca_cert_parse(iotca_buf_slice(&der), &cert));
    IOTCA_TRY(iotca_cert_verify_signed_by(cert, v->root));
    iotca_slice anchor = iotca_cert_get(v->root)->der;
    IOTCA_TRY(iotca_chain_verify_wolfssl(&anchor, 1, NULL, 0, iotca_buf_slice(&der)));
    uint8_t fp[32];
    iotca_cert_fingerprint(cert, fp);
    char na[32];
    fmt_time(s->not_after, na);
    IOTCA_TRY(hex_of(s->serial, &hex));
    IOTCA_TRY(hex_of(iotca_slice_of(fp, sizeof fp), &fph));
    IOTCA_TRY(iotca_name_format(s->subject, &subj));
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", op, "serial", (const char *)hex.data, "sha256",
                            (const char *)fph.data, "subject", (const char *)subj.data, "not_after", na);
    if (source_fp.len) {
        iotca_buf h = {0};
        hex_of(source_fp, &h);
        json_object_set_new(rec, strcmp(op, "cross-sign") == 0 ? "cert_sha256" : "csr_sha256",
                            json_string((const char *)h.data));
        iotca_buf_free(&h);
    }
    if (s->nc_mode != IOTCA_NC_NONE)
        json_object_set_new(rec, "name_constraints",
                            json_string(s->nc_mode == IOTCA_NC_CRITICAL ? "critical" : "noncritical"));
    /* the key signed for, so a later signature for the same subject and another key is noticed */
    uint8_t spki_h[32];
    iotca_buf spki_hex = {0};
    iotca_sha256(s->spki, spki_h);
    IOTCA_TRY(hex_of(iotca_slice_of(spki_h, sizeof spki_h), &spki_hex));
    json_object_set_new(rec, "spki_sha256", json_string((const char *)spki_hex.data));
    iotca_buf_free(&spki_hex);
    if (warning) json_object_set_new(rec, "warning", json_string(warning));
    if (o->note) json_object_set_new(rec, "note", json_string(o->note));
    /* the ledger records the signature before the file exists: a crash after
     * this point leaves a record without a file, never a file without a record */
    IOTCA_TRY(ledger_append(v, rec));
    IOTCA_TRY(vault_write_cert(v, cert, o->out));
    printf("Signed %s %s\n  SHA-256 %s\n  written to %s\n  ledger head %s\n", op, (const char *)hex.data,
           (const char *)fph.data, o->out, json_string_value(json_object_get(v->state, "ledger_head")));
out:
    iotca_key_free(key);
    iotca_cert_free(cert);
    iotca_buf_free(&der);
    iotca_buf_free(&hex);
    iotca_buf_free(&fph);
    iotca_buf_free(&subj);
    return rc;
}

/* The key identifier certificates and CRLs signed by the root carry in AKID: the root's own SKID, or one
 * derived from its key (RFC 5280 §4.2.1.2) for a root made without it. buf must outlive the slice. */
static iotca_rc root_key_id(const iotca_cert_info *root, uint8_t buf[20], iotca_slice *out) {
    if (root->skid.len) {
        *out = root->skid;
        return IOTCA_OK;
    }
    IOTCA_GUARD(iotca_skid_from_spki(root->spki, buf));
    *out = iotca_slice_of(buf, 20);
    return IOTCA_OK;
}

static time_t cap_not_after(const vault *v, time_t want) {
    time_t root_end = iotca_cert_get(v->root)->not_after;
    return want > root_end ? root_end : want;
}

/* The SPKI SHA-256 (hex) of a CA certificate this vault signed, as its ledger record states it, or, for records
 * written before the ledger kept it, as the vault's copy under issued/ holds it; "" when neither tells. */
static void signed_key(const vault *v, const json_t *rec, char out[65]) {
    const char *k = json_string_value(json_object_get(rec, "spki_sha256")), *serial = json_string_value(json_object_get(rec, "serial"));
    out[0] = 0;
    if (k && strlen(k) == 64) {
        memcpy(out, k, 65);
        return;
    }
    char name[128], path[PATH_MAX];
    iotca_buf raw = {0};
    iotca_cert *cert = NULL;
    if (serial && snprintf(name, sizeof name, "%s/%s.pem", VAULT_ISSUED, serial) < (int)sizeof name &&
        vault_path(v, name, path, sizeof path) == IOTCA_OK && iotca_file_read(path, INPUT_MAX, &raw) == IOTCA_OK &&
        iotca_cert_parse(iotca_buf_slice(&raw), &cert) == IOTCA_OK) {
        uint8_t h[32];
        iotca_sha256(iotca_cert_get(cert)->spki, h);
        for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
    }
    iotca_cert_free(cert);
    iotca_buf_free(&raw);
}

/* A CA certificate with a subject this vault already signed for another key is a second CA under one name:
 * devices and stacks that find an issuer or anchor by its name (BearSSL, ESP-IDF, name-based path building)
 * may take the wrong one, and the ledger could no longer tell them apart by subject. Not refused (a re-key
 * under the same name can be meant), but said: into warning (empty when there is nothing to say). */
static iotca_rc subject_reuse(const vault *v, const iotca_cert_spec *s, char *warning, size_t n) {
    iotca_rc rc = IOTCA_OK;
    json_t *records = NULL;
    iotca_buf subj = {0};
    char path[PATH_MAX], head[65], mine[65], theirs[65], serials[160] = "";
    size_t count = 0, hits = 0, i;
    uint8_t h[32];
    iotca_sha256(s->spki, h);
    for (int k = 0; k < 32; k++) snprintf(mine + 2 * k, 3, "%02x", h[k]);
    IOTCA_TRY(iotca_name_format(s->subject, &subj));
    IOTCA_TRY(iotca_buf_cstr(&subj));
    IOTCA_TRY(vault_path(v, VAULT_LEDGER, path, sizeof path));
    IOTCA_TRY(ledger_verify(path, &records, head, &count));
    json_t *rec;
    json_array_foreach(records, i, rec) {
        const char *op = json_string_value(json_object_get(rec, "op")), *sub = json_string_value(json_object_get(rec, "subject"));
        if (!op || !sub || (strcmp(op, "sign-intermediate") != 0 && strcmp(op, "cross-sign") != 0)) continue;
        if (strcmp(sub, (const char *)subj.data) != 0) continue;
        signed_key(v, rec, theirs);
        if (theirs[0] == 0 || strcmp(theirs, mine) == 0) continue;
        if (hits++ < 3) {
            size_t used = strlen(serials);
            snprintf(serials + used, sizeof serials - used, "%sserial %.40s (key SPKI SHA-256 %.16s...)", used ? ", " : "",
                     json_string_value(json_object_get(rec, "serial")) ? json_string_value(json_object_get(rec, "serial")) : "?",
                     theirs);
        }
    }
    if (hits)
        snprintf(warning, n,
                 "this vault already signed a CA certificate with subject \"%.120s\" for another key: %s%s. Two CAs "
                 "under one name: stacks that pick an issuer by name may take the wrong one; give each its own name",
                 (const char *)subj.data, serials, hits > 3 ? " and more" : "");
out:
    json_decref(records);
    iotca_buf_free(&subj);
    return rc;
}

static iotca_rc do_sign_intermediate(const root_opts *o) {
    IOTCA_ENSURE(o->csr, IOTCA_E_USAGE, "sign-intermediate needs --csr FILE");
    IOTCA_GUARD(check_out_free(o->out));
    iotca_rc rc = IOTCA_OK;
    vault v;
    iotca_buf raw = {0};
    iotca_csr *csr = NULL;
    iotca_cert_spec s = {0};
    uint8_t serial[IOTCA_SERIAL_LEN], csr_fp[32];
    char warning[512] = "";
    IOTCA_GUARD(vault_open(o->vault, &v));
    IOTCA_TRY(iotca_file_read(o->csr, INPUT_MAX, &raw));
    rc = iotca_csr_parse(iotca_buf_slice(&raw), &csr);
    IOTCA_CHECK(rc == IOTCA_OK, rc, "%s: %s", o->csr, iotca_error_detail());
    const iotca_csr_info *ci = iotca_csr_get(csr);
    iotca_sha256(ci->der, csr_fp);

    s.nc_mode = IOTCA_NC_NONE;
    if (o->name_constraints) IOTCA_TRY(iotca_nc_mode_parse(o->name_constraints, &s.nc_mode));
    else if (o->n_permit_dns || o->n_permit_ip) s.nc_mode = IOTCA_NC_CRITICAL; /* RFC 5280 default */
    IOTCA_CHECK(s.nc_mode == IOTCA_NC_NONE || o->n_permit_dns || o->n_permit_ip, IOTCA_E_USAGE,
                "--name-constraints %s needs at least one --permit-dns or --permit-ip", o->name_constraints);
    IOTCA_CHECK(s.nc_mode != IOTCA_NC_NONE || (!o->n_permit_dns && !o->n_permit_ip), IOTCA_E_USAGE,
                "--permit-dns/--permit-ip given with --name-constraints none");
    for (size_t i = 0; i < o->n_permit_dns; i++) s.permit_dns[s.n_permit_dns++] = o->permit_dns[i];
    for (size_t i = 0; i < o->n_permit_ip; i++) IOTCA_TRY(iotca_ip_parse(o->permit_ip[i], &s.permit_ip[s.n_permit_ip++]));
    s.eku = IOTCA_EKU_SERVER | IOTCA_EKU_CLIENT;
    if (o->eku) IOTCA_TRY(iotca_eku_parse(o->eku, &s.eku));

    const iotca_cert_info *root = iotca_cert_get(v.root);
    time_t now = time(NULL);
    IOTCA_CHECK(root->not_after > now, IOTCA_E_POLICY, "the root has expired; it can sign nothing");
    IOTCA_TRY(iotca_serial_random(serial));
    s.serial = iotca_slice_of(serial, sizeof serial);
    s.issuer = root->subject;
    s.subject = ci->subject; /* byte for byte: BearSSL/ESP-IDF match DNs with memcmp */
    s.spki = ci->spki;
    uint8_t root_skid[20];
    IOTCA_TRY(root_key_id(root, root_skid, &s.issuer_skid));
    s.not_before = now - 300;
    s.not_after = cap_not_after(&v, now + (time_t)(o->days ? o->days : 1095) * DAY);
    s.is_ca = true;
    s.path_len = 0;
    s.key_usage = IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN;
    s.crl_url = o->crl_url;
    s.ocsp_url = o->ocsp_url;
    s.ca_issuers_url = o->ca_issuers_url;
    IOTCA_CHECK(!iotca_slice_eq(s.spki, root->spki), IOTCA_E_POLICY, "the CSR carries the root's own key");
    /* encode once now so a bad spec fails before anyone is asked to confirm */
    iotca_buf probe = {0};
    rc = iotca_cert_tbs(&s, root->sigalg, &probe);
    iotca_buf_free(&probe);
    if (rc != IOTCA_OK) goto out;
    preview("an intermediate CA", &v, &s);
    print_hex("CSR SHA-256", iotca_slice_of(csr_fp, sizeof csr_fp));
    if (s.not_after == root->not_after) printf("  note: validity capped at the root's notAfter\n");
    IOTCA_TRY(subject_reuse(&v, &s, warning, sizeof warning));
    if (warning[0]) fprintf(stderr, "iotca-root: WARNING: %s\n", warning);
    IOTCA_TRY(sign_and_record(&v, o, &s, "sign-intermediate", iotca_slice_of(csr_fp, sizeof csr_fp),
                              warning[0] ? warning : NULL));
out:
    iotca_csr_free(csr);
    iotca_buf_free(&raw);
    vault_close(&v);
    return rc;
}

static iotca_rc do_cross_sign(const root_opts *o) {
    IOTCA_ENSURE(o->cert, IOTCA_E_USAGE, "cross-sign needs --cert OTHER_ROOT.pem");
    IOTCA_GUARD(check_out_free(o->out));
    iotca_rc rc = IOTCA_OK;
    vault v;
    iotca_buf raw = {0};
    iotca_cert *other = NULL;
    uint8_t serial[IOTCA_SERIAL_LEN], other_fp[32];
    IOTCA_GUARD(vault_open(o->vault, &v));
    IOTCA_TRY(iotca_file_read(o->cert, INPUT_MAX, &raw));
    rc = iotca_cert_parse(iotca_buf_slice(&raw), &other);
    IOTCA_CHECK(rc == IOTCA_OK, rc, "%s: %s", o->cert, iotca_error_detail());
    const iotca_cert_info *oc = iotca_cert_get(other), *root = iotca_cert_get(v.root);
    IOTCA_CHECK(oc->is_ca && iotca_cert_is_self_signed(other), IOTCA_E_POLICY,
                "%s is not a self-signed CA certificate (only roots are cross-signed)", o->cert);
    IOTCA_CHECK(!iotca_slice_eq(oc->spki, root->spki), IOTCA_E_POLICY, "%s is this vault's own root", o->cert);
    time_t now = time(NULL);
    IOTCA_CHECK(oc->not_after > now && root->not_after > now, IOTCA_E_POLICY, "a root involved has expired");
    iotca_cert_fingerprint(other, other_fp);
    iotca_cert_spec s = {0};
    IOTCA_TRY(iotca_serial_random(serial));
    s.serial = iotca_slice_of(serial, sizeof serial);
    s.issuer = root->subject;
    s.subject = oc->subject; /* same subject bytes and key as the new root */
    s.spki = oc->spki;
    s.skid = oc->skid;
    uint8_t root_skid[20];
    IOTCA_TRY(root_key_id(root, root_skid, &s.issuer_skid));
    s.not_before = now - 300;
    time_t end = now + (time_t)(o->days ? o->days : 1825) * DAY;
    if (end > oc->not_after) end = oc->not_after;
    s.not_after = cap_not_after(&v, end);
    s.is_ca = true;
    s.path_len = oc->path_len;
    s.key_usage = IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN;
    preview("a cross-certificate", &v, &s);
    print_hex("root SHA-256", iotca_slice_of(other_fp, sizeof other_fp));
    IOTCA_TRY(sign_and_record(&v, o, &s, "cross-sign", iotca_slice_of(other_fp, sizeof other_fp), NULL));
out:
    iotca_cert_free(other);
    iotca_buf_free(&raw);
    vault_close(&v);
    return rc;
}

static iotca_rc do_crl(const root_opts *o) {
    IOTCA_GUARD(check_out_free(o->out));
    iotca_rc rc = IOTCA_OK;
    vault v;
    json_t *records = NULL;
    iotca_key *key = NULL;
    iotca_crl_entry *entries = NULL;
    iotca_buf serials = {0}, der = {0}, pem = {0};
    char path[PATH_MAX], head[65];
    size_t count = 0, n = 0;
    IOTCA_GUARD(vault_open(o->vault, &v));
    IOTCA_TRY(vault_path(&v, VAULT_LEDGER, path, sizeof path));
    IOTCA_TRY(ledger_verify(path, &records, head, &count));
    entries = calloc(count + 1, sizeof *entries);
    IOTCA_CHECK(entries != NULL, IOTCA_E_INTERNAL, "out of memory");
    /* decode every serial first; entries point into serials once it stops growing */
    size_t offs[4096] = {0}; /* read only below n, but say so to the analysers too */
    size_t i;
    json_t *rec;
    json_array_foreach(records, i, rec) {
        if (strcmp(json_string_value(json_object_get(rec, "op")), "revoke") != 0) continue;
        IOTCA_CHECK(n < sizeof offs / sizeof offs[0], IOTCA_E_USAGE, "too many revocations for one CRL");
        offs[n] = serials.len;
        IOTCA_TRY(iotca_hex_decode(json_string_value(json_object_get(rec, "serial")), &serials));
        entries[n].serial.len = serials.len - offs[n];
        entries[n].reason = (iotca_reason)json_integer_value(json_object_get(rec, "reason_code"));
        entries[n].revoked_at = (time_t)json_integer_value(json_object_get(rec, "revoked_at"));
        n++;
    }
    for (i = 0; i < n; i++) entries[i].serial.p = serials.data + offs[i];
    const iotca_cert_info *root = iotca_cert_get(v.root);
    uint8_t root_skid[20];
    iotca_crl_spec cs = {0};
    cs.issuer = root->subject;
    IOTCA_TRY(root_key_id(root, root_skid, &cs.issuer_skid));
    cs.this_update = time(NULL) - 60;
    cs.next_update = cs.this_update + 60 + (time_t)(o->days ? o->days : 365) * DAY;
    cs.crl_number = (uint64_t)json_integer_value(json_object_get(v.state, "crl_number")) + 1;
    cs.entries = entries;
    cs.n_entries = n;
    char nu[32];
    fmt_time(cs.next_update, nu);
    printf("About to sign root CRL number %llu with %zu revoked intermediate(s), next update %s\n",
           (unsigned long long)cs.crl_number, n, nu);
    if (!o->yes) IOTCA_TRY(secret_confirm("Sign this CRL?"));
    IOTCA_TRY(vault_unlock(&v, o, &key));
    IOTCA_TRY(iotca_crl_sign(&cs, key, &der));
    IOTCA_TRY(iotca_pem_encode("X509 CRL", der.data, der.len, &pem));
    json_object_set_new(v.state, "crl_number", json_integer((json_int_t)cs.crl_number));
    json_t *lrec = json_pack("{s:s, s:I, s:I, s:s}", "op", "crl", "crl_number", (json_int_t)cs.crl_number, "entries",
                             (json_int_t)n, "next_update", nu);
    if (o->note) json_object_set_new(lrec, "note", json_string(o->note));
    IOTCA_TRY(ledger_append(&v, lrec));
    IOTCA_TRY(iotca_file_create(o->out, pem.data, pem.len, 0644));
    printf("Wrote CRL %llu to %s\n", (unsigned long long)cs.crl_number, o->out);
out:
    json_decref(records);
    iotca_key_free(key);
    free(entries);
    iotca_buf_free(&serials);
    iotca_buf_free(&der);
    iotca_buf_free(&pem);
    vault_close(&v);
    return rc;
}

int cmd_sign_intermediate(const root_opts *o) { return report(do_sign_intermediate(o)); }
int cmd_cross_sign(const root_opts *o) { return report(do_cross_sign(o)); }
int cmd_crl(const root_opts *o) { return report(do_crl(o)); }
