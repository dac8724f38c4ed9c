/* Fuzz target: the request bodies of every POST/PUT endpoint, run in-process through iotcad's handlers against a
 * real CA in a temporary directory, checking what SPEC §6 promises of each answer.
 *
 * Input: byte 0 picks the call, the rest is the body.
 *   bits 0-1  caller: 0 no token, 1 a wrong token, 2 a provisioner, 3 an admin
 *   bits 2-5  route, modulo the 13 routes of `routes` below
 *   bits 6-7  variant: the path parameter (revoke: last issued serial / same in upper case / unknown / malformed;
 *             issuer import: pending issuer / active issuer / unknown / malformed; trust profile replace: fleet-a / fleet-b /
 *             unknown / a name with '/'; rehearsal results: current / next (something once an import staged
 *             an issuer) / unknown /
 *             wrong-root), the Content-Type of POST /ocsp
 *             (absent / right / wrong / right with parameters), a provisioner scoped to profile "device" (bit 7),
 *             "Authorization: Basic" instead of no header (bit 6, caller 0)
 * Placeholders in the body are replaced by artifacts that only exist at run time (seeds use them):
 *   @ICERT@ / @ICERT_RAW@  the pending issuer's certificate, signed by the root (PEM, JSON-escaped / as is)
 *   @ROOT@                 the root certificate (PEM, JSON-escaped)
 *   @RCRL@                 a fresh root CRL with a higher number each time (PEM)
 *   @OCSP@                 a DER OCSP request (SHA-1 CertID) for the first leaf of the active issuer
 *
 * Headers reach the handlers through MHD_lookup_connection_value_n (and query arguments through
 * MHD_lookup_connection_value), which this file defines: the handlers are linked in statically from iotcad_http,
 * so their calls bind to these definitions before the linker ever looks into libmicrohttpd.so, and no socket,
 * connection or daemon is needed. Each input reaches its handler through iotcad's own route table
 * (route_find), as a served request does. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "route.h"
#include "iotca/ca_rehearsal.h"
#include "iotca/der.h"
#include "iotca/key.h"
#include "iotca/ocsp.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

#define DAY 86400L
/* State-changing successes before the CA is rebuilt from scratch, so tables and key files stay small and the
 * cost of an input does not creep up over a long run. */
#define RESET_AFTER 256
/* Issuer imports before the rebuild. KNOWN LIMIT (reported with issue 7's fuzzing; lib/ca not changed here): the CA
 * keeps every issuer it has loaded in a fixed table of CA_MAX_ISSUERS (64) for the life of the process, so once 64
 * are loaded the next import that activates one fails its tick with "too many issuers loaded" (500), and so does
 * every later one. Rebuilding well before that keeps the fuzzer on the paths a real CA walks. */
#define RESET_AFTER_IMPORTS 32
#define TOKEN_MAX 160

#define MUST(x)                                                                                                    \
    do {                                                                                                           \
        if ((x) != IOTCA_OK) {                                                                                     \
            fprintf(stderr, "fuzz_api setup: %s: %s\n", #x, iotca_error_detail());                                 \
            abort();                                                                                               \
        }                                                                                                          \
    } while (0)

/* UBSan findings stop the run like ASan's do (the build lets them recover otherwise). */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* ---- the connection: the headers one request carries ---------------------------------------------------- */

typedef struct fake_conn {
    const char *authorization, *content_type;
} fake_conn;

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key) {
    const fake_conn *c = (const fake_conn *)connection;
    if (c == NULL || key == NULL || !(kind & MHD_HEADER_KIND)) return NULL; /* no handler here reads arguments */
    if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0) return c->authorization;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_TYPE) == 0) return c->content_type;
    return NULL;
}

enum MHD_Result MHD_lookup_connection_value_n(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                              const char *key, size_t key_size, const char **value_ptr,
                                              size_t *value_size_ptr) {
    (void)key_size;
    const char *v = MHD_lookup_connection_value(connection, kind, key);
    if (v == NULL) return MHD_NO;
    *value_ptr = v;
    if (value_size_ptr) *value_size_ptr = strlen(v);
    return MHD_YES;
}

/* ---- the routes under test ------------------------------------------------------------------------------ */

enum { R_ISSUE, R_REVOKE, R_ISSUER_NEW, R_ISSUER_IMPORT, R_ROOT_CRL, R_LINT, R_FLEET, R_TRUST, R_OCSP, R_TRUST_PUT, R_RENEW,
       R_BRIDGE, R_REHEARSAL, N_ROUTES };

static const struct {
    const char *method, *path; /* "%s" is the path parameter */
    iotca_role need; /* IOTCA_ROLE_NONE: public */
    bool mutates;
} routes[N_ROUTES] = {
    [R_ISSUE] = {"POST", "/v1/certificates", IOTCA_ROLE_PROVISIONER, true},
    [R_REVOKE] = {"POST", "/v1/certificates/%s/revoke", IOTCA_ROLE_PROVISIONER, true},
    [R_ISSUER_NEW] = {"POST", "/v1/issuers", IOTCA_ROLE_ADMIN, true},
    [R_ISSUER_IMPORT] = {"PUT", "/v1/issuers/%s/certificate", IOTCA_ROLE_ADMIN, true},
    [R_ROOT_CRL] = {"PUT", "/v1/ca/root-crl", IOTCA_ROLE_ADMIN, true},
    [R_LINT] = {"POST", "/v1/lint", IOTCA_ROLE_PROVISIONER, false},
    [R_FLEET] = {"POST", "/v1/fleet/check", IOTCA_ROLE_PROVISIONER, false},
    [R_TRUST] = {"POST", "/v1/trust-profiles", IOTCA_ROLE_ADMIN, true},
    [R_OCSP] = {"POST", "/ocsp", IOTCA_ROLE_NONE, false},
    [R_TRUST_PUT] = {"PUT", "/v1/trust-profiles/%s", IOTCA_ROLE_ADMIN, true},
    [R_RENEW] = {"POST", "/v1/certificates/%s/renew", IOTCA_ROLE_PROVISIONER, true},
    [R_BRIDGE] = {"POST", "/v1/bridges", IOTCA_ROLE_ADMIN, true},
    [R_REHEARSAL] = {"POST", "/v1/rehearsals/%s/results", IOTCA_ROLE_PROVISIONER, true},
};

/* ---- state: one root for the whole run; a CA (database, keys, issuers, tokens) rebuilt now and then -------- */

static struct {
    char base[64];
    iotca_key *root_key;
    iotca_buf root_der, root_json;
    iotca_cert *root;
    unsigned gen;
    char dir[128], db[192], keys[192];
    iotca_ca *ca;
    config cfg;
    server srv;
    char admin[TOKEN_MAX], prov[TOKEN_MAX], prov_dev[TOKEN_MAX], wrong[TOKEN_MAX];
    char active_id[24], pending_id[24];
    iotca_buf pending_raw, pending_json; /* the pending issuer's certificate, ready to import */
    iotca_buf ocsp_req;
    char serial[41]; /* the last certificate issued */
    uint64_t crl_number;
    unsigned changes, imports;
    unsigned long inputs;
    bool verbose;
} g;

static iotca_profile profiles[2];

static void make_profiles(void) {
    iotca_profile *d = &profiles[0], *f = &profiles[1];
    d->name = "device";
    d->issuer_group = "default";
    d->key_types = 1u << IOTCA_KEY_ECDSA_P256 | 1u << IOTCA_KEY_ED25519;
    d->max_ttl = 3650 * DAY;
    d->default_ttl = 30 * DAY;
    d->eku = IOTCA_EKU_CLIENT;
    d->key_usage = IOTCA_KU_DIGITAL_SIGNATURE;
    d->dns_suffixes[d->n_dns_suffixes++] = "example.com";
    d->uri_prefixes[d->n_uri_prefixes++] = "urn:dev:fuzz:";
    d->require_san = true;
    d->subject = IOTCA_SUBJECT_CN_ONLY;
    f->name = "firmware";
    f->issuer_group = "default";
    f->key_types = 1u << IOTCA_KEY_ECDSA_P256 | 1u << IOTCA_KEY_ECDSA_P384 | 1u << IOTCA_KEY_RSA_3072;
    f->max_ttl = 90 * DAY;
    f->default_ttl = 30 * DAY;
    f->eku = IOTCA_EKU_SERVER | IOTCA_EKU_CLIENT;
    f->key_usage = IOTCA_KU_DIGITAL_SIGNATURE | IOTCA_KU_KEY_ENCIPHERMENT;
    f->dns_suffixes[f->n_dns_suffixes++] = "updates.example.com";
    f->allow_wildcards = true;
    MUST(iotca_ip_parse("10.0.0.0/8", &f->ip_ranges[f->n_ip_ranges++]));
    f->max_names = 4;
    f->require_san = true;
    f->cn_in_san = true;
    f->subject = IOTCA_SUBJECT_FROM_CSR;
    f->bridge_max_ttl = 3 * DAY; /* bridges (issue 24): from a retiring issuer only (after an import activated another) */
}

/* PEM with its line breaks written as JSON's "\n", to paste inside a JSON string. */
static void json_escape_pem(const iotca_buf *pem, iotca_buf *out) {
    iotca_buf_clear(out);
    for (size_t i = 0; i < pem->len; i++)
        MUST(pem->data[i] == '\n' ? iotca_buf_append(out, "\\n", 2) : iotca_buf_append_byte(out, pem->data[i]));
    MUST(iotca_buf_cstr(out));
}

/* A CA certificate signed by the root, as iotca-root's ceremony would make it (self-signed when there is no
 * root yet). */
static void sign_ca(iotca_slice subject, iotca_slice spki, int path_len, long days, iotca_buf *out) {
    uint8_t serial[IOTCA_SERIAL_LEN];
    MUST(iotca_serial_random(serial));
    iotca_cert_spec spec = {0};
    spec.serial = iotca_slice_of(serial, sizeof serial);
    spec.issuer = g.root ? iotca_cert_get(g.root)->subject : subject;
    if (g.root) spec.issuer_skid = iotca_cert_get(g.root)->skid;
    spec.subject = subject;
    spec.spki = spki;
    spec.not_before = time(NULL) - 3600;
    spec.not_after = time(NULL) + days * DAY;
    spec.is_ca = true;
    spec.path_len = path_len;
    spec.key_usage = IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN;
    MUST(iotca_cert_sign(&spec, g.root_key, out));
}

static void make_root(void) {
    iotca_buf name = {0}, spki = {0}, pem = {0};
    MUST(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &g.root_key));
    MUST(iotca_name_build("DE", "iotca fuzz", NULL, "Fuzz Root R1", &name));
    MUST(iotca_key_spki(g.root_key, &spki));
    sign_ca(iotca_buf_slice(&name), iotca_buf_slice(&spki), -1, 3650, &g.root_der);
    MUST(iotca_cert_parse(iotca_buf_slice(&g.root_der), &g.root));
    MUST(iotca_pem_encode("CERTIFICATE", g.root_der.data, g.root_der.len, &pem));
    json_escape_pem(&pem, &g.root_json);
    iotca_buf_free(&name);
    iotca_buf_free(&spki);
    iotca_buf_free(&pem);
}

/* Makes the next issuer (key and CSR by the CA) and signs its certificate, ready for the import route. */
static void prepare_pending(iotca_buf *der_out) {
    int64_t id;
    iotca_buf csr_pem = {0}, der = {0};
    iotca_csr *csr = NULL;
    MUST(iotca_ca_issuer_new(g.ca, NULL, NULL, &id, &csr_pem));
    MUST(iotca_csr_parse(iotca_buf_slice(&csr_pem), &csr));
    sign_ca(iotca_csr_get(csr)->subject, iotca_csr_get(csr)->spki, 0, 365, &der);
    iotca_buf_clear(&g.pending_raw);
    MUST(iotca_pem_encode("CERTIFICATE", der.data, der.len, &g.pending_raw));
    MUST(iotca_buf_cstr(&g.pending_raw));
    json_escape_pem(&g.pending_raw, &g.pending_json);
    snprintf(g.pending_id, sizeof g.pending_id, "%lld", (long long)id);
    if (der_out) MUST(iotca_buf_append(der_out, der.data, der.len));
    iotca_csr_free(csr);
    iotca_buf_free(&csr_pem);
    iotca_buf_free(&der);
}

static void make_token(iotca_role role, const char *scope, char out[TOKEN_MAX]) {
    iotca_buf t = {.secret = true};
    MUST(iotca_ca_token_create(g.ca, role, scope, 0, "fuzz", &t));
    if (t.len >= TOKEN_MAX) abort();
    snprintf(out, TOKEN_MAX, "%.*s", (int)t.len, (const char *)t.data);
    iotca_buf_free(&t);
}

/* OCSPRequest { tbsRequest { requestList { Request { CertID } } } } (RFC 6960 §4.1.1), SHA-1 hashes. */
static void make_ocsp_request(const iotca_cert *issuer, const char *serial_hex, iotca_buf *out) {
    static const uint8_t sha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
    uint8_t nh[32], kh[32];
    size_t hl;
    iotca_buf serial = {0};
    MUST(iotca_ocsp_issuer_hashes(issuer, IOTCA_OCSP_SHA1, nh, kh, &hl));
    MUST(iotca_hex_decode(serial_hex, &serial));
    iotca_der w;
    iotca_der_init(&w, out);
    for (int i = 0; i < 5; i++) iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(&w, sha1, sizeof sha1);
    iotca_der_null(&w);
    iotca_der_end(&w);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, nh, hl);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, kh, hl);
    iotca_der_uint(&w, serial.data, serial.len);
    for (int i = 0; i < 5; i++) iotca_der_end(&w);
    MUST(iotca_der_finish(&w));
    iotca_buf_free(&serial);
}

/* A leaf for profile "device", issued the way the API does it. */
static void first_leaf(void) {
    static iotca_names names; /* large */
    memset(&names, 0, sizeof names);
    snprintf(names.dns[names.n_dns++], sizeof names.dns[0], "fuzz-device-1.example.com");
    iotca_key *k = NULL;
    iotca_buf name = {0}, csr = {0};
    MUST(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    MUST(iotca_name_build(NULL, NULL, NULL, "fuzz-device-1", &name));
    MUST(iotca_csr_build_names(k, iotca_buf_slice(&name), &names, &csr));
    iotca_issued is;
    MUST(iotca_ca_issue(g.ca, iotca_buf_slice(&csr), "device", 0, &is));
    snprintf(g.serial, sizeof g.serial, "%s", is.serial);
    iotca_issued_free(&is);
    iotca_key_free(k);
    iotca_buf_free(&name);
    iotca_buf_free(&csr);
}

/* A fresh CA: database, an active issuer signed by the root, a pending one with its certificate ready, tokens,
 * one leaf, and an OCSP request for it. */
static void setup_ca(void) {
    g.gen++;
    snprintf(g.dir, sizeof g.dir, "%s/gen-%u", g.base, g.gen);
    snprintf(g.db, sizeof g.db, "%s/iotca.db", g.dir);
    snprintf(g.keys, sizeof g.keys, "%s/keys", g.dir);
    if (mkdir(g.dir, 0700) != 0 || mkdir(g.keys, 0700) != 0) {
        perror("fuzz_api setup: mkdir");
        abort();
    }
    MUST(iotca_ca_init_db(g.db));
    iotca_slice root = iotca_buf_slice(&g.root_der);
    iotca_ca_config cc = {.db_path = g.db,
                          .key_dir = g.keys,
                          .key_passphrase = iotca_slice_of("fuzz issuer key passphrase", 26),
                          .issuer_key_type = IOTCA_KEY_ECDSA_P256,
                          .default_group = "default",
                          .roots = &root,
                          .n_roots = 1,
                          .profiles = profiles,
                          .n_profiles = 2,
                          .base_url = "http://ca.fuzz.example",
                          .kdf_iterations = 1000}; /* fast; key storage is not under test */
    MUST(iotca_ca_open(&cc, &g.ca));
    iotca_buf der = {0};
    prepare_pending(&der);
    MUST(iotca_ca_issuer_import(g.ca, atoll(g.pending_id), iotca_buf_slice(&der), 0));
    int changes = 0;
    MUST(iotca_ca_tick(g.ca, time(NULL), &changes));
    snprintf(g.active_id, sizeof g.active_id, "%s", g.pending_id);
    make_token(IOTCA_ROLE_ADMIN, NULL, g.admin);
    make_token(IOTCA_ROLE_PROVISIONER, NULL, g.prov);
    make_token(IOTCA_ROLE_PROVISIONER, "device", g.prov_dev);
    snprintf(g.wrong, sizeof g.wrong, "%s", g.admin);
    char *last = &g.wrong[strlen(g.wrong) - 1];
    *last = *last == '0' ? '1' : '0'; /* the admin's id, a wrong secret */
    first_leaf();
    iotca_cert *issuer = NULL;
    MUST(iotca_cert_parse(iotca_buf_slice(&der), &issuer));
    iotca_buf_clear(&g.ocsp_req);
    make_ocsp_request(issuer, g.serial, &g.ocsp_req);
    iotca_cert_free(issuer);
    iotca_buf_free(&der);
    prepare_pending(NULL);
    /* rehearsals (issue 24), and a registered trust profile "fleet-r" to report results for */
    g.cfg.rehearsal.on = true;
    g.cfg.rehearsal.address = "127.0.0.1";
    g.cfg.rehearsal.base_port = 9440;
    g.cfg.rehearsal.rc = (iotca_rehearsal_config){.name = "bench.updates.example.com", .ttl = 3600};
    MUST(iotca_ca_rehearsal_configure(g.ca, &g.cfg.rehearsal.rc));
    MUST(iotca_ca_rehearsal_refresh(g.ca, time(NULL), NULL));
    static const char *const ack[] = {"store.single_root", "chain.no_anchor", "root.expires", "root.weak"};
    iotca_buf root_pem = {0};
    MUST(iotca_pem_encode("CERTIFICATE", g.root_der.data, g.root_der.len, &root_pem));
    MUST(iotca_buf_cstr(&root_pem));
    iotca_trust_profile_req tp = {"fleet-r", (const char *)root_pem.data, "mbedtls", time(NULL) + 300 * DAY, ack, 4};
    static iotca_lint_report lint; /* large */
    bool refused = false;
    int64_t tp_id = 0;
    MUST(iotca_ca_trust_profile_add(g.ca, &tp, &lint, &refused, &tp_id));
    iotca_buf_free(&root_pem);
    g.cfg.max_body = 65536; /* no rate limit: every input gets to its handler */
    memset(&g.srv, 0, sizeof g.srv);
    g.srv.ca = g.ca; /* srv.cfg (the live, reloadable config) stays NULL: handlers read request.cfg */
    g.changes = g.imports = 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown_ca(void) {
    iotca_ca_close(g.ca);
    g.ca = NULL;
    nftw(g.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void) {
    if (g.ca) teardown_ca();
    rmdir(g.base);
    iotca_buf_free(&g.pending_raw);
    iotca_buf_free(&g.pending_json);
    iotca_buf_free(&g.ocsp_req);
    iotca_buf_free(&g.root_der);
    iotca_buf_free(&g.root_json);
    iotca_cert_free(g.root);
    iotca_key_free(g.root_key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    /* tmpfs when there is one: every issuance commits (fsync) to the database */
    snprintf(g.base, sizeof g.base, "%s", access("/dev/shm", W_OK) == 0 ? "/dev/shm/iotca-fuzz-api-XXXXXX"
                                                                         : "/tmp/iotca-fuzz-api-XXXXXX");
    if (mkdtemp(g.base) == NULL) {
        perror("fuzz_api: mkdtemp");
        abort();
    }
    g.verbose = getenv("FUZZ_API_VERBOSE") != NULL && strcmp(getenv("FUZZ_API_VERBOSE"), "0") != 0;
    make_profiles();
    make_root();
    setup_ca();
    atexit(cleanup);
    return 0;
}

/* ---- placeholders --------------------------------------------------------------------------------------- */

static void root_crl(iotca_buf *out) {
    iotca_crl_spec spec = {0};
    spec.issuer = iotca_cert_get(g.root)->subject;
    spec.issuer_skid = iotca_cert_get(g.root)->skid;
    spec.this_update = time(NULL) - 60;
    spec.next_update = time(NULL) + 30 * DAY;
    spec.crl_number = ++g.crl_number;
    iotca_buf der = {0};
    MUST(iotca_crl_sign(&spec, g.root_key, &der));
    MUST(iotca_pem_encode("X509 CRL", der.data, der.len, out));
    iotca_buf_free(&der);
}

static void substitute(const uint8_t *in, size_t n, iotca_buf *out) {
    static const char *const names[] = {"@ICERT@", "@ICERT_RAW@", "@ROOT@", "@RCRL@", "@OCSP@"};
    size_t i = 0;
    while (i < n) {
        const uint8_t *at = memchr(in + i, '@', n - i);
        size_t k = at ? (size_t)(at - in) : n;
        MUST(iotca_buf_append(out, in + i, k - i));
        if (at == NULL) break;
        int which = -1;
        size_t len = 1;
        for (int t = 0; t < (int)(sizeof names / sizeof names[0]) && which < 0; t++) {
            size_t l = strlen(names[t]);
            if (n - k >= l && memcmp(in + k, names[t], l) == 0) which = t, len = l;
        }
        switch (which) {
        case 0: MUST(iotca_buf_append(out, g.pending_json.data, g.pending_json.len)); break;
        case 1: MUST(iotca_buf_append(out, g.pending_raw.data, g.pending_raw.len)); break;
        case 2: MUST(iotca_buf_append(out, g.root_json.data, g.root_json.len)); break;
        case 3: root_crl(out); break;
        case 4: MUST(iotca_buf_append(out, g.ocsp_req.data, g.ocsp_req.len)); break;
        default: MUST(iotca_buf_append_byte(out, '@'));
        }
        i = k + len;
    }
}

/* ---- invariants ----------------------------------------------------------------------------------------- */

typedef struct call {
    unsigned route;
    const char *who, *path;
    iotca_role role;    /* the caller's role if its token is good, else IOTCA_ROLE_NONE */
    bool scoped;        /* a provisioner limited to profile "device" */
    bool bad_type;      /* POST /ocsp with a Content-Type other than application/ocsp-request */
} call;

static void violated(const call *c, const response *out, const char *why) {
    fprintf(stderr, "fuzz_api: INVARIANT VIOLATED: %s\n  %s %s as %s -> %u %s\n  body: %.*s\n", why,
            routes[c->route].method, c->path, c->who, out->status, out->content_type ? out->content_type : "(none)",
            (int)(out->body.len > 2000 ? 2000 : out->body.len), out->body.data ? (const char *)out->body.data : "");
    nftw(g.base, rm_entry, 16, FTW_DEPTH | FTW_PHYS); /* abort() skips atexit */
    abort();
}

/* RFC 3629 well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_ok(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        size_t k = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : (b & 0xf8) == 0xf0 ? 3 : 9;
        if (k == 9 || (k && i + k >= n)) return false;
        uint32_t cp = k == 0 ? b : b & (0x3f >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += k + 1;
    }
    return true;
}

static json_t *body_doc(const call *c, const response *out) {
    if (out->content_type == NULL || strcmp(out->content_type, "application/json") != 0)
        violated(c, out, "a JSON endpoint answered without Content-Type application/json");
    json_t *j = json_loadb((const char *)out->body.data, out->body.len, 0, NULL);
    if (!json_is_object(j)) violated(c, out, "the body is not a JSON object");
    return j;
}

static const char *str_field(const call *c, const response *out, json_t *j, const char *key) {
    const char *s = json_string_value(json_object_get(j, key));
    if (s == NULL) {
        json_decref(j);
        char why[96];
        snprintf(why, sizeof why, "the body has no string \"%s\"", key);
        violated(c, out, why);
    }
    return s;
}

/* The issued certificate parses, is a leaf, and chains to the root through the chain sent with it. */
/* Whether issuer id is retiring now: the only state a bridge certificate may come from (issue 24). */
static bool bridge_from_retiring(json_int_t id) {
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    bool retiring = false;
    if (iotca_ca_issuers(g.ca, &list, &n) != IOTCA_OK) return false;
    for (size_t i = 0; i < n; i++) {
        if (list[i].id == id && list[i].state == IOTCA_ISSUER_RETIRING) retiring = true;
        iotca_issuer_rec_free(&list[i]);
    }
    free(list);
    return retiring;
}

/* Whether some issuer is staged now: what the rehearsal scenario `next` presents (issue 24). */
static bool issuer_staged(void) {
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    bool staged = false;
    if (iotca_ca_issuers(g.ca, &list, &n) != IOTCA_OK) return false;
    for (size_t i = 0; i < n; i++) {
        if (list[i].state == IOTCA_ISSUER_STAGED) staged = true;
        iotca_issuer_rec_free(&list[i]);
    }
    free(list);
    return staged;
}

static void check_issued(const call *c, const response *out, json_t *j) {
    const char *pem = str_field(c, out, j, "certificate"), *chain = str_field(c, out, j, "chain");
    const char *serial = str_field(c, out, j, "serial"), *profile = str_field(c, out, j, "profile");
    size_t sl = strlen(serial);
    if (sl == 0 || sl > 40 || strspn(serial, "0123456789abcdef") != sl) violated(c, out, "bad serial");
    if (c->scoped && strcmp(profile, "device") != 0) violated(c, out, "a scoped token got another profile");
    iotca_cert *leaf = NULL;
    if (iotca_cert_parse(iotca_slice_of(pem, strlen(pem)), &leaf) != IOTCA_OK)
        violated(c, out, "the certificate does not parse");
    if (iotca_cert_get(leaf)->is_ca) violated(c, out, "a CA certificate was issued");
    iotca_buf inter[4] = {{0}};
    iotca_slice is[4];
    size_t ni = 0;
    iotca_slice text = iotca_slice_of(chain, strlen(chain));
    while (ni < 4 && iotca_pem_next(&text, "CERTIFICATE", &inter[ni], NULL) == IOTCA_OK) {
        is[ni] = iotca_buf_slice(&inter[ni]);
        ni++;
    }
    iotca_slice anchor = iotca_buf_slice(&g.root_der);
    if (ni == 0 || iotca_chain_verify_wolfssl(&anchor, 1, is, ni, iotca_cert_get(leaf)->der) != IOTCA_OK)
        violated(c, out, "the certificate does not chain to the root");
    snprintf(g.serial, sizeof g.serial, "%s", serial);
    for (size_t i = 0; i < ni; i++) iotca_buf_free(&inter[i]);
    iotca_cert_free(leaf);
}

static void check(const call *c, const response *out) {
    unsigned st = out->status;
    if (st == 0) violated(c, out, "no status");
    bool ok2xx = st >= 200 && st < 300;
    bool known = ok2xx || st == 400 || st == 401 || st == 403 || st == 404 || st == 409 || st == 413 || st == 422 ||
                 st == 503 || (c->route == R_OCSP && st == 415);
    if (!known) violated(c, out, "unexpected status");
    /* every answer the daemon builds as JSON is UTF-8, whatever bytes the request carried */
    if (out->content_type && strcmp(out->content_type, "application/json") == 0 && !utf8_ok(out->body.data, out->body.len))
        violated(c, out, "a JSON answer that is not UTF-8");
    /* authorization comes before anything the body says */
    iotca_role need = routes[c->route].need;
    if (need != IOTCA_ROLE_NONE && c->role == IOTCA_ROLE_NONE && st != 401 && st != 503)
        violated(c, out, "a caller without a good token was not refused with 401");
    if (need != IOTCA_ROLE_NONE && c->role != IOTCA_ROLE_NONE && c->role < need && st != 403 && st != 503)
        violated(c, out, "a caller whose role is too low was not refused with 403");
    if (c->route == R_OCSP) {
        if (c->bad_type != (st == 415)) violated(c, out, "415 if and only if the Content-Type is wrong");
        if (st != 200 && st != 415) violated(c, out, "the OCSP responder answers every request with 200");
        if (st == 200 && (out->body.len == 0 || out->body.data[0] != 0x30 || out->content_type == NULL ||
                          strcmp(out->content_type, "application/ocsp-response") != 0))
            violated(c, out, "an OCSP 200 is not a DER OCSPResponse");
    }
    if (st >= 400) {
        json_t *j = body_doc(c, out);
        const char *code = str_field(c, out, j, "error");
        (void)str_field(c, out, j, "detail");
        if (out->error == NULL || strcmp(out->error, code) != 0) violated(c, out, "response.error differs from the body");
        json_decref(j);
        return;
    }
    if (!ok2xx || c->route == R_OCSP) return;
    json_t *j = body_doc(c, out);
    if (c->route == R_BRIDGE) {
        if (st != 201) violated(c, out, "a bridge succeeded without 201");
        check_issued(c, out, j);
        if (!json_is_true(json_object_get(j, "bridge"))) violated(c, out, "a bridge answer without bridge: true");
        if (!bridge_from_retiring(json_integer_value(json_object_get(j, "issuer"))))
            violated(c, out, "a bridge certificate from an issuer that is not retiring");
    }
    if (c->route == R_ISSUE || c->route == R_RENEW) {
        if (st != 201) violated(c, out, "issuance succeeded without 201");
        check_issued(c, out, j);
    }
    if (c->route == R_REHEARSAL) {
        /* a result only for a scenario presenting something (`next` once an import staged an issuer), and `passed`
         * is whether the device did what a correct one does: accept current and next, refuse wrong-root */
        const char *sc = str_field(c, out, j, "scenario"), *res = str_field(c, out, j, "result");
        bool next = strcmp(sc, "next") == 0, accept = next || strcmp(sc, "current") == 0, ok = strcmp(res, "ok") == 0;
        if (st != 201) violated(c, out, "a rehearsal result recorded without 201");
        if (!accept && strcmp(sc, "wrong-root") != 0) violated(c, out, "a result for a scenario that does not exist");
        if (next && !issuer_staged()) violated(c, out, "a result for next with no staged issuer");
        if (json_is_true(json_object_get(j, "passed")) != (ok == accept)) violated(c, out, "a wrong passed flag");
    }
    if (c->route == R_REVOKE && strcmp(str_field(c, out, j, "status"), "revoked") != 0)
        violated(c, out, "a revocation answered a certificate that is not revoked");
    json_decref(j);
}

/* ---- one input ------------------------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    unsigned sel = data[0], who = sel & 3, variant = sel >> 6;
    call c = {.route = ((sel >> 2) & 15) % N_ROUTES};
    fake_conn fc = {0};
    char auth[TOKEN_MAX + 8], param[64] = "", path[128];
    static const char *const callers[] = {"nobody", "a wrong token", "a provisioner", "an admin"};
    c.who = callers[who];
    switch (who) {
    case 0: fc.authorization = variant & 1 ? "Basic Zm9vOmJhcg==" : NULL; break;
    case 1: snprintf(auth, sizeof auth, "Bearer %s", g.wrong); break;
    case 2:
        c.scoped = variant & 2;
        c.role = IOTCA_ROLE_PROVISIONER;
        if (c.scoped) c.who = "a provisioner scoped to device";
        snprintf(auth, sizeof auth, "Bearer %s", c.scoped ? g.prov_dev : g.prov);
        break;
    default: c.role = IOTCA_ROLE_ADMIN; snprintf(auth, sizeof auth, "Bearer %s", g.admin);
    }
    if (who) fc.authorization = auth;
    if (c.route == R_REVOKE || c.route == R_RENEW) {
        static const char *const other[] = {NULL, NULL, "00ffeeddccbbaa99887766554433221100", "not-a-serial"};
        if (variant < 2) snprintf(param, sizeof param, "%s", g.serial);
        else snprintf(param, sizeof param, "%s", other[variant]);
        for (char *p = param; variant == 1 && *p; p++)
            if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    } else if (c.route == R_ISSUER_IMPORT) {
        static const char *const other[] = {NULL, NULL, "999999", "1x"};
        snprintf(param, sizeof param, "%s", variant == 0 ? g.pending_id : variant == 1 ? g.active_id : other[variant]);
    } else if (c.route == R_TRUST_PUT) {
        static const char *const names[] = {"fleet-a", "fleet-b", "nosuch", "a/b"};
        snprintf(param, sizeof param, "%s", names[variant]);
    } else if (c.route == R_REHEARSAL) {
        static const char *const names[] = {"current", "next", "nonesuch", "wrong-root"};
        snprintf(param, sizeof param, "%s", names[variant]);
    } else if (c.route == R_OCSP) {
        static const char *const types[] = {NULL, "application/ocsp-request", "application/json",
                                            "application/ocsp-request; charset=binary"};
        fc.content_type = types[variant];
        c.bad_type = variant == 2;
    }
    snprintf(path, sizeof path, routes[c.route].path, param);
    c.path = path;

    /* the body in a buffer of exactly its size, as the server's may be: reading past it is an ASan report */
    iotca_buf sub = {0};
    substitute(data + 1, size - 1, &sub);
    size_t len = sub.len;
    uint8_t *exact = len ? malloc(len) : NULL;
    if (len && exact == NULL) abort();
    if (len) memcpy(exact, sub.data, len);
    iotca_buf_free(&sub);

    request r;
    memset(&r, 0, sizeof r);
    r.srv = &g.srv;
    r.cfg = &g.cfg;
    r.conn = (struct MHD_Connection *)&fc;
    r.method = routes[c.route].method;
    r.path = path;
    if (len) r.body = iotca_buf_borrow(exact, len);
    clock_gettime(CLOCK_MONOTONIC, &r.start);
    snprintf(r.id, sizeof r.id, "fuzz-%lu", ++g.inputs);
    (void)param; /* in the path: the route table gives it back */
    route_find(&r);
    if (r.route == NULL || !r.method_ok) { /* an empty parameter (nothing issued yet): iotcad answers 404 */
        free(exact);
        return 0;
    }
    const char *pp[ROUTE_MAX_PARAMS];
    for (size_t k = 0; k < r.n_params; k++) pp[k] = r.params[k];
    response out = {0};
    r.route->fn(&r, pp, &out);
    if (g.verbose) /* FUZZ_API_VERBOSE=1: one line per input, to see what each seed reaches */
        fprintf(stderr, "fuzz_api: %s %s as %s -> %u %.*s\n", r.method, path, c.who, out.status,
                (int)(out.status >= 300 && out.body.len < 300 ? out.body.len : 0), (const char *)out.body.data);
    check(&c, &out);

    bool ok2xx = out.status >= 200 && out.status < 300;
    if (ok2xx && routes[c.route].mutates) g.changes++;
    /* the pending issuer was imported: make the next one, so the import's success path stays reachable */
    if (ok2xx && c.route == R_ISSUER_IMPORT) g.imports++;
    if (ok2xx && c.route == R_ISSUER_IMPORT && variant == 0) prepare_pending(NULL);
    if (out.use_fd) close(out.fd);
    iotca_buf_free(&out.body);
    free(exact);
    if (g.changes >= RESET_AFTER || g.imports >= RESET_AFTER_IMPORTS) {
        teardown_ca();
        setup_ca();
    }
    return 0;
}
