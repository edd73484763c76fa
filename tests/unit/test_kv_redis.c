/* What only the Redis kv (kv/redis.c) has, on a throwaway redis-server (redis_server.h): a URL
 * that cannot be parsed, a server that is down at start, and losing the server and getting it
 * back. The scenarios every kv shares are in test_kv_contract.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <time.h>

#include "kv/kv.h"
#include "redis_server.h"

static int setup_redis(void **state)
{
    (void)state;
    return redis_server_create();
}

static int teardown_redis(void **state)
{
    (void)state;
    redis_server_remove();
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_redis_unparsable_url_is_refused(void **state)
{
    (void)state;
    struct kv *kv = NULL;
    assert_int_equal(kv_redis_open("redis://", NULL, &kv), GH_INTERNAL);
    assert_int_equal(kv_redis_open("not a url at all", NULL, &kv), GH_INTERNAL);
}

/* A Redis that is down at start only warns: calls answer GH_UNAVAILABLE until it is there. */
static void test_redis_down_at_open_is_unavailable_not_fatal(void **state)
{
    (void)state;
    struct kv *kv = NULL;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", test_free_port());
    assert_int_equal(kv_redis_open(url, NULL, &kv), GH_OK);
    assert_int_equal(kv->ping(kv), GH_UNAVAILABLE);
    kv->close(kv);
}

/* Runs last: stops and restarts the server. Calls fail fast while it is gone, and the same
 * thread reconnects once it is back. */
static void test_redis_lost_server_is_unavailable_then_recovers(void **state)
{
    (void)state;
    struct kv *kv = NULL;
    char url[64];
    int64_t count = 0, end = 0;
    redis_server_url(url, sizeof url);
    assert_int_equal(kv_redis_open(url, NULL, &kv), GH_OK);
    assert_int_equal(kv->rate_hit(kv, "k", 60, time(NULL), &count, &end), GH_OK);
    redis_server_stop();
    int64_t t0 = now_ms();
    assert_int_equal(kv->ping(kv), GH_UNAVAILABLE);
    assert_int_equal(kv->rate_hit(kv, "k", 60, time(NULL), &count, &end), GH_UNAVAILABLE);
    assert_int_equal(kv->rate_clear(kv, "k"), GH_UNAVAILABLE);
    assert_true(now_ms() - t0 < 3500);
    assert_int_equal(redis_server_start(), 0);
    assert_int_equal(kv->ping(kv), GH_OK);
    assert_int_equal(kv->rate_hit(kv, "k", 60, time(NULL), &count, &end), GH_OK);
    assert_int_equal(count, 1); /* a new server: the old window is gone */
    kv->close(kv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_unparsable_url_is_refused),
        cmocka_unit_test(test_redis_down_at_open_is_unavailable_not_fatal),
        cmocka_unit_test(test_redis_lost_server_is_unavailable_then_recovers),
    };
    return cmocka_run_group_tests_name("kv redis", tests, setup_redis, teardown_redis);
}
