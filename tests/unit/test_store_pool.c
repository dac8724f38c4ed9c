/* Unit tests for lib/ca/store_pool: the CA's database connections, lent to a thread and given back, at most
 * pool_size open (issue 25). Run on SQLite, and on PostgreSQL by tests/unit/with_pg.sh. */
#include <check.h>
#include <pthread.h>
#include <unistd.h>

#include "../../lib/ca/store_pool.h"
#include "iotca/clock.h"
#include "store_fixture.h"
#include "unit_run.h"

static ca_store_pool pool;

static void setup(void) { store_fixture_open("pool"); }

static void teardown(void) {
    ca_pool_free(&pool);
    store_fixture_close();
}

static iotca_ca_pool_stats stats(void) {
    iotca_ca_pool_stats st;
    ca_pool_stats(&pool, &st);
    return st;
}

/* A thread that borrows a handle, says so, and holds it until told to give it back (or to end holding it). */
typedef struct holder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool got, release, end_holding;
    iotca_rc rc;
    iotca_store *s;
    int64_t waited_ms;
    char detail[256]; /* a refusal's detail (the error detail is the thread's own) */
} holder;

static void *hold(void *arg) {
    holder *h = arg;
    int64_t t0 = iotca_mono_ms();
    iotca_rc rc = ca_pool_lend(&pool, &h->s);
    pthread_mutex_lock(&h->mu);
    h->rc = rc;
    h->waited_ms = iotca_mono_ms() - t0;
    if (rc != IOTCA_OK) snprintf(h->detail, sizeof h->detail, "%s", iotca_error_detail());
    h->got = true;
    pthread_cond_broadcast(&h->cv);
    while (!h->release && rc == IOTCA_OK) pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    if (rc == IOTCA_OK && !h->end_holding) ca_pool_return(&pool);
    return NULL;
}

static void start(holder *h, pthread_t *th) {
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    ck_assert_int_eq(pthread_create(th, NULL, hold, h), 0);
}

static void await_got(holder *h) {
    pthread_mutex_lock(&h->mu);
    while (!h->got) pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void finish(holder *h, pthread_t th) {
    pthread_mutex_lock(&h->mu);
    h->release = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(th, NULL);
}

START_TEST(a_thread_keeps_its_handle_until_it_gives_it_back) {
    OK(ca_pool_init(&pool, store_fixture_db(), false, 4, 1000));
    ck_assert_ptr_null(ca_pool_held(&pool));
    iotca_store *a = NULL, *b = NULL, *c = NULL;
    OK(ca_pool_lend(&pool, &a));
    OK(ca_pool_lend(&pool, &b)); /* nested calls of one request share the handle */
    ck_assert_ptr_eq(a, b);
    ck_assert_ptr_eq(ca_pool_held(&pool), a);
    ck_assert_uint_eq(stats().open, 1);
    ck_assert_uint_eq(stats().lent, 1);
    OK(iotca_store_check_schema(a)); /* a working connection */
    ca_pool_return(&pool);
    ck_assert_ptr_null(ca_pool_held(&pool));
    ck_assert_uint_eq(stats().lent, 0);
    ck_assert_uint_eq(stats().open, 1); /* kept open, idle */
    ca_pool_return(&pool);              /* nothing held: nothing happens */
    ck_assert_uint_eq(stats().open, 1);
    OK(ca_pool_lend(&pool, &c));
    ck_assert_ptr_eq(c, a); /* the idle one again: no new connection */
    ck_assert_uint_eq(stats().open, 1);
    ck_assert_uint_eq(stats().max, 4);
}
END_TEST

START_TEST(with_all_lent_a_lender_waits_then_gives_up) {
    OK(ca_pool_init(&pool, store_fixture_db(), false, 2, 300));
    iotca_store *mine = NULL;
    OK(ca_pool_lend(&pool, &mine));
    holder h1, h2;
    pthread_t t1, t2;
    start(&h1, &t1);
    await_got(&h1);
    ck_assert_int_eq(h1.rc, IOTCA_OK);
    ck_assert_ptr_ne(h1.s, mine);
    ck_assert_uint_eq(stats().open, 2);
    start(&h2, &t2); /* a third thread: both connections are lent */
    await_got(&h2);
    ck_assert_int_eq(h2.rc, IOTCA_E_STORAGE);
    ck_assert_msg(strstr(h2.detail, "all 2 database connections") && strstr(h2.detail, "pool_size"), "%s", h2.detail);
    ck_assert_int_ge(h2.waited_ms, 250); /* it waited (about wait_ms) before giving up */
    pthread_join(t2, NULL);
    ck_assert_uint_eq(stats().open, 2); /* never a third connection */
    ck_assert_uint_eq(stats().waited, 1);
    ck_assert_uint_eq(stats().timed_out, 1);
    finish(&h1, t1);
    ck_assert_uint_eq(stats().lent, 1);
    start(&h2, &t2); /* now one is idle */
    await_got(&h2);
    ck_assert_int_eq(h2.rc, IOTCA_OK);
    ck_assert_ptr_eq(h2.s, h1.s);
    finish(&h2, t2);
    ck_assert_uint_eq(stats().waited, 1);
}
END_TEST

START_TEST(a_waiting_lender_gets_the_handle_given_back) {
    OK(ca_pool_init(&pool, store_fixture_db(), false, 1, 10000));
    iotca_store *mine = NULL;
    OK(ca_pool_lend(&pool, &mine));
    holder h;
    pthread_t t;
    start(&h, &t);
    while (stats().waited == 0) usleep(1000); /* it waits */
    ck_assert(!h.got);
    ca_pool_return(&pool);
    await_got(&h);
    ck_assert_int_eq(h.rc, IOTCA_OK);
    ck_assert_ptr_eq(h.s, mine);
    ck_assert_int_lt(h.waited_ms, 9000); /* served when the handle came back, not at the deadline */
    finish(&h, t);
    ck_assert_uint_eq(stats().timed_out, 0);
    ck_assert_uint_eq(stats().open, 1);
}
END_TEST

START_TEST(a_thread_that_ends_holding_gives_it_back) {
    OK(ca_pool_init(&pool, store_fixture_db(), false, 1, 200));
    holder h;
    pthread_t t;
    start(&h, &t);
    await_got(&h);
    ck_assert_int_eq(h.rc, IOTCA_OK);
    h.end_holding = true;
    finish(&h, t); /* the thread ends without ca_pool_return */
    ck_assert_uint_eq(stats().lent, 0);
    iotca_store *mine = NULL;
    OK(ca_pool_lend(&pool, &mine));
    ck_assert_ptr_eq(mine, h.s);
}
END_TEST

START_TEST(no_limit_opens_one_for_each_thread_at_once) {
    OK(ca_pool_init(&pool, store_fixture_db(), false, 0, 100));
    holder h[5];
    pthread_t t[5];
    for (int i = 0; i < 5; i++) start(&h[i], &t[i]);
    for (int i = 0; i < 5; i++) {
        await_got(&h[i]);
        ck_assert_int_eq(h[i].rc, IOTCA_OK);
    }
    ck_assert_uint_eq(stats().open, 5);
    ck_assert_uint_eq(stats().lent, 5);
    for (int i = 0; i < 5; i++) finish(&h[i], t[i]);
    ck_assert_uint_eq(stats().lent, 0);
    ck_assert_uint_eq(stats().waited, 0);
}
END_TEST

START_TEST(a_connection_that_fails_is_not_counted) {
    char bad[200];
    if (store_fixture_pg())
        snprintf(bad, sizeof bad, "postgresql://127.0.0.1:1/nothing?connect_timeout=2");
    else
        snprintf(bad, sizeof bad, "%s/missing.db", dir);
    OK(ca_pool_init(&pool, bad, false, 1, 200));
    iotca_store *s1 = NULL;
    REFUSED(ca_pool_lend(&pool, &s1), IOTCA_E_STORAGE, "");
    ck_assert_ptr_null(ca_pool_held(&pool));
    ck_assert_uint_eq(stats().open, 0);
    ck_assert_uint_eq(stats().lent, 0);
    /* the slot is free again: the next try fails the same way, not by waiting for a slot */
    REFUSED(ca_pool_lend(&pool, &s1), IOTCA_E_STORAGE, "");
    ck_assert_uint_eq(stats().timed_out, 0);
}
END_TEST

static iotca_rc inside(iotca_store *st, void *arg) {
    *(bool *)arg = iotca_store_in_transaction(st);
    return IOTCA_OK;
}

START_TEST(in_transaction_says_when_one_is_open) {
    ck_assert(!iotca_store_in_transaction(s));
    ck_assert(!iotca_store_in_transaction(NULL));
    iotca_store_group *g = NULL;
    OK(iotca_store_group_new(NULL, &g)); /* no writer: the batch runs on s */
    bool in = false;
    OK(iotca_store_group_write(g, s, inside, &in));
    ck_assert(in);
    ck_assert(!iotca_store_in_transaction(s));
    iotca_store_group_free(g);
}
END_TEST

START_TEST(free_closes_what_is_idle_and_held) {
    OK(ca_pool_init(&pool, store_fixture_db(), false, 3, 100));
    holder h;
    pthread_t t;
    start(&h, &t);
    await_got(&h);
    finish(&h, t); /* idle now */
    iotca_store *mine = NULL;
    OK(ca_pool_lend(&pool, &mine));
    ck_assert_uint_eq(stats().open, 1); /* the idle one */
    ca_pool_free(&pool);                /* closes the held one (valgrind and ASan see no leak) */
    ck_assert(!pool.ready);
    ca_pool_free(&pool); /* twice: ignored */
    ca_pool_return(&pool);
    ck_assert_ptr_null(ca_pool_held(&pool));
}
END_TEST

int main(void) {
    Suite *su = suite_create("store_pool");
    TCase *tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_thread_keeps_its_handle_until_it_gives_it_back);
    tcase_add_test(tc, with_all_lent_a_lender_waits_then_gives_up);
    tcase_add_test(tc, a_waiting_lender_gets_the_handle_given_back);
    tcase_add_test(tc, a_thread_that_ends_holding_gives_it_back);
    tcase_add_test(tc, no_limit_opens_one_for_each_thread_at_once);
    tcase_add_test(tc, a_connection_that_fails_is_not_counted);
    tcase_add_test(tc, in_transaction_says_when_one_is_open);
    tcase_add_test(tc, free_closes_what_is_idle_and_held);
    suite_add_tcase(su, tc);
    return unit_run(su);
}
