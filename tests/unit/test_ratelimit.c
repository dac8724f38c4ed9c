/* Unit tests for server/ratelimit: the token bucket as a pure function of a clock value, and the bounded,
 * thread-safe table of buckets by token. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "unit_run.h"
#include "ratelimit.h"

/* Takes n tokens at now_ms; returns how many were granted. */
static unsigned take_n(rl_bucket *b, unsigned rate, unsigned burst, int64_t now_ms, unsigned n) {
    unsigned got = 0, retry;
    for (unsigned i = 0; i < n; i++) got += rl_bucket_take(b, rate, burst, now_ms, &retry);
    return got;
}

START_TEST(burst_then_refused) {
    rl_bucket b;
    rl_bucket_init(&b, 5, 1000);
    ck_assert_uint_eq(take_n(&b, 2, 5, 1000, 5), 5);
    unsigned retry = 0;
    ck_assert(!rl_bucket_take(&b, 2, 5, 1000, &retry));
    ck_assert_uint_eq(retry, 1); /* half a second at 2/s, rounded up to whole seconds */
}
END_TEST

START_TEST(refills_at_the_rate) {
    rl_bucket b;
    rl_bucket_init(&b, 1, 0);
    unsigned retry;
    ck_assert(rl_bucket_take(&b, 4, 1, 0, &retry));
    ck_assert(!rl_bucket_take(&b, 4, 1, 249, &retry)); /* 249 ms at 4/s: 0.996 of a token */
    ck_assert(rl_bucket_take(&b, 4, 1, 250, &retry));  /* 250 ms: exactly one */
    ck_assert(!rl_bucket_take(&b, 4, 1, 250, &retry));
    /* 10 s at 4/s is 40 tokens, but never more than the burst of 1 */
    ck_assert_uint_eq(take_n(&b, 4, 1, 10250, 3), 1);
}
END_TEST

START_TEST(fractions_accumulate_across_refused_calls) {
    rl_bucket b;
    rl_bucket_init(&b, 1, 0);
    unsigned retry;
    ck_assert(rl_bucket_take(&b, 3, 1, 0, &retry));
    /* many refused calls in between must not lose the thirds that accrue */
    for (int64_t t = 10; t < 334; t += 10) ck_assert(!rl_bucket_take(&b, 3, 1, t, &retry));
    ck_assert(rl_bucket_take(&b, 3, 1, 334, &retry)); /* 334 ms * 3/s = 1.002 tokens */
}
END_TEST

START_TEST(retry_after_is_enough) {
    /* for every rate, waiting the Retry-After it gave is enough for the next request */
    for (unsigned rate = 1; rate <= 1000; rate = rate * 3 + 1) {
        rl_bucket b;
        rl_bucket_init(&b, 1, 5000);
        unsigned retry = 0;
        ck_assert(rl_bucket_take(&b, rate, 1, 5000, &retry));
        ck_assert(!rl_bucket_take(&b, rate, 1, 5000, &retry));
        ck_assert_uint_ge(retry, 1);
        ck_assert_msg(rl_bucket_take(&b, rate, 1, 5000 + (int64_t)retry * 1000, &retry),
                      "rate %u: Retry-After was too short", rate);
    }
}
END_TEST

START_TEST(clock_going_back_refills_nothing) {
    rl_bucket b;
    rl_bucket_init(&b, 2, 100000);
    ck_assert_uint_eq(take_n(&b, 1, 2, 100000, 2), 2);
    unsigned retry;
    ck_assert(!rl_bucket_take(&b, 1, 2, 50000, &retry)); /* 50 s earlier: no tokens, no crash */
    ck_assert(!rl_bucket_take(&b, 1, 2, 100500, &retry));
    ck_assert(rl_bucket_take(&b, 1, 2, 101000, &retry)); /* time resumes from the last value seen */
}
END_TEST

START_TEST(extreme_values) {
    rl_bucket b;
    unsigned retry;
    rl_bucket_init(&b, RATELIMIT_MAX, 0);
    /* an idle span of ~146,000 years and the largest rate and burst: no overflow, just a full bucket */
    ck_assert_uint_eq(take_n(&b, RATELIMIT_MAX, RATELIMIT_MAX, INT64_MAX / 2, RATELIMIT_MAX + 5), RATELIMIT_MAX);
    ck_assert(!rl_bucket_take(&b, RATELIMIT_MAX, RATELIMIT_MAX, INT64_MAX / 2, &retry));
    ck_assert_uint_eq(retry, 1);
    /* a rate of 0 (never configured: the config refuses it) is treated as 1, not divided by */
    rl_bucket_init(&b, 1, 0);
    ck_assert(rl_bucket_take(&b, 0, 0, 0, &retry));
    ck_assert(!rl_bucket_take(&b, 0, 0, 10, &retry));
    ck_assert_uint_eq(retry, 1);
    ck_assert(rl_bucket_take(&b, 0, 0, 1000, &retry));
}
END_TEST

START_TEST(lowered_burst_applies_at_once) {
    rl_bucket b;
    rl_bucket_init(&b, 100, 0);
    /* a reload lowers the burst from 100 to 3: the full bucket holds 3, not 100 */
    ck_assert_uint_eq(take_n(&b, 1, 3, 0, 10), 3);
    /* raised again: tokens accrue up to the new burst from what is there, not at once */
    ck_assert_uint_eq(take_n(&b, 1, 100, 2000, 10), 2);
}
END_TEST

START_TEST(idle_means_full) {
    rl_bucket b;
    rl_bucket_init(&b, 2, 0);
    ck_assert(rl_bucket_idle(&b, 1, 2, 0));
    unsigned retry;
    ck_assert(rl_bucket_take(&b, 1, 2, 0, &retry));
    ck_assert(!rl_bucket_idle(&b, 1, 2, 999));
    ck_assert(rl_bucket_idle(&b, 1, 2, 1000));
    ck_assert_int_eq(b.milli, 1000); /* asking changed nothing */
}
END_TEST

START_TEST(table_keys_are_independent) {
    ratelimit rl;
    ck_assert_int_eq(ratelimit_init(&rl, 16), IOTCA_OK);
    unsigned retry;
    ck_assert(ratelimit_take(&rl, "token:aaaa", 1, 1, 0, &retry));
    ck_assert(!ratelimit_take(&rl, "token:aaaa", 1, 1, 0, &retry));
    ck_assert(ratelimit_take(&rl, "token:bbbb", 1, 1, 0, &retry)); /* another token has its own bucket */
    ck_assert_uint_eq(ratelimit_tracked(&rl), 2);
    /* keys past the limit are cut: two ids equal in their first 31 bytes share a bucket */
    char a[64], b[64];
    snprintf(a, sizeof a, "token:%s1", "0123456789012345678901234");
    snprintf(b, sizeof b, "token:%s2", "0123456789012345678901234");
    ck_assert(ratelimit_take(&rl, a, 1, 1, 0, &retry));
    ck_assert(!ratelimit_take(&rl, b, 1, 1, 0, &retry));
    ck_assert(ratelimit_take(&rl, "", 1, 1, 0, &retry)); /* an empty key is a key, not a free slot */
    ck_assert(!ratelimit_take(&rl, "", 1, 1, 0, &retry));
    ck_assert_uint_eq(ratelimit_tracked(&rl), 4);
    ratelimit_free(&rl);
}
END_TEST

START_TEST(table_evicts_idle_buckets_first) {
    ratelimit rl;
    ck_assert_int_eq(ratelimit_init(&rl, 3), IOTCA_OK);
    unsigned retry;
    ck_assert(ratelimit_take(&rl, "a", 1, 1, 0, &retry));
    ck_assert(ratelimit_take(&rl, "b", 1, 1, 0, &retry));
    ck_assert(ratelimit_take(&rl, "c", 1, 1, 500, &retry));
    /* at 1200 ms a and b are full again (idle), c is not: a new key drops a and b, keeps c */
    ck_assert(ratelimit_take(&rl, "d", 1, 1, 1200, &retry));
    ck_assert_uint_eq(ratelimit_tracked(&rl), 2);
    ck_assert_uint_eq(rl.evicted_busy, 0);
    ck_assert(!ratelimit_take(&rl, "c", 1, 1, 1200, &retry)); /* c kept its (empty) bucket */
    ratelimit_free(&rl);
}
END_TEST

START_TEST(table_memory_is_bounded) {
    ratelimit rl;
    ck_assert_int_eq(ratelimit_init(&rl, 8), IOTCA_OK);
    unsigned retry;
    char k[16];
    /* 1000 busy tokens through a table of 8: it never holds more than 8 */
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "t%d", i);
        ck_assert(ratelimit_take(&rl, k, 1, 1, i, &retry));
        ck_assert_uint_le(ratelimit_tracked(&rl), 8);
    }
    ck_assert_uint_eq(rl.evicted_busy, 1000 - 8);
    /* the least recently used went: t999 (just used) is still limited, t0 (long gone) starts afresh */
    ck_assert(!ratelimit_take(&rl, "t999", 1, 1, 999, &retry));
    ck_assert(ratelimit_take(&rl, "t0", 1, 1, 999, &retry));
    ratelimit_free(&rl);
}
END_TEST

START_TEST(table_refuses_bad_sizes) {
    ratelimit rl;
    ck_assert_int_eq(ratelimit_init(&rl, 0), IOTCA_E_USAGE);
    ck_assert_int_eq(ratelimit_init(&rl, 1000001), IOTCA_E_USAGE);
    ratelimit_free(&rl); /* harmless on a table that was never made */
}
END_TEST

typedef struct race {
    ratelimit *rl;
    unsigned granted;
} race;

static void *hammer(void *arg) {
    race *r = arg;
    unsigned retry;
    char k[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "k%d", i % 4);
        r->granted += ratelimit_take(r->rl, k, 1, 500, 7, &retry);
    }
    return NULL;
}

START_TEST(table_is_thread_safe) {
    ratelimit rl;
    ck_assert_int_eq(ratelimit_init(&rl, 64), IOTCA_OK);
    pthread_t th[4];
    race r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (race){&rl, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &r[i]), 0);
    }
    unsigned total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += r[i].granted;
    }
    /* 4 keys, a burst of 500 each and a frozen clock: exactly 2000 grants however the threads interleave */
    ck_assert_uint_eq(total, 2000);
    ck_assert_uint_eq(ratelimit_tracked(&rl), 4);
    ratelimit_free(&rl);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ratelimit");
    TCase *core = tcase_create("bucket");
    tcase_add_test(core, burst_then_refused);
    tcase_add_test(core, refills_at_the_rate);
    tcase_add_test(core, fractions_accumulate_across_refused_calls);
    tcase_add_test(core, retry_after_is_enough);
    tcase_add_test(core, clock_going_back_refills_nothing);
    tcase_add_test(core, extreme_values);
    tcase_add_test(core, lowered_burst_applies_at_once);
    tcase_add_test(core, idle_means_full);
    suite_add_tcase(s, core);
    TCase *table = tcase_create("table");
    tcase_add_test(table, table_keys_are_independent);
    tcase_add_test(table, table_evicts_idle_buckets_first);
    tcase_add_test(table, table_memory_is_bounded);
    tcase_add_test(table, table_refuses_bad_sizes);
    tcase_add_test(table, table_is_thread_safe);
    suite_add_tcase(s, table);
    int status = unit_run(s);
    return status;
}
