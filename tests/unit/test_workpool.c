/* The bounded worker pool (util/workpool.h): reservation, FIFO runs, and handing work over to
 * a pool while the caller waits (workpool_run_and_wait, which password hashing goes through). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include "util/workpool.h"

/* What one run saw: the thread it ran on, and a result the caller reads after the wait. */
struct probe {
    pthread_t ran_on;
    int result;
    useconds_t sleep_us;
    atomic_int *running;   /* runs in progress, when counted */
    atomic_int *most_ever; /* the most runs in progress at once */
};

static void run_probe(void *arg)
{
    struct probe *p = arg;
    p->ran_on = pthread_self();
    if (p->running) {
        int now = atomic_fetch_add(p->running, 1) + 1;
        int seen = atomic_load(p->most_ever);
        while (now > seen && !atomic_compare_exchange_weak(p->most_ever, &seen, now))
            ;
    }
    if (p->sleep_us)
        usleep(p->sleep_us);
    p->result = 42;
    if (p->running)
        atomic_fetch_sub(p->running, 1);
}

/* Asserts that the pool's places all come back. The worker gives a job's place back just after
 * the job has released its caller, so the caller may look a moment before that. */
static void assert_drains(struct workpool *pool)
{
    for (int i = 0; i < 400 && workpool_depth(pool) != 0; i++)
        usleep(5000);
    assert_int_equal(workpool_depth(pool), 0);
}

static void test_run_and_wait_runs_on_a_pool_thread_and_returns_after(void **state)
{
    (void)state;
    struct workpool *pool = NULL;
    assert_int_equal(workpool_start("test", 1, 4, 0, &pool), GH_OK);
    struct probe p = {.sleep_us = 20000};
    workpool_run_and_wait(pool, run_probe, &p);
    assert_int_equal(p.result, 42);
    assert_false(pthread_equal(p.ran_on, pthread_self()));
    assert_drains(pool);
    workpool_stop(&pool);
    assert_null(pool);
}

static void test_run_and_wait_without_a_pool_runs_on_the_caller(void **state)
{
    (void)state;
    struct probe p = {0};
    workpool_run_and_wait(NULL, run_probe, &p);
    assert_int_equal(p.result, 42);
    assert_true(pthread_equal(p.ran_on, pthread_self()));
}

/* A pool with no room left does not refuse the work: the caller runs it itself. */
static void test_run_and_wait_on_a_full_pool_runs_on_the_caller(void **state)
{
    (void)state;
    struct workpool *pool = NULL;
    assert_int_equal(workpool_start("test", 1, 0, 0, &pool), GH_OK);
    assert_int_equal(workpool_reserve(pool), GH_OK); /* the one place */
    assert_int_equal(workpool_reserve(pool), GH_BUSY);
    struct probe p = {0};
    workpool_run_and_wait(pool, run_probe, &p);
    assert_int_equal(p.result, 42);
    assert_true(pthread_equal(p.ran_on, pthread_self()));
    workpool_release(pool);
    workpool_stop(&pool);
}

struct caller {
    struct workpool *pool;
    struct probe probe;
};

static void *call_and_wait(void *arg)
{
    struct caller *c = arg;
    workpool_run_and_wait(c->pool, run_probe, &c->probe);
    return NULL;
}

/* Runs `count` callers (at most 16) at once, each handing pool a probe of sleep_us; checks
 * that each got its own run back, on a pool thread, and returns the most that ran at once. */
static int most_at_once(struct workpool *pool, int count, useconds_t sleep_us)
{
    enum { MAX_CALLERS = 16 };
    assert_true(count <= MAX_CALLERS);
    atomic_int running = 0, most = 0;
    struct caller callers[MAX_CALLERS];
    pthread_t threads[MAX_CALLERS];
    for (int i = 0; i < count; i++) {
        callers[i] =
            (struct caller){pool, {.sleep_us = sleep_us, .running = &running, .most_ever = &most}};
        assert_int_equal(pthread_create(&threads[i], NULL, call_and_wait, &callers[i]), 0);
    }
    for (int i = 0; i < count; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(callers[i].probe.result, 42);
        assert_false(pthread_equal(callers[i].probe.ran_on, threads[i]));
    }
    return atomic_load(&most);
}

/* Many callers at once: each gets its own run back, and no more run at once than the pool has
 * threads (so hashes at once, and their memory, stay bounded by the hash pool). */
static void test_run_and_wait_from_many_threads_runs_each_once_within_the_pool(void **state)
{
    (void)state;
    struct workpool *pool = NULL;
    assert_int_equal(workpool_start("test", 2, 16, 0, &pool), GH_OK);
    int most = most_at_once(pool, 16, 5000);
    assert_true(most >= 1);
    assert_true(most <= 2);
    assert_drains(pool);
    workpool_stop(&pool);
}

/* A pool of `threads` that runs one job at a time while `watched` (one place) refuses work. */
struct pressed {
    struct workpool *pool, *watched;
};

static void pressed_start(struct pressed *p, int threads)
{
    assert_int_equal(workpool_start("test", threads, 8, 0, &p->pool), GH_OK);
    assert_int_equal(workpool_start("watched", 1, 0, 0, &p->watched), GH_OK);
    workpool_yield_under_pressure(p->pool, p->watched, 1);
}

/* Fills the watched pool's one place and has it refuse the next: the pressure begins. */
static void pressed_refuse(struct pressed *p)
{
    assert_int_equal(workpool_reserve(p->watched), GH_OK);
    assert_int_equal(workpool_reserve(p->watched), GH_BUSY);
}

static void pressed_stop(struct pressed *p)
{
    assert_drains(p->pool);
    workpool_release(p->watched);
    workpool_stop(&p->watched);
    workpool_stop(&p->pool);
}

/* The hash pool under a login flood: once the pool it watches (the flows') has refused work,
 * it runs no more than its pressed number of jobs at once, and every job still runs. */
static void test_a_pool_runs_fewer_jobs_while_the_watched_pool_refuses(void **state)
{
    (void)state;
    struct pressed p = {0};
    pressed_start(&p, 3);
    assert_int_equal(most_at_once(p.pool, 6, 40000), 3); /* no refusal yet: every thread */
    pressed_refuse(&p);
    assert_int_equal(most_at_once(p.pool, 6, 40000), 1);
    pressed_stop(&p);
}

/* The pressure ends a second after the last refusal, and the pool uses every thread again. */
static void test_a_pool_runs_on_every_thread_a_second_after_the_last_refusal(void **state)
{
    (void)state;
    struct pressed p = {0};
    pressed_start(&p, 2);
    pressed_refuse(&p);
    usleep(1100000);
    assert_int_equal(most_at_once(p.pool, 6, 40000), 2);
    pressed_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_and_wait_runs_on_a_pool_thread_and_returns_after),
        cmocka_unit_test(test_run_and_wait_without_a_pool_runs_on_the_caller),
        cmocka_unit_test(test_run_and_wait_on_a_full_pool_runs_on_the_caller),
        cmocka_unit_test(test_run_and_wait_from_many_threads_runs_each_once_within_the_pool),
        cmocka_unit_test(test_a_pool_runs_fewer_jobs_while_the_watched_pool_refuses),
        cmocka_unit_test(test_a_pool_runs_on_every_thread_a_second_after_the_last_refusal),
    };
    return cmocka_run_group_tests_name("workpool", tests, NULL, NULL);
}
