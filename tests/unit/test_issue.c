/* Unit tests for the issuance cycle's crypto threads (lib/ca/crypto_pool.c) and its two-step form
 * (iotca_ca_issue_start / _end): issuances from many threads at once through a few crypto threads, and many
 * started from one thread, each certificate right and recorded; errors met on a crypto thread returned to
 * the caller with their category and detail; the refusals of the setting and of the two-step form. */
#include <pthread.h>
#include <semaphore.h>

#include "unit_run.h"
#include "iotca/pem.h"

#include "ca_fixture.h"

/* A fresh key's CSR for name (CN and DNS SAN), PEM; its SubjectPublicKeyInfo in *spki if asked. */
static void make_csr(const char *name, iotca_buf *pem, iotca_buf *spki) {
    iotca_key *k = NULL;
    iotca_buf subject = {0}, der = {0};
    iotca_names names = {0};
    snprintf(names.dns[0], sizeof names.dns[0], "%s", name);
    names.n_dns = 1;
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_name_build(NULL, NULL, NULL, name, &subject));
    OK(iotca_csr_build_names(k, iotca_buf_slice(&subject), &names, &der));
    OK(iotca_pem_encode("CERTIFICATE REQUEST", der.data, der.len, pem));
    if (spki) OK(iotca_key_spki(k, spki));
    iotca_key_free(k);
    iotca_buf_free(&subject);
    iotca_buf_free(&der);
}

#define CALLERS 8
#define EACH 6

typedef struct caller {
    fixture *f;
    int id;
    int ok; /* issuances that came back right */
} caller;

/* Issues EACH certificates and checks each: signed by the issuer, for the CSR's own key, recorded. */
static void *issue_some(void *arg) {
    caller *c = arg;
    for (int i = 0; i < EACH; i++) {
        char name[64];
        snprintf(name, sizeof name, "d%d-%d.example.com", c->id, i);
        iotca_buf pem = {0}, spki = {0};
        make_csr(name, &pem, &spki);
        iotca_issued out;
        iotca_cert *leaf = NULL;
        iotca_buf der = {0};
        iotca_cert_rec rec = {0};
        if (iotca_ca_issue(c->f->ca, iotca_buf_slice(&pem), "fw", 0, &out) == IOTCA_OK &&
            iotca_pem_or_der(iotca_buf_slice(&out.cert_pem), "CERTIFICATE", &der) == IOTCA_OK &&
            iotca_cert_parse(iotca_buf_slice(&der), &leaf) == IOTCA_OK &&
            iotca_cert_verify_signed_by(leaf, c->f->issuer_cert) == IOTCA_OK &&
            iotca_slice_eq(iotca_cert_get(leaf)->spki, iotca_buf_slice(&spki)) &&
            iotca_ca_cert_get(c->f->ca, out.serial, &rec) == IOTCA_OK && rec.der.len == der.len &&
            memcmp(rec.der.data, der.data, der.len) == 0)
            c->ok++;
        iotca_cert_rec_free(&rec);
        iotca_cert_free(leaf);
        iotca_buf_free(&der);
        iotca_issued_free(&out);
        iotca_buf_free(&pem);
        iotca_buf_free(&spki);
    }
    iotca_ca_release_memory(c->f->ca); /* the thread's store handle and tables */
    return NULL;
}

START_TEST(many_callers_few_crypto_threads) {
    fixture f;
    setup(&f);
    OK(iotca_ca_set_crypto_threads(f.ca, 2));
    pthread_t th[CALLERS];
    caller c[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        c[i] = (caller){&f, i, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, issue_some, &c[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < CALLERS; i++) {
        pthread_join(th[i], NULL);
        ok += c[i].ok;
    }
    ck_assert_int_eq(ok, CALLERS * EACH);
    iotca_ca_stats st;
    iotca_ca_stats_get(f.ca, &st);
    ck_assert_uint_eq(st.issued, CALLERS * EACH);
    teardown(&f); /* stops the crypto threads */
}
END_TEST

/* What the caller's own thread reports for a CSR, to compare with what comes back from a crypto thread. */
static iotca_rc parse_here(iotca_slice csr, char *detail, size_t n) {
    iotca_csr *c = NULL;
    iotca_rc rc = iotca_csr_parse(csr, &c);
    snprintf(detail, n, "%s", iotca_error_detail());
    iotca_csr_free(c);
    return rc;
}

START_TEST(errors_come_back_whole) {
    fixture f;
    setup(&f);
    OK(iotca_ca_set_crypto_threads(f.ca, 1));
    iotca_buf pem = {0}, der = {0};
    make_csr("bad.example.com", &pem, NULL);
    OK(iotca_pem_or_der(iotca_buf_slice(&pem), "CERTIFICATE REQUEST", &der));
    der.data[der.len - 3] ^= 0x5a; /* inside the signature */
    char here[512];
    iotca_issued out;
    /* a signature that does not verify: the crypto category and the verifier's words */
    iotca_rc want = parse_here(iotca_buf_slice(&der), here, sizeof here);
    ck_assert_int_eq(want, IOTCA_E_CRYPTO);
    ck_assert_int_eq(iotca_ca_issue(f.ca, iotca_buf_slice(&der), "fw", 0, &out), want);
    ck_assert_str_eq(iotca_error_detail(), here);
    /* a truncated request: the parser's category and words */
    iotca_slice cut = iotca_slice_of(der.data, der.len / 2);
    want = parse_here(cut, here, sizeof here);
    ck_assert_int_eq(want, IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_ca_issue(f.ca, cut, "fw", 0, &out), want);
    ck_assert_str_eq(iotca_error_detail(), here);
    /* a policy refusal after the crypto thread's check: a name outside the profile */
    iotca_buf_free(&pem);
    make_csr("device.example.org", &pem, NULL);
    ck_assert_int_eq(iotca_ca_issue(f.ca, iotca_buf_slice(&pem), "fw", 0, &out), IOTCA_E_POLICY);
    ck_assert_msg(strstr(iotca_error_detail(), "device.example.org") != NULL, "detail: %s", iotca_error_detail());
    /* and the next issuance goes through */
    iotca_buf_free(&pem);
    make_csr("good.example.com", &pem, NULL);
    OK(iotca_ca_issue(f.ca, iotca_buf_slice(&pem), "fw", 0, &out));
    iotca_issued_free(&out);
    iotca_ca_stats st;
    iotca_ca_stats_get(f.ca, &st);
    ck_assert_uint_eq(st.issued, 1);
    ck_assert_uint_eq(st.refused, 3);
    iotca_buf_free(&pem);
    iotca_buf_free(&der);
    teardown(&f);
}
END_TEST

START_TEST(setting_refusals) {
    fixture f;
    setup(&f);
    ck_assert_int_eq(iotca_ca_set_crypto_threads(f.ca, IOTCA_CA_MAX_CRYPTO_THREADS + 1), IOTCA_E_USAGE);
    ck_assert_msg(strstr(iotca_error_detail(), "between 0 and 256") != NULL, "detail: %s", iotca_error_detail());
    ck_assert_int_eq(iotca_ca_set_crypto_threads(NULL, 1), IOTCA_E_USAGE);
    OK(iotca_ca_set_crypto_threads(f.ca, 0)); /* none: callers do their own crypto */
    iotca_buf pem = {0};
    iotca_issued out;
    make_csr("inline.example.com", &pem, NULL);
    OK(iotca_ca_issue(f.ca, iotca_buf_slice(&pem), "fw", 0, &out));
    iotca_issued_free(&out);
    OK(iotca_ca_set_crypto_threads(f.ca, 3));
    ck_assert_int_eq(iotca_ca_set_crypto_threads(f.ca, 2), IOTCA_E_USAGE);
    ck_assert_msg(strstr(iotca_error_detail(), "already running") != NULL, "detail: %s", iotca_error_detail());
    OK(iotca_ca_issue(f.ca, iotca_buf_slice(&pem), "fw", 0, &out)); /* the first three still serve */
    iotca_issued_free(&out);
    iotca_buf_free(&pem);
    teardown(&f);
}
END_TEST

/* ---- the two-step form (iotca_ca_issue_start / iotca_ca_issue_end), as iotcad's serving threads use it ---- */

typedef struct told {
    sem_t sem;
    int calls;
} told;

static void tell(void *arg) {
    told *t = arg;
    __atomic_add_fetch(&t->calls, 1, __ATOMIC_RELAXED);
    sem_post(&t->sem);
}

#define STARTED 12

/* Starts STARTED issuances from one thread without waiting, then ends each once told: every one right, for
 * its own CSR's key, and recorded by the time it was told. The caller's CSR is wiped and freed as soon as
 * start returns. done runs once per issuance. With crypto threads (2) and without (0). */
static void start_many(unsigned crypto_threads) {
    fixture f;
    setup(&f);
    OK(iotca_ca_set_crypto_threads(f.ca, crypto_threads));
    iotca_buf spki[STARTED];
    told t[STARTED];
    iotca_issuance *x[STARTED];
    for (int i = 0; i < STARTED; i++) {
        char name[64];
        snprintf(name, sizeof name, "s%d.example.com", i);
        iotca_buf pem = {0};
        memset(&spki[i], 0, sizeof spki[i]);
        make_csr(name, &pem, &spki[i]);
        sem_init(&t[i].sem, 0, 0);
        t[i].calls = 0;
        OK(iotca_ca_issue_start(f.ca, iotca_buf_slice(&pem), "fw", 0, NULL, tell, &t[i], &x[i]));
        ck_assert_ptr_nonnull(x[i]);
        memset(pem.data, 0, pem.len);
        iotca_buf_free(&pem);
    }
    for (int i = 0; i < STARTED; i++) {
        sem_wait(&t[i].sem);
        iotca_issued out;
        OK(iotca_ca_issue_end(x[i], &out));
        iotca_buf der = {0};
        iotca_cert *leaf = NULL;
        iotca_cert_rec rec = {0};
        OK(iotca_pem_or_der(iotca_buf_slice(&out.cert_pem), "CERTIFICATE", &der));
        OK(iotca_cert_parse(iotca_buf_slice(&der), &leaf));
        OK(iotca_cert_verify_signed_by(leaf, f.issuer_cert));
        ck_assert(iotca_slice_eq(iotca_cert_get(leaf)->spki, iotca_buf_slice(&spki[i])));
        OK(iotca_ca_cert_get(f.ca, out.serial, &rec)); /* durable before done was told */
        ck_assert(rec.der.len == der.len && memcmp(rec.der.data, der.data, der.len) == 0);
        iotca_cert_rec_free(&rec);
        iotca_cert_free(leaf);
        iotca_buf_free(&der);
        iotca_issued_free(&out);
        iotca_buf_free(&spki[i]);
    }
    iotca_ca_stats st;
    iotca_ca_stats_get(f.ca, &st);
    ck_assert_uint_eq(st.issued, STARTED);
    ck_assert_uint_eq(st.refused, 0);
    teardown(&f); /* stops the crypto threads and the group commit: a second call would have come by now */
    for (int i = 0; i < STARTED; i++) {
        ck_assert_int_eq(t[i].calls, 1);
        sem_destroy(&t[i].sem);
    }
}

START_TEST(start_returns_and_done_tells_once) {
    start_many(2);
    start_many(0);
}
END_TEST

/* Issues csr in two steps and returns end's result (its detail in iotca_error_detail()); done must have run
 * exactly once by then. */
static iotca_rc two_steps(fixture *f, iotca_slice csr, char *detail, size_t n) {
    told t = {.calls = 0};
    sem_init(&t.sem, 0, 0);
    iotca_issuance *x = NULL;
    OK(iotca_ca_issue_start(f->ca, csr, "fw", 0, NULL, tell, &t, &x));
    sem_wait(&t.sem);
    iotca_issued out;
    iotca_rc rc = iotca_ca_issue_end(x, &out);
    snprintf(detail, n, "%s", iotca_error_detail());
    ck_assert_int_eq(t.calls, 1);
    if (rc != IOTCA_OK) ck_assert_ptr_null(out.cert_pem.data); /* a refusal hands back nothing */
    iotca_issued_free(&out);
    sem_destroy(&t.sem);
    return rc;
}

/* Refusals of the two-step form: at start (nothing pending, done never told) an unknown profile and NULL
 * arguments; at end, what the crypto thread met — a bad signature, a truncated CSR, a policy rule — each with
 * its category and the words of the check that refused it, and nothing recorded. */
static void refusals(unsigned crypto_threads) {
    fixture f;
    setup(&f);
    OK(iotca_ca_set_crypto_threads(f.ca, crypto_threads));
    iotca_buf pem = {0}, der = {0};
    make_csr("refused.example.com", &pem, NULL);
    told t = {.calls = 0};
    sem_init(&t.sem, 0, 0);
    iotca_issuance *x = (iotca_issuance *)&t; /* start must set it to NULL */
    ck_assert_int_eq(iotca_ca_issue_start(f.ca, iotca_buf_slice(&pem), "nope", 0, NULL, tell, &t, &x), IOTCA_E_USAGE);
    ck_assert_msg(strstr(iotca_error_detail(), "unknown profile 'nope'") != NULL, "detail: %s", iotca_error_detail());
    ck_assert_ptr_null(x);
    ck_assert_int_eq(iotca_ca_issue_start(f.ca, iotca_buf_slice(&pem), "fw", 0, NULL, NULL, &t, &x), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_issue_start(f.ca, iotca_buf_slice(&pem), "fw", 0, NULL, tell, &t, NULL), IOTCA_E_USAGE);
    iotca_issued out;
    ck_assert_int_eq(iotca_ca_issue_end(NULL, &out), IOTCA_E_USAGE);
    ck_assert_int_eq(t.calls, 0);

    char here[512], got[512];
    OK(iotca_pem_or_der(iotca_buf_slice(&pem), "CERTIFICATE REQUEST", &der));
    der.data[der.len - 3] ^= 0x5a; /* inside the signature */
    iotca_rc want = parse_here(iotca_buf_slice(&der), here, sizeof here);
    ck_assert_int_eq(want, IOTCA_E_CRYPTO);
    ck_assert_int_eq(two_steps(&f, iotca_buf_slice(&der), got, sizeof got), want);
    ck_assert_str_eq(got, here);
    iotca_slice cut = iotca_slice_of(der.data, der.len / 2);
    want = parse_here(cut, here, sizeof here);
    ck_assert_int_eq(want, IOTCA_E_PARSE);
    ck_assert_int_eq(two_steps(&f, cut, got, sizeof got), want);
    ck_assert_str_eq(got, here);
    iotca_buf_free(&pem);
    make_csr("device.example.org", &pem, NULL); /* a name outside the profile */
    ck_assert_int_eq(two_steps(&f, iotca_buf_slice(&pem), got, sizeof got), IOTCA_E_POLICY);
    ck_assert_msg(strstr(got, "device.example.org") != NULL, "detail: %s", got);
    iotca_ca_stats st;
    iotca_ca_stats_get(f.ca, &st);
    ck_assert_uint_eq(st.issued, 0);
    ck_assert_uint_eq(st.refused, 4); /* the unknown profile and the three above, each once */
    iotca_cert_filter all = {.status = -1, .limit = 10};
    iotca_cert_rec *list = NULL;
    size_t n = 99;
    OK(iotca_ca_cert_list(f.ca, &all, &list, &n));
    ck_assert_uint_eq(n, 0); /* nothing recorded */
    free(list);
    iotca_buf_free(&pem);
    iotca_buf_free(&der);
    sem_destroy(&t.sem);
    teardown(&f);
}

START_TEST(two_step_refusals) {
    refusals(1);
    refusals(0);
}
END_TEST

/* Two ticks at once (the tick thread, and a request's tick after an import due now) both read the issuer
 * as staged; the later transition finds it active. That is the other tick's work, not a failure: both ticks
 * succeed and the activation is audited once (an import once answered 422 "issuer 1 is active, not staged"). */
typedef struct tick_race {
    iotca_ca *ca;
    pthread_barrier_t *go;
    iotca_rc rc;
    char detail[256];
} tick_race;

static void *race_tick(void *arg) {
    tick_race *t = arg;
    int changes = 0;
    pthread_barrier_wait(t->go);
    t->rc = iotca_ca_tick(t->ca, time(NULL), &changes);
    snprintf(t->detail, sizeof t->detail, "%s", t->rc == IOTCA_OK ? "" : iotca_error_detail());
    return NULL;
}

static void count_activations(void *ctx, const iotca_audit_rec *r, const char *broken) {
    (void)broken;
    if (strcmp(r->action, "issuer.activate") == 0) (*(int *)ctx)++;
}

START_TEST(two_ticks_at_once_activate_once) {
    fixture f;
    setup(&f);
    const iotca_cert_info *ri = iotca_cert_get(f.root);
    enum { ROUNDS = 24 }; /* before the fix, 12 rounds met the race in two runs of three */
    for (int i = 0; i < ROUNDS; i++) {
        int64_t id;
        iotca_buf csr_pem = {0}, inter = {0};
        iotca_csr *csr = NULL;
        OK(iotca_ca_issuer_new(f.ca, NULL, NULL, &id, &csr_pem));
        OK(iotca_csr_parse(iotca_buf_slice(&csr_pem), &csr));
        sign_ca_cert(&f, ri->subject, iotca_csr_get(csr)->subject, iotca_csr_get(csr)->spki, 0, &inter);
        OK(iotca_ca_issuer_import(f.ca, id, iotca_buf_slice(&inter), 0)); /* due now: staged */
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        tick_race t[2] = {{.ca = f.ca, .go = &go}, {.ca = f.ca, .go = &go}};
        pthread_t th[2];
        for (int k = 0; k < 2; k++) ck_assert_int_eq(pthread_create(&th[k], NULL, race_tick, &t[k]), 0);
        for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
        pthread_barrier_destroy(&go);
        for (int k = 0; k < 2; k++) ck_assert_msg(t[k].rc == IOTCA_OK, "round %d, tick %d: %s", i, k, t[k].detail);
        iotca_csr_free(csr);
        iotca_buf_free(&csr_pem);
        iotca_buf_free(&inter);
    }
    int activations = 0;
    iotca_audit_check chk;
    OK(iotca_ca_audit_show(f.ca, count_activations, &activations, &chk));
    ck_assert_int_eq(activations, ROUNDS + 1); /* the fixture's issuer and one per round, never twice */
    teardown(&f);
}
END_TEST

int main(void) {
Suite *s = suite_create("issue");
    TCase *tc = tcase_create("crypto_threads");
    tcase_set_timeout(tc, 240); /* generous for valgrind */
    tcase_add_test(tc, many_callers_few_crypto_threads);
    tcase_add_test(tc, errors_come_back_whole);
    tcase_add_test(tc, setting_refusals);
    tcase_add_test(tc, start_returns_and_done_tells_once);
    tcase_add_test(tc, two_step_refusals);
    tcase_add_test(tc, two_ticks_at_once_activate_once);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
