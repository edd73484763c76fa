/* One connection per thread and backend instance (util/thread_conn.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>

#include "util/thread_conn.h"

/* What the fake backend opened and closed. */
struct counters {
    int opened;
    int closed;
    gh_status fail_with; /* the next open fails with this, once */
};

struct fake_conn {
    struct counters *counters;
    int serial;
};

static gh_status fake_open(void *owner, void **out)
{
    struct counters *c = owner;
    if (c->fail_with != GH_OK) {
        gh_status st = c->fail_with;
        c->fail_with = GH_OK;
        return st;
    }
    struct fake_conn *conn = calloc(1, sizeof *conn);
    if (!conn)
        return GH_NO_MEMORY;
    conn->counters = c;
    conn->serial = ++c->opened;
    *out = conn;
    return GH_OK;
}

static void fake_close(void *conn)
{
    struct fake_conn *fc = conn;
    fc->counters->closed++;
    free(fc);
}

static void test_thread_conn_opens_once_per_thread(void **state)
{
    (void)state;
    struct counters c = {0};
    struct thread_conns tc;
    void *first = NULL, *again = NULL;
    assert_int_equal(thread_conns_init(&tc, &c, fake_open, fake_close), GH_OK);
    assert_null(thread_conn_peek(&tc));
    assert_int_equal(thread_conn_get(&tc, &first), GH_OK);
    assert_int_equal(thread_conn_get(&tc, &again), GH_OK);
    assert_ptr_equal(first, again);
    assert_ptr_equal(thread_conn_peek(&tc), first);
    assert_int_equal(c.opened, 1);
    thread_conns_close(&tc);
    assert_int_equal(c.closed, 1);
}

/* A store and a kv used in turn by one thread keep a connection each. */
static void test_thread_conn_instances_keep_their_own(void **state)
{
    (void)state;
    struct counters ca = {0}, cb = {0};
    struct thread_conns a, b;
    void *conn_a = NULL, *conn_b = NULL, *again = NULL;
    assert_int_equal(thread_conns_init(&a, &ca, fake_open, fake_close), GH_OK);
    assert_int_equal(thread_conns_init(&b, &cb, fake_open, fake_close), GH_OK);
    assert_int_equal(thread_conn_get(&a, &conn_a), GH_OK);
    assert_int_equal(thread_conn_get(&b, &conn_b), GH_OK);
    assert_ptr_not_equal(conn_a, conn_b);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(thread_conn_get(&a, &again), GH_OK);
        assert_ptr_equal(again, conn_a);
        assert_int_equal(thread_conn_get(&b, &again), GH_OK);
        assert_ptr_equal(again, conn_b);
    }
    assert_int_equal(ca.opened + cb.opened, 2);
    thread_conns_close(&a);
    thread_conns_close(&b);
    assert_int_equal(ca.closed + cb.closed, 2);
}

#define THREADS 4

struct job {
    struct thread_conns *tc;
    pthread_barrier_t *all_opened;
    void *conn;
    void *again;
    gh_status status;
};

static void *job_thread(void *arg)
{
    struct job *j = arg;
    j->status = thread_conn_get(j->tc, &j->conn);
    pthread_barrier_wait(j->all_opened);
    if (j->status == GH_OK)
        j->status = thread_conn_get(j->tc, &j->again);
    return NULL;
}

/* Every thread gets its own connection; closing the instance closes all of them. */
static void test_thread_conn_each_thread_its_own_all_closed(void **state)
{
    (void)state;
    struct counters c = {0};
    struct thread_conns tc;
    pthread_barrier_t barrier;
    struct job jobs[THREADS];
    pthread_t threads[THREADS];
    assert_int_equal(thread_conns_init(&tc, &c, fake_open, fake_close), GH_OK);
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){.tc = &tc, .all_opened = &barrier};
        pthread_create(&threads[i], NULL, job_thread, &jobs[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(jobs[i].status, GH_OK);
        assert_ptr_equal(jobs[i].again, jobs[i].conn);
        for (int k = 0; k < i; k++)
            assert_ptr_not_equal(jobs[i].conn, jobs[k].conn);
    }
    assert_int_equal(c.opened, THREADS);
    thread_conns_close(&tc);
    assert_int_equal(c.closed, THREADS);
}

/* A failed open leaves nothing behind, and the next call tries again. */
static void test_thread_conn_failed_open_is_retried(void **state)
{
    (void)state;
    struct counters c = {.fail_with = GH_UNAVAILABLE};
    struct thread_conns tc;
    void *conn = NULL;
    assert_int_equal(thread_conns_init(&tc, &c, fake_open, fake_close), GH_OK);
    assert_int_equal(thread_conn_get(&tc, &conn), GH_UNAVAILABLE);
    assert_null(thread_conn_peek(&tc));
    assert_int_equal(thread_conn_get(&tc, &conn), GH_OK);
    assert_non_null(conn);
    thread_conns_close(&tc);
    assert_int_equal(c.opened, 1);
    assert_int_equal(c.closed, 1);
}

/* An instance opened after another was closed never sees the closed one's connection, even
 * when it gets the same key. */
static void test_thread_conn_closed_instance_is_not_reused(void **state)
{
    (void)state;
    struct counters c = {0};
    struct thread_conns tc;
    void *conn = NULL;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(thread_conns_init(&tc, &c, fake_open, fake_close), GH_OK);
        assert_null(thread_conn_peek(&tc));
        assert_int_equal(thread_conn_get(&tc, &conn), GH_OK);
        assert_int_equal(((struct fake_conn *)conn)->serial, round + 1);
        thread_conns_close(&tc);
    }
    assert_int_equal(c.closed, 3);
    thread_conns_close(&tc); /* twice, and after a failed init: nothing to do */
    thread_conns_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_conn_opens_once_per_thread),
        cmocka_unit_test(test_thread_conn_instances_keep_their_own),
        cmocka_unit_test(test_thread_conn_each_thread_its_own_all_closed),
        cmocka_unit_test(test_thread_conn_failed_open_is_retried),
        cmocka_unit_test(test_thread_conn_closed_instance_is_not_reused),
    };
    return cmocka_run_group_tests_name("thread_conn", tests, NULL, NULL);
}
