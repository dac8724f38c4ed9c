/* Unit tests for lib/ca/ocsp_cache: the OCSP responder's bounded answer cache. What matters most: once a
 * serial is invalidated (a revocation), no answer read before that can be served again. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "unit_run.h"
#include "../../lib/ca/ocsp_cache.h"

static const uint8_t S1[] = {0x4a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
static const uint8_t S2[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99};
static const uint8_t GOOD[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
static const uint8_t REVOKED[] = {0x30, 0x04, 0x0a, 0x02, 0x00, 0x01};
#define NOW 1800000000

static ocsp_cache *make(size_t slots) {
    ocsp_cache *c = NULL;
    ck_assert_int_eq(ocsp_cache_new(slots, &c), IOTCA_OK);
    return c;
}

START_TEST(put_then_get) {
    ocsp_cache *c = make(64);
    iotca_buf out = {0};
    time_t next = 0;
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next)); /* empty */
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S1, sizeof S1, iotca_slice_of(GOOD, sizeof GOOD), NOW + 3600);
    ck_assert(ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    ck_assert_uint_eq(out.len, sizeof GOOD);
    ck_assert_mem_eq(out.data, GOOD, sizeof GOOD);
    ck_assert_int_eq(next, NOW + 3600);
    /* another issuer's CertID for the same serial, or another serial: not this answer */
    ck_assert(!ocsp_cache_get(c, 2, S1, sizeof S1, NOW, &out, &next));
    ck_assert(!ocsp_cache_get(c, 1, S2, sizeof S2, NOW, &out, &next));
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1 - 1, NOW, &out, &next)); /* a prefix of the serial */
    ck_assert_uint_eq(out.len, sizeof GOOD);                              /* misses append nothing */
    iotca_buf_free(&out);
    ocsp_cache_free(c);
}
END_TEST

START_TEST(stale_answers_are_not_served) {
    ocsp_cache *c = make(64);
    iotca_buf out = {0};
    time_t next;
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S1, sizeof S1, iotca_slice_of(GOOD, sizeof GOOD), NOW + 60);
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW + 60, &out, &next)); /* next_update must be after */
    ck_assert(ocsp_cache_get(c, 1, S1, sizeof S1, NOW + 59, &out, &next));
    iotca_buf_free(&out);
    ocsp_cache_free(c);
}
END_TEST

START_TEST(invalidate_drops_the_answer) {
    ocsp_cache *c = make(64);
    iotca_buf out = {0};
    time_t next;
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S1, sizeof S1, iotca_slice_of(GOOD, sizeof GOOD), NOW + 3600);
    ocsp_cache_invalidate(c, S1, sizeof S1);
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    /* the new (revoked) answer, read after the invalidation, is kept */
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S1, sizeof S1, iotca_slice_of(REVOKED, sizeof REVOKED), NOW + 3600);
    ck_assert(ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    ck_assert_mem_eq(out.data, REVOKED, sizeof REVOKED);
    iotca_buf_free(&out);
    ocsp_cache_free(c);
}
END_TEST

START_TEST(clear_drops_every_answer_and_voids_older_reads) {
    ocsp_cache *c = make(64);
    iotca_buf out = {0};
    time_t next;
    uint64_t before = ocsp_cache_gen(c);
    ocsp_cache_put(c, before, 1, S1, sizeof S1, iotca_slice_of(GOOD, sizeof GOOD), NOW + 3600);
    ocsp_cache_put(c, before, 2, S2, sizeof S2, iotca_slice_of(GOOD, sizeof GOOD), NOW + 3600);
    ocsp_cache_clear(c);
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    ck_assert(!ocsp_cache_get(c, 2, S2, sizeof S2, NOW, &out, &next));
    /* an answer read before the clear is not put back; one read after it is */
    ocsp_cache_put(c, before, 1, S1, sizeof S1, iotca_slice_of(GOOD, sizeof GOOD), NOW + 3600);
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S1, sizeof S1, iotca_slice_of(REVOKED, sizeof REVOKED), NOW + 3600);
    ck_assert(ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    ck_assert_mem_eq(out.data, REVOKED, sizeof REVOKED);
    iotca_buf_free(&out);
    ocsp_cache_free(c);
}
END_TEST

START_TEST(a_read_from_before_an_invalidation_is_not_put) {
    ocsp_cache *c = make(64);
    iotca_buf out = {0};
    time_t next;
    uint64_t gen = ocsp_cache_gen(c); /* a reader starts, reads "good" from the store... */
    ocsp_cache_invalidate(c, S1, sizeof S1); /* ...the certificate is revoked meanwhile... */
    ocsp_cache_put(c, gen, 1, S1, sizeof S1, iotca_slice_of(GOOD, sizeof GOOD), NOW + 3600); /* ...too late */
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    /* an invalidation of any serial voids it (the counter is global: cheap, and errs on the safe side) */
    gen = ocsp_cache_gen(c);
    ocsp_cache_invalidate(c, S2, sizeof S2);
    ocsp_cache_put(c, gen, 1, S1, sizeof S1, iotca_slice_of(GOOD, sizeof GOOD), NOW + 3600);
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    ck_assert_uint_eq(out.len, 0);
    iotca_buf_free(&out);
    ocsp_cache_free(c);
}
END_TEST

START_TEST(one_slot_holds_the_latest) {
    ocsp_cache *c = make(1); /* every serial shares the one slot */
    iotca_buf out = {0};
    time_t next;
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S1, sizeof S1, iotca_slice_of(GOOD, sizeof GOOD), NOW + 3600);
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S2, sizeof S2, iotca_slice_of(REVOKED, sizeof REVOKED), NOW + 3600);
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next)); /* replaced */
    ck_assert(ocsp_cache_get(c, 1, S2, sizeof S2, NOW, &out, &next));
    ocsp_cache_invalidate(c, S1, sizeof S1); /* not the slot's serial: S2 stays */
    out.len = 0;
    ck_assert(ocsp_cache_get(c, 1, S2, sizeof S2, NOW, &out, &next));
    ck_assert_mem_eq(out.data, REVOKED, sizeof REVOKED);
    iotca_buf_free(&out);
    ocsp_cache_free(c); /* frees the DER it holds (Valgrind and LeakSanitizer check) */
}
END_TEST

START_TEST(bad_arguments) {
    ocsp_cache *c = NULL;
    ck_assert_int_eq(ocsp_cache_new(0, &c), IOTCA_E_USAGE);
    ck_assert_int_eq(ocsp_cache_new((1u << 24) + 1, &c), IOTCA_E_USAGE);
    ck_assert_ptr_null(c);
    c = make(8);
    uint8_t long_serial[21] = {1};
    iotca_buf out = {0};
    time_t next;
    /* serials of 0 or more than 20 bytes (RFC 5280 §4.1.2.2) and empty answers are never kept */
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, long_serial, sizeof long_serial, iotca_slice_of(GOOD, sizeof GOOD), NOW + 9);
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S1, 0, iotca_slice_of(GOOD, sizeof GOOD), NOW + 9);
    ocsp_cache_put(c, ocsp_cache_gen(c), 1, S1, sizeof S1, iotca_slice_of(GOOD, 0), NOW + 9);
    ck_assert(!ocsp_cache_get(c, 1, long_serial, sizeof long_serial, NOW, &out, &next));
    ck_assert(!ocsp_cache_get(c, 1, S1, 0, NOW, &out, &next));
    ck_assert(!ocsp_cache_get(c, 1, S1, sizeof S1, NOW, &out, &next));
    ocsp_cache_invalidate(c, NULL, 0); /* only bumps the counter */
    ocsp_cache_free(c);
    ocsp_cache_free(NULL);
}
END_TEST

/* Readers put while a writer invalidates. Each reader's answer carries the counter value it read before its
 * "store read", so the writer can tell: right after an invalidation returns, whatever the cache holds must
 * have been read after that invalidation (counter at least the new value), never before it. Without the
 * counter check in ocsp_cache_put this fails within a few thousand rounds. */
typedef struct race {
    ocsp_cache *c;
    volatile int stop;
} race;

static void *reader(void *arg) {
    race *r = arg;
    while (!r->stop) {
        uint64_t gen = ocsp_cache_gen(r->c);
        uint8_t der[8];
        memcpy(der, &gen, sizeof gen);
        sched_yield(); /* widen the window between the read and the put */
        ocsp_cache_put(r->c, gen, 1, S1, sizeof S1, iotca_slice_of(der, sizeof der), NOW + 3600);
    }
    return NULL;
}

START_TEST(invalidation_wins_a_race) {
    race r = {make(16), 0};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, reader, &r), 0);
    iotca_buf out = {0};
    time_t next;
    for (int i = 0; i < 20000; i++) {
        ocsp_cache_invalidate(r.c, S1, sizeof S1);
        uint64_t after = ocsp_cache_gen(r.c); /* at least the value this invalidation set */
        out.len = 0;
        if (ocsp_cache_get(r.c, 1, S1, sizeof S1, NOW, &out, &next)) {
            uint64_t read_at;
            ck_assert_uint_eq(out.len, sizeof read_at);
            memcpy(&read_at, out.data, sizeof read_at);
            /* only this thread invalidates, so after is exactly the value its last invalidation set */
            ck_assert_msg(read_at == after, "an answer read at %llu survived the invalidation that made it %llu",
                          (unsigned long long)read_at, (unsigned long long)after);
        }
    }
    r.stop = 1;
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    iotca_buf_free(&out);
    ocsp_cache_free(r.c);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ocsp_cache");
    TCase *tc = tcase_create("ocsp_cache");
    tcase_add_test(tc, put_then_get);
    tcase_add_test(tc, stale_answers_are_not_served);
    tcase_add_test(tc, invalidate_drops_the_answer);
    tcase_add_test(tc, clear_drops_every_answer_and_voids_older_reads);
    tcase_add_test(tc, a_read_from_before_an_invalidation_is_not_put);
    tcase_add_test(tc, one_slot_holds_the_latest);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, invalidation_wins_a_race);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    return status;
}
