/* Unit tests for the CA's dashboard reads (lib/ca/dashboard.c): anchors, describe, search, fleet risk, weekly counts.
 * The fixture's CA is opened again with a second root (B) and a cross-certificate of B signed by the fixture's
 * root (A). Search runs over leaves the CA issued and leaves written straight into the store (names the policy
 * would not give: IP and URI SANs, a subject without them); fleet risk over trust profiles written into the store
 * (no lint), against the fixture's active issuer, a staged one under B and a staged one of another group. */
#include "ca_fixture.h"
#include "iotca/ca_dashboard.h"
#include "iotca/pem.h"
#include "unit_run.h"

static fixture F;
static iotca_key *root_b_key;
static iotca_buf root_b_der, cross_der;
static iotca_cert *root_b;

/* A certificate for subject/spki signed by key as issuer (issuer_cert NULL: self-signed, its skid from spki), valid
 * for days; path_len -2 makes a leaf, -1 a CA without pathLenConstraint. spec may hold SANs already. */
static void sign_by(const iotca_key *key, const iotca_cert *issuer_cert, iotca_slice subject, iotca_slice spki,
                    int path_len, time_t days, iotca_cert_spec *spec, iotca_buf *out) {
    uint8_t serial[IOTCA_SERIAL_LEN];
    OK(iotca_serial_random(serial));
    spec->serial = iotca_slice_of(serial, sizeof serial);
    spec->issuer = issuer_cert ? iotca_cert_get(issuer_cert)->subject : subject;
    spec->subject = subject;
    spec->spki = spki;
    if (issuer_cert) spec->issuer_skid = iotca_cert_get(issuer_cert)->skid;
    spec->not_before = time(NULL) - 3600;
    spec->not_after = time(NULL) + days * DAY;
    spec->is_ca = path_len >= -1;
    spec->path_len = path_len < -1 ? -1 : path_len;
    spec->key_usage = spec->is_ca ? IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN : IOTCA_KU_DIGITAL_SIGNATURE;
    OK(iotca_cert_sign(spec, key, out));
}

static void up(void) {
    setup(&F);
    iotca_buf name = {0}, spki = {0};
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &root_b_key));
    OK(iotca_name_build("DE", "Unit", NULL, "Unit Test Root B", &name));
    OK(iotca_key_spki(root_b_key, &spki));
    iotca_cert_spec self = {0}, cross = {0};
    sign_by(root_b_key, NULL, iotca_buf_slice(&name), iotca_buf_slice(&spki), -1, 3650, &self, &root_b_der);
    OK(iotca_cert_parse(iotca_buf_slice(&root_b_der), &root_b));
    sign_by(F.root_key, F.root, iotca_buf_slice(&name), iotca_buf_slice(&spki), -1, 200, &cross, &cross_der);
    iotca_buf_free(&name);
    iotca_buf_free(&spki);
    /* the CA again, with both roots and the cross-certificate */
    iotca_ca_close(F.ca);
    iotca_slice roots[2] = {iotca_buf_slice(&F.root_der), iotca_buf_slice(&root_b_der)};
    iotca_slice crosses[1] = {iotca_buf_slice(&cross_der)};
    iotca_ca_config cfg = {.db_path = F.db,
                           .key_dir = F.keys,
                           .key_passphrase = iotca_slice_of("unit test key passphrase", 24),
                           .issuer_key_type = IOTCA_KEY_ECDSA_P256,
                           .default_group = "default",
                           .roots = roots,
                           .n_roots = 2,
                           .cross = crosses,
                           .n_cross = 1,
                           .profiles = &fixture_profile,
                           .n_profiles = 1,
                           .kdf_iterations = 1000};
    F.ca = NULL;
    OK(iotca_ca_open(&cfg, &F.ca));
}

static void down(void) {
    teardown(&F);
    iotca_cert_free(root_b);
    iotca_key_free(root_b_key);
    iotca_buf_free(&root_b_der);
    iotca_buf_free(&cross_der);
    root_b = NULL;
    root_b_key = NULL;
}

/* ---- anchors ---- */

static void check_anchor(const iotca_ca_anchor *a, const iotca_cert *c, bool cross, size_t root_index,
                         const char *subject, const char *issuer) {
    const iotca_cert_info *i = iotca_cert_get(c);
    uint8_t pin[32], sha[32];
    iotca_sha256(i->spki, pin);
    iotca_sha256(i->der, sha);
    ck_assert(a->cross == cross);
    ck_assert_uint_eq(a->root_index, root_index);
    ck_assert_str_eq(a->subject, subject);
    ck_assert_str_eq(a->issuer, issuer);
    ck_assert_int_eq(a->not_before, i->not_before);
    ck_assert_int_eq(a->not_after, i->not_after);
    ck_assert_mem_eq(a->pin, pin, 32);
    ck_assert_mem_eq(a->sha256, sha, 32);
    ck_assert_str_eq(a->key, "ecdsa-p256");
}

START_TEST(anchors_roots_then_cross) {
    iotca_cert *x = NULL;
    OK(iotca_cert_parse(iotca_buf_slice(&cross_der), &x));
    const char *a_name = "C=DE, O=Unit, CN=Unit Test Root", *b_name = "C=DE, O=Unit, CN=Unit Test Root B";
    iotca_ca_anchor out[8];
    size_t n = 99;
    iotca_ca_anchors(F.ca, out, 8, &n);
    ck_assert_uint_eq(n, 3);
    check_anchor(&out[0], F.root, false, 0, a_name, a_name);
    check_anchor(&out[1], root_b, false, 1, b_name, b_name);
    check_anchor(&out[2], x, true, 1, b_name, a_name); /* B's name and key, signed by A */
    ck_assert_str_eq(out[2].subject_cn, "Unit Test Root B"); /* what the timeline calls them */
    ck_assert_str_eq(out[2].issuer_cn, "Unit Test Root");
    ck_assert_int_lt(out[2].not_after - time(NULL), 201 * DAY);
    ck_assert_int_gt(out[2].not_after - time(NULL), 199 * DAY);
    ck_assert_mem_eq(out[2].pin, out[1].pin, 32); /* the same key as root B */
    ck_assert(memcmp(out[2].sha256, out[1].sha256, 32) != 0);
    /* max cuts the list: roots first */
    iotca_ca_anchors(F.ca, out, 2, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert(!out[1].cross);
    iotca_ca_anchors(F.ca, out, 0, &n);
    ck_assert_uint_eq(n, 0);
    iotca_cert_free(x);
}
END_TEST

/* ---- describe ---- */

/* A leaf for cn with the given SANs, signed by root A; DER into out. */
static void leaf(const char *cn, const char *const *dns, size_t n_dns, const char *const *ips, size_t n_ips,
                 const char *const *uris, size_t n_uris, iotca_buf *out) {
    iotca_key *k = NULL;
    iotca_buf name = {0}, spki = {0};
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_name_build(NULL, NULL, NULL, cn, &name));
    OK(iotca_key_spki(k, &spki));
    iotca_cert_spec spec = {0};
    for (size_t i = 0; i < n_dns; i++) spec.dns[i] = dns[i];
    for (size_t i = 0; i < n_ips; i++) OK(iotca_ip_parse(ips[i], &spec.ips[i]));
    for (size_t i = 0; i < n_uris; i++) spec.uris[i] = uris[i];
    spec.n_dns = n_dns, spec.n_ips = n_ips, spec.n_uris = n_uris;
    sign_by(F.root_key, F.root, iotca_buf_slice(&name), iotca_buf_slice(&spki), -2, 30, &spec, out);
    iotca_key_free(k);
    iotca_buf_free(&name);
    iotca_buf_free(&spki);
}

static const char *const LAMP_DNS[] = {"lamp.example.com", "lamp-b.example.com"};
static const char *const LAMP_IPS[] = {"192.0.2.7", "2001:db8::7"};
static const char *const LAMP_URIS[] = {"urn:dev:lamp-7"};

START_TEST(describe_names_issuer_key) {
    iotca_buf der = {0};
    leaf("Lamp Seven", LAMP_DNS, 2, LAMP_IPS, 2, LAMP_URIS, 1, &der);
    iotca_ca_cert_desc d;
    OK(iotca_ca_cert_describe(iotca_buf_slice(&der), &d));
    ck_assert_str_eq(d.subject, "CN=Lamp Seven");
    ck_assert_str_eq(d.issuer, "C=DE, O=Unit, CN=Unit Test Root");
    ck_assert_str_eq(d.names, "DNS:lamp.example.com, DNS:lamp-b.example.com, IP:192.0.2.7, IP:2001:db8::7, "
                              "URI:urn:dev:lamp-7");
    ck_assert_str_eq(d.key, "ecdsa-p256");
    uint8_t sha[32];
    iotca_sha256(iotca_buf_slice(&der), sha);
    ck_assert_mem_eq(d.sha256, sha, 32);
    /* a root: no SAN, names "" */
    OK(iotca_ca_cert_describe(iotca_buf_slice(&root_b_der), &d));
    ck_assert_str_eq(d.subject, "C=DE, O=Unit, CN=Unit Test Root B");
    ck_assert_str_eq(d.issuer, d.subject);
    ck_assert_str_eq(d.names, "");
    iotca_buf_free(&der);
}
END_TEST

START_TEST(describe_refuses_garbage) {
    static const uint8_t not_cert[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    iotca_ca_cert_desc d;
    memset(&d, 0x41, sizeof d);
    ck_assert_int_eq(iotca_ca_cert_describe(iotca_slice_of(not_cert, sizeof not_cert), &d), IOTCA_E_PARSE);
    ck_assert_str_eq(d.subject, ""); /* nothing left over from before */
    ck_assert_str_eq(d.names, "");
    ck_assert_int_eq(iotca_ca_cert_describe(iotca_slice_of("hello, world", 12), &d), IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_ca_cert_describe(iotca_slice_of(NULL, 0), &d), IOTCA_E_PARSE);
    /* a certificate cut short */
    ck_assert_int_eq(iotca_ca_cert_describe(iotca_slice_of(root_b_der.data, root_b_der.len - 1), &d), IOTCA_E_PARSE);
}
END_TEST

START_TEST(describe_cuts_long_name_lists) {
    /* five 200-byte names: four fit the 1,024-byte list, the fifth is cut to "..." */
    char names[5][201];
    const char *dns[5];
    for (int i = 0; i < 5; i++) {
        memset(names[i], 'a', 200);
        names[i][200] = 0;
        for (int dot = 50; dot < 200; dot += 50) names[i][dot] = '.';
        names[i][0] = (char)('p' + i);
        memcpy(names[i] + 200 - 12, ".example.com", 12);
        dns[i] = names[i];
    }
    iotca_buf der = {0};
    leaf("Long Names", dns, 5, LAMP_IPS, 2, NULL, 0, &der); /* and two short IP names after them */
    iotca_ca_cert_desc d;
    OK(iotca_ca_cert_describe(iotca_buf_slice(&der), &d));
    size_t len = strlen(d.names);
    ck_assert_uint_eq(len, 4 * 204 + 3 * 2 + 3); /* four names, ", " between, then "...", which ends the list */
    ck_assert_str_eq(d.names + len - 14, "example.com...");
    ck_assert_ptr_null(strstr(d.names, "IP:")); /* nothing after the cut, though the short names would fit */
    ck_assert_int_eq(strncmp(d.names, "DNS:paaa", 8), 0);
    ck_assert_ptr_nonnull(strstr(d.names, "DNS:s"));
    ck_assert_ptr_null(strstr(d.names, "DNS:t"));
    iotca_buf_free(&der);
}
END_TEST

/* ---- search ---- */

/* Issues a leaf for name (CN and DNS SAN) under "fw"; its serial into serial. */
static void issue(const char *name, char serial[41]) {
    iotca_key *k = NULL;
    iotca_buf subject = {0}, der = {0};
    iotca_names names = {0};
    snprintf(names.dns[0], sizeof names.dns[0], "%s", name);
    names.n_dns = 1;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_name_build(NULL, NULL, NULL, name, &subject));
    OK(iotca_csr_build_names(k, iotca_buf_slice(&subject), &names, &der));
    iotca_issued out;
    OK(iotca_ca_issue(F.ca, iotca_buf_slice(&der), "fw", 0, &out));
    snprintf(serial, 41, "%s", out.serial);
    iotca_issued_free(&out);
    iotca_key_free(k);
    iotca_buf_free(&subject);
    iotca_buf_free(&der);
}

/* Writes der straight into the store as certificate serial of profile, under the fixture's issuer. */
static void record(const char *serial, const char *profile, const char *subject, const iotca_buf *der) {
    iotca_cert_rec c = {0};
    snprintf(c.serial, sizeof c.serial, "%s", serial);
    c.issuer_id = F.issuer;
    snprintf(c.profile, sizeof c.profile, "%s", profile);
    snprintf(c.subject, sizeof c.subject, "%s", subject);
    c.not_before = time(NULL) - 3600;
    c.not_after = time(NULL) + 30 * DAY;
    c.created_at = time(NULL);
    c.der = iotca_buf_borrow(der->data, der->len);
    OK(iotca_store_serial_reserve(F.s, serial, F.issuer, c.created_at));
    OK(iotca_store_cert_add(F.s, &c));
}

static char alpha[41], beta[41], gamma_[41];

/* alpha, beta and gamma issued under "fw", in serial order (serials start with the millisecond they were drawn:
 * 2 ms apart, each sorts after the one before); lamp ("01", fw) and cam ("02", sensor) written into the store,
 * before them in serial order. */
static void inventory(void) {
    issue("alpha.example.com", alpha);
    usleep(2000);
    issue("beta.example.com", beta);
    usleep(2000);
    issue("gamma.example.com", gamma_);
    ck_assert_int_lt(strcmp("02", alpha), 0);
    ck_assert_int_lt(strcmp(alpha, beta), 0);
    ck_assert_int_lt(strcmp(beta, gamma_), 0);
    iotca_buf lamp = {0}, cam = {0};
    leaf("Lamp Seven", LAMP_DNS, 2, LAMP_IPS, 2, LAMP_URIS, 1, &lamp);
    static const char *const cam_dns[] = {"cam.example.net"};
    leaf("Cam", cam_dns, 1, NULL, 0, NULL, 0, &cam);
    record("01", "fw", "CN=Lamp Seven", &lamp);
    record("02", "sensor", "CN=Cam", &cam);
    iotca_buf_free(&lamp);
    iotca_buf_free(&cam);
}

/* The serials a search returns, joined by ' ', and its cursor. */
static iotca_rc search(const char *text, const char *scope, const char *after, size_t limit, char *got, size_t cap,
                       char next[41]) {
    iotca_cert_filter f = {.status = -1, .limit = limit, .text = text, .after = after};
    iotca_cert_rec *v = NULL;
    size_t n = 99;
    snprintf(next, 41, "unset");
    got[0] = 0;
    iotca_rc rc = iotca_ca_cert_search(F.ca, &f, scope, &v, &n, next);
    for (size_t i = 0; rc == IOTCA_OK && i < n; i++) {
        size_t used = strlen(got);
        snprintf(got + used, cap - used, "%s%s", i ? " " : "", v[i].serial);
        ck_assert_uint_eq(v[i].der.len, 0); /* the DER the match needed is not handed on */
        iotca_cert_rec_free(&v[i]);
    }
    free(v);
    return rc;
}

#define SEARCH_IS(text, scope, after, limit, expected, expected_next)                                                  \
    do {                                                                                                               \
        char got_[512], next_[41];                                                                                     \
        OK(search(text, scope, after, limit, got_, sizeof got_, next_));                                               \
        ck_assert_str_eq(got_, expected);                                                                              \
        ck_assert_str_eq(next_, expected_next);                                                                        \
    } while (0)

START_TEST(search_subject_and_sans) {
    inventory();
    SEARCH_IS("ALPHA", "", NULL, 100, alpha, "");             /* the subject, any case */
    SEARCH_IS("Beta.Example.COM", NULL, NULL, 100, beta, ""); /* subject and SAN */
    SEARCH_IS("lamp.example", "", NULL, 100, "01", "");       /* a SAN the subject lacks: found in the DER */
    SEARCH_IS("LAMP-B.EXAMPLE.COM", "", NULL, 100, "01", ""); /* the second one, any case */
    SEARCH_IS("urn:dev:lamp", "", NULL, 100, "01", "");       /* a URI */
    SEARCH_IS("lamp seven", "", NULL, 100, "01", "");
    SEARCH_IS("nothing-like-it", "", NULL, 100, "", "");
    char all[200];
    snprintf(all, sizeof all, "01 %s %s %s", alpha, beta, gamma_);
    SEARCH_IS(".example.com", "", NULL, 100, all, "");
    SEARCH_IS("cam.example.net", "", NULL, 100, "02", "");
}
END_TEST

START_TEST(search_ip_addresses_and_mixed_case_sans) {
    inventory();
    /* a DNS name written in mixed case (the policy keeps names as asked): found whatever case is typed */
    iotca_buf hub = {0};
    static const char *const hub_dns[] = {"hub.example.com", "Hub-Backup.Example.com"};
    leaf("hub.example.com", hub_dns, 2, NULL, 0, NULL, 0, &hub);
    record("03", "fw", "CN=hub.example.com", &hub);
    iotca_buf_free(&hub);
    SEARCH_IS("hub-backup", "", NULL, 100, "03", "");
    SEARCH_IS("HUB-BACKUP.EXAMPLE", "", NULL, 100, "03", "");
    SEARCH_IS("Hub-Backup", "", NULL, 100, "03", "");
    /* IP addresses: 4 or 16 bytes in the DER, found from their text, any spelling of an IPv6 address */
    SEARCH_IS("192.0.2.7", "", NULL, 100, "01", "");
    SEARCH_IS("2001:db8::7", "", NULL, 100, "01", "");
    SEARCH_IS("2001:DB8:0:0::7", "", NULL, 100, "01", "");
    SEARCH_IS("192.0.2.8", "", NULL, 100, "", "");
}
END_TEST

START_TEST(search_ignores_other_fields_of_the_der) {
    inventory();
    /* the issued leaves' DER names their issuer, "default Issuer ...": the store finds that, the CA drops it */
    iotca_buf cn = {0};
    OK(iotca_name_cn(iotca_cert_get(F.issuer_cert)->subject, &cn));
    ck_assert_int_eq(strncmp((const char *)cn.data, "default Issuer ", 15), 0);
    iotca_buf_free(&cn);
    iotca_cert_filter f = {.status = -1, .limit = 100, .text = "default"};
    iotca_cert_rec *v = NULL;
    size_t n = 0;
    OK(iotca_ca_cert_list(F.ca, &f, &v, &n));
    ck_assert_uint_eq(n, 3); /* what the store matched: the three issued leaves */
    for (size_t i = 0; i < n; i++) iotca_cert_rec_free(&v[i]);
    free(v);
    SEARCH_IS("default", "", NULL, 100, "", "");
    /* root A's name is in lamp's and cam's DER (their issuer, mixed case), in neither subject nor SAN */
    SEARCH_IS("unit test root", "", NULL, 100, "", "");
    SEARCH_IS("Unit Test Root", "", NULL, 100, "", "");
}
END_TEST

START_TEST(search_scope_and_cursor) {
    inventory();
    char all[200], fw[200], page[100];
    snprintf(all, sizeof all, "01 02 %s %s %s", alpha, beta, gamma_);
    snprintf(fw, sizeof fw, "01 %s %s %s", alpha, beta, gamma_);
    SEARCH_IS(NULL, "", NULL, 100, all, "");
    SEARCH_IS(NULL, NULL, NULL, 100, all, "");
    SEARCH_IS(NULL, "fw", NULL, 100, fw, "");
    SEARCH_IS(NULL, "sensor", NULL, 100, "02", "");
    SEARCH_IS(NULL, "other,sensor", NULL, 100, "02", "");
    SEARCH_IS(NULL, "sens", NULL, 100, "", ""); /* a whole profile name, not a prefix */
    SEARCH_IS("cam", "fw", NULL, 100, "", "");  /* cam's only match is of another scope */
    /* pages: next is the last serial looked at when `limit` rows were, "" when fewer */
    SEARCH_IS(NULL, "", NULL, 2, "01 02", "02");
    snprintf(page, sizeof page, "%s %s", alpha, beta);
    SEARCH_IS(NULL, "", "02", 2, page, beta);
    SEARCH_IS(NULL, "", beta, 2, gamma_, "");
    SEARCH_IS(NULL, "", NULL, 5, all, gamma_); /* limit rows looked at: there may be more */
    SEARCH_IS(NULL, "", NULL, 6, all, "");
    /* a scope or a text may leave a page empty; its cursor still moves on */
    SEARCH_IS(NULL, "sensor", NULL, 2, "02", "02");
    SEARCH_IS(NULL, "sensor", "02", 2, "", beta);
    snprintf(page, sizeof page, "01 %s", alpha);
    SEARCH_IS(".example.com", "", NULL, 2, page, alpha); /* cam's DER has no ".example.com": not looked at */
    SEARCH_IS("example", "sensor", NULL, 3, "02", alpha);
    SEARCH_IS("default", "", NULL, 3, "", gamma_); /* three issued leaves matched in the store, none kept */
}
END_TEST

START_TEST(search_refusals) {
    inventory();
    char got[64], next[41];
    ck_assert_int_eq(search("", "", NULL, 10, got, sizeof got, next), IOTCA_E_USAGE);
    ck_assert_str_eq(next, "");
    char longest[130];
    memset(longest, 'x', 129);
    longest[129] = 0;
    ck_assert_int_eq(search(longest, "", NULL, 10, got, sizeof got, next), IOTCA_E_USAGE);
    ck_assert_int_eq(search("alpha", "", NULL, 0, got, sizeof got, next), IOTCA_E_USAGE);
    ck_assert_int_eq(search("alpha", "", "XYZ", 10, got, sizeof got, next), IOTCA_E_USAGE);
}
END_TEST

/* ---- fleet risk ---- */

/* A new issuer of group signed by root (A: F.root_key/F.root, B: root_b_key/root_b), staged to activate at at. */
static int64_t staged(const char *group, const iotca_key *key, const iotca_cert *root, time_t at) {
    int64_t id = 0;
    iotca_buf csr_pem = {0}, cert = {0};
    iotca_csr *csr = NULL;
    OK(iotca_ca_issuer_new(F.ca, group, NULL, &id, &csr_pem));
    OK(iotca_csr_parse(iotca_buf_slice(&csr_pem), &csr));
    iotca_cert_spec spec = {0};
    sign_by(key, root, iotca_csr_get(csr)->subject, iotca_csr_get(csr)->spki, 0, 365, &spec, &cert);
    OK(iotca_ca_issuer_import(F.ca, id, iotca_buf_slice(&cert), at));
    iotca_csr_free(csr);
    iotca_buf_free(&csr_pem);
    iotca_buf_free(&cert);
    return id;
}

/* Registers a trust profile straight into the store (no lint): the PEM of the given DER certificates, or pem. */
static void profile(const char *name, const iotca_buf *a, const iotca_buf *b, const char *pem, time_t until) {
    iotca_trust_profile_rec r = {.until = until, .created_at = time(NULL)};
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.stack, sizeof r.stack, "openssl");
    if (a) OK(iotca_pem_encode("CERTIFICATE", a->data, a->len, &r.pem));
    if (b) OK(iotca_pem_encode("CERTIFICATE", b->data, b->len, &r.pem));
    if (pem) OK(iotca_buf_append_str(&r.pem, pem));
    OK(iotca_store_trust_profile_add(F.s, &r));
    iotca_trust_profile_rec_free(&r);
}

static const iotca_ca_risk *risk_of(const iotca_ca_risk *v, size_t n, const char *profile, const char *group) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].profile, profile) == 0 && strcmp(v[i].group, group) == 0) return &v[i];
    ck_abort_msg("no risk for %s x %s", profile, group);
    return NULL;
}

START_TEST(fleet_risk_per_profile_and_group) {
    time_t now = time(NULL);
    iotca_ca_risk *v = (iotca_ca_risk *)&v;
    size_t n = 99;
    OK(iotca_ca_fleet_risk(F.ca, now, &v, &n)); /* no profiles: nothing to judge */
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(v);
    time_t b_at = now + 30 * DAY, lab_at = now + 10 * DAY, until = now + 200 * DAY;
    staged("default", root_b_key, root_b, b_at); /* the default group moves to root B in 30 days */
    staged("lab", F.root_key, F.root, lab_at);   /* a group with nothing served before 10 days */
    profile("both", &F.root_der, &root_b_der, NULL, until);
    profile("only-a", &F.root_der, NULL, NULL, until);
    profile("only-b", &root_b_der, NULL, NULL, until);
    profile("retired", &F.root_der, &root_b_der, NULL, now - 1);
    profile("garbled", NULL, NULL, "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n", until);
    OK(iotca_ca_fleet_risk(F.ca, now, &v, &n));
    ck_assert_uint_eq(n, 10); /* five profiles x two groups, by profile then group */
    const char *order[] = {"both", "only-a", "only-b", "retired", "garbled"};
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(v[i].profile, order[i / 2]);
        ck_assert_str_eq(v[i].group, i % 2 ? "lab" : "default");
        ck_assert_str_eq(v[i].stack, "openssl");
        ck_assert_ptr_nonnull(v[i].report);
    }
    const iotca_ca_risk *k = risk_of(v, n, "both", "default");
    ck_assert_int_eq(k->until, until);
    ck_assert_str_eq(k->error, "");
    ck_assert_uint_gt(k->report->n, 1);
    ck_assert_int_eq(k->report->first_failure, 0);
    ck_assert_int_eq(k->report->points[0].at, now);
    ck_assert(k->report->points[0].ok);
    k = risk_of(v, n, "both", "lab");
    ck_assert_uint_gt(k->report->n, 0);
    ck_assert_int_eq(k->report->first_failure, 0);
    ck_assert_int_eq(k->report->points[0].at, lab_at); /* nothing served before */
    /* only root A: fine until root B's issuer activates */
    k = risk_of(v, n, "only-a", "default");
    ck_assert_int_eq(k->report->first_failure, b_at);
    ck_assert(k->report->points[0].ok);
    ck_assert_int_eq(risk_of(v, n, "only-a", "lab")->report->first_failure, 0);
    /* only root B: broken now, and the lab group (under A) from its first day */
    k = risk_of(v, n, "only-b", "default");
    ck_assert_int_eq(k->report->first_failure, now);
    ck_assert(!k->report->points[0].ok);
    ck_assert_int_eq(risk_of(v, n, "only-b", "lab")->report->first_failure, lab_at);
    /* past its end of life: no verdict */
    for (int g = 0; g < 2; g++) {
        k = risk_of(v, n, "retired", g ? "lab" : "default");
        ck_assert_uint_eq(k->report->n, 0);
        ck_assert_int_eq(k->report->first_failure, 0);
        ck_assert_str_eq(k->error, "");
        ck_assert_int_eq(k->until, now - 1);
    }
    /* a store that no longer parses: the error says so, the report is empty */
    k = risk_of(v, n, "garbled", "default");
    ck_assert_str_ne(k->error, "");
    ck_assert_uint_eq(k->report->n, 0);
    ck_assert_int_eq(k->report->first_failure, 0);
    iotca_ca_risks_free(v, n);
    iotca_ca_risks_free(NULL, 0);
}
END_TEST

/* ---- weekly counts ---- */

START_TEST(weekly_through_the_ca) {
    time_t since = time(NULL) - 60;
    char a[41], b[41], c[41];
    issue("alpha.example.com", a);
    issue("beta.example.com", b);
    issue("gamma.example.com", c);
    iotca_revoke_note note;
    OK(iotca_ca_cert_revoke(F.ca, b, 1, &note));
    OK(iotca_ca_audit(F.ca, "token:unit", "POST /v1/certificates", "/v1/certificates", "r1", "422", "policy"));
    OK(iotca_ca_audit(F.ca, "token:unit", "POST /v1/issuers", "/v1/issuers", "r2", "422", "policy"));
    iotca_week_count *v = NULL;
    size_t n = 0;
    OK(iotca_ca_weekly(F.ca, IOTCA_WEEKLY_ISSUED, since, 1, &v, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(v[0].week, 0);
    ck_assert_uint_eq(v[0].n, 3);
    ck_assert_str_eq(v[0].profile, "");
    free(v);
    OK(iotca_ca_weekly(F.ca, IOTCA_WEEKLY_REVOKED, since, 1, &v, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(v[0].n, 1);
    free(v);
    static const char *const issuing[] = {"POST /v1/certificates", "POST /acme/%/order/%/finalize", NULL};
    OK(iotca_ca_weekly_audit(F.ca, since, 1, issuing, "4%", &v, &n)); /* the issuance's 422, not the issuer's */
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(v[0].n, 1);
    free(v);
    /* "fw" lasts 30 days: the two still valid expire in week 4 after since */
    OK(iotca_ca_weekly(F.ca, IOTCA_WEEKLY_EXPIRING, since, 5, &v, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(v[0].week, 4);
    ck_assert_str_eq(v[0].profile, "fw");
    ck_assert_uint_eq(v[0].n, 2);
    free(v);
    OK(iotca_ca_weekly(F.ca, IOTCA_WEEKLY_EXPIRING, since, 4, &v, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(iotca_ca_weekly(F.ca, IOTCA_WEEKLY_ISSUED, since, 0, &v, &n), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_weekly(F.ca, (iotca_weekly)9, since, 1, &v, &n), IOTCA_E_USAGE);
}
END_TEST

int main(void) {
    Suite *suite = suite_create("dashboard");
    TCase *tc = tcase_create("dashboard");
    tcase_add_checked_fixture(tc, up, down);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, anchors_roots_then_cross);
    tcase_add_test(tc, describe_names_issuer_key);
    tcase_add_test(tc, describe_refuses_garbage);
    tcase_add_test(tc, describe_cuts_long_name_lists);
    tcase_add_test(tc, search_subject_and_sans);
    tcase_add_test(tc, search_ip_addresses_and_mixed_case_sans);
    tcase_add_test(tc, search_ignores_other_fields_of_the_der);
    tcase_add_test(tc, search_scope_and_cursor);
    tcase_add_test(tc, search_refusals);
    tcase_add_test(tc, fleet_risk_per_profile_and_group);
    tcase_add_test(tc, weekly_through_the_ca);
    suite_add_tcase(suite, tc);
    return unit_run(suite);
}
