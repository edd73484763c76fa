/* The kv contract (kv/kv.h): every scenario runs against every backend, the database kv on a
 * SQLite store, the Redis kv on a throwaway redis-server this program starts (redis_server.h),
 * and the database kv on the fake store of the core unit tests (fake_store.h), each test on an
 * empty store and an empty Redis. Together the
 * scenarios call every member of struct kv. Times are real (the Redis kv leaves expiry to
 * Redis, which keeps its own clock): sessions are dated from now, and the rate windows are
 * seen to end by waiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_store.h"
#include "kv/kv.h"
#include "redis_server.h"
#include "store/store.h"
#include "util/secret.h"

struct fixture {
    char dir[64];
    char path[128];
    struct store *st;
    struct kv *kv;
    int64_t now; /* when the test started */
};

/* Opens the store the kv keeps its users in (in f->dir) into f->st. */
typedef gh_status (*store_open_fn)(struct fixture *f);
/* Opens the kv under test on f->st. */
typedef gh_status (*kv_open_fn)(struct fixture *f);

static gh_status open_sqlite_store(struct fixture *f)
{
    return store_sqlite_open(f->path, &f->st);
}

static gh_status open_fake_store(struct fixture *f)
{
    return fake_store_new(&f->st);
}

static gh_status open_db_kv(struct fixture *f)
{
    return kv_db_open(f->st, &f->kv);
}

static gh_status open_redis_kv(struct fixture *f)
{
    char url[64];
    if (!redis_server_command("FLUSHALL"))
        return GH_UNAVAILABLE;
    redis_server_url(url, sizeof url);
    return kv_redis_open(url, f->st, &f->kv);
}

static const struct backend {
    const char *name;
    store_open_fn open_store;
    kv_open_fn open;
} backends[] = {
    {"db", open_sqlite_store, open_db_kv},
    {"redis", open_sqlite_store, open_redis_kv},
    {"db on fake store", open_fake_store, open_db_kv},
};
#define BACKENDS (sizeof backends / sizeof backends[0])

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

static void remove_database(struct fixture *f)
{
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

/* *state is the backend on entry (the test's initial state) and the fixture on exit. */
static int setup_kv(void **state)
{
    const struct backend *b = *state;
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/gh-kv-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/gatehouse.db", f->dir);
    f->now = (int64_t)time(NULL);
    if (b->open_store(f) != GH_OK || f->st->migrate(f->st) != GH_OK || b->open(f) != GH_OK) {
        if (f->st)
            f->st->close(f->st);
        remove_database(f);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_kv(void **state)
{
    struct fixture *f = *state;
    f->kv->close(f->kv);
    f->st->close(f->st);
    remove_database(f);
    free(f);
    return 0;
}

/* ---- records ---- */

#define HASH_A     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH_C     "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HASH_D     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define NO_SUCH_ID "00000000-0000-4000-8000-000000000000"

static void insert_user(struct fixture *f, struct user *u, const char *email)
{
    memset(u, 0, sizeof *u);
    secret_uuid_new(u->id);
    strcpy(u->email, email);
    strcpy(u->password_hash, "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA");
    strcpy(u->first_name, "Ada");
    strcpy(u->last_name, "Lovelace");
    u->date_joined = 1700000000;
    secret_uuid_new(u->profile.id);
    assert_int_equal(f->st->user_insert(f->st, u), GH_OK);
}

/* A session created `created` seconds after the test started, living `life` seconds. */
static void make_session(struct fixture *f, struct session *s, const char *hash,
                         const char *user_id, int64_t created, int64_t life)
{
    memset(s, 0, sizeof *s);
    strcpy(s->token_hash, hash);
    secret_uuid_new(s->id);
    strcpy(s->user_id, user_id);
    s->created_at = s->last_seen_at = f->now + created;
    s->expires_at = f->now + created + life;
    strcpy(s->ip, "192.0.2.7");
    strcpy(s->user_agent, "unit-test/1.0");
}

static void insert_session(struct fixture *f, const char *hash, const char *user_id,
                           int64_t created, int64_t life)
{
    struct session s;
    make_session(f, &s, hash, user_id, created, life);
    assert_int_equal(f->kv->session_insert(f->kv, &s), GH_OK);
}

static bool session_exists(struct fixture *f, const char *hash)
{
    struct session s;
    struct user u;
    gh_status st = f->kv->session_lookup(f->kv, hash, f->now, &s, &u);
    assert_true(st == GH_OK || st == GH_NOT_FOUND);
    return st == GH_OK;
}

/* ==== the kv as a whole ==== */

/* The inventory: a backend that forgets a member fails here, not at the first request. */
static void test_kv_every_member_is_set(void **state)
{
    struct fixture *f = *state;
    struct kv *kv = f->kv;
    void (*const members[])(void) = {
        (void (*)(void))kv->ping,
        (void (*)(void))kv->session_insert,
        (void (*)(void))kv->session_lookup,
        (void (*)(void))kv->session_touch,
        (void (*)(void))kv->session_delete,
        (void (*)(void))kv->session_list,
        (void (*)(void))kv->session_delete_all,
        (void (*)(void))kv->rate_hit,
        (void (*)(void))kv->rate_refund,
        (void (*)(void))kv->rate_clear,
        (void (*)(void))kv->close,
    };
    /* Every member but impl and store is listed: a member added to struct kv without a line
     * here changes the size. */
    assert_int_equal(sizeof members / sizeof members[0] + 2, sizeof *kv / sizeof(void *));
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (!members[i])
            fail_msg("member %zu of struct kv is not set", i);
    assert_ptr_equal(kv->store, f->st);
}

static void test_kv_ping(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->kv->ping(f->kv), GH_OK);
}

/* ==== sessions ==== */

static void test_kv_session_insert_and_lookup(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session s, gs;
    insert_user(f, &u, "ada@example.com");
    make_session(f, &s, HASH_A, u.id, 0, 3600);
    assert_int_equal(f->kv->session_insert(f->kv, &s), GH_OK);
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now + 10, &gs, &gu), GH_OK);
    assert_string_equal(gs.token_hash, HASH_A);
    assert_string_equal(gs.id, s.id);
    assert_string_equal(gs.user_id, u.id);
    assert_int_equal(gs.created_at, s.created_at);
    assert_int_equal(gs.expires_at, s.expires_at);
    assert_int_equal(gs.last_seen_at, s.last_seen_at);
    assert_string_equal(gs.ip, "192.0.2.7");
    assert_string_equal(gs.user_agent, "unit-test/1.0");
    /* The user comes with it, profile and all. */
    assert_string_equal(gu.id, u.id);
    assert_string_equal(gu.email, "ada@example.com");
    assert_string_equal(gu.first_name, "Ada");
    assert_string_equal(gu.profile.id, u.profile.id);
}

static void test_kv_session_expired_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session gs;
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 0, 3600);
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now + 3599, &gs, &gu), GH_OK);
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now + 3600, &gs, &gu), GH_NOT_FOUND);
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now + 9999, &gs, &gu), GH_NOT_FOUND);
}

static void test_kv_session_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    struct user gu;
    struct session gs;
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_B, f->now, &gs, &gu), GH_NOT_FOUND);
    assert_int_equal(f->kv->session_delete(f->kv, HASH_B), GH_NOT_FOUND);
}

/* A session whose user is gone is not found either. */
static void test_kv_session_of_unknown_user_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session s, gs;
    insert_user(f, &u, "ada@example.com");
    make_session(f, &s, HASH_A, u.id, 0, 3600);
    strcpy(s.user_id, NO_SUCH_ID);
    if (f->kv->session_insert(f->kv, &s) == GH_OK) /* the database kv refuses it already */
        assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now, &gs, &gu), GH_NOT_FOUND);
    assert_false(session_exists(f, HASH_A));
}

/* Looked up again (the Redis kv then asks for the session and its user at once), a session
 * comes with its user as it is now, and is gone once deleted. */
static void test_kv_session_lookup_again_reads_the_user_fresh(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session gs;
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 0, 3600);
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now, &gs, &gu), GH_OK);
    assert_string_equal(gu.first_name, "Ada");
    strcpy(u.first_name, "Grace");
    assert_int_equal(f->st->user_update_profile(f->st, &u), GH_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now, &gs, &gu), GH_OK);
        assert_string_equal(gs.user_id, u.id);
        assert_string_equal(gu.first_name, "Grace");
    }
    assert_int_equal(f->kv->session_delete(f->kv, HASH_A), GH_OK);
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now, &gs, &gu), GH_NOT_FOUND);
    assert_false(session_exists(f, HASH_A));
}

static void test_kv_session_touch_sets_last_seen(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session gs;
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 0, 3600);
    insert_session(f, HASH_B, u.id, 0, 3600);
    assert_int_equal(f->kv->session_touch(f->kv, HASH_A, f->now + 60), GH_OK);
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_A, f->now + 61, &gs, &gu), GH_OK);
    assert_int_equal(gs.last_seen_at, f->now + 60);
    assert_int_equal(gs.expires_at, f->now + 3600); /* touching does not extend it */
    assert_int_equal(f->kv->session_lookup(f->kv, HASH_B, f->now + 61, &gs, &gu), GH_OK);
    assert_int_equal(gs.last_seen_at, f->now);
    /* A session that is gone is not brought back. */
    assert_int_equal(f->kv->session_delete(f->kv, HASH_B), GH_OK);
    assert_int_equal(f->kv->session_touch(f->kv, HASH_B, f->now + 60), GH_OK);
    assert_int_equal(f->kv->session_touch(f->kv, HASH_C, f->now + 60), GH_OK);
    assert_false(session_exists(f, HASH_B));
    assert_false(session_exists(f, HASH_C));
}

static void test_kv_session_delete(void **state)
{
    struct fixture *f = *state;
    struct user u;
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 0, 3600);
    insert_session(f, HASH_B, u.id, 0, 3600);
    assert_int_equal(f->kv->session_delete(f->kv, HASH_A), GH_OK);
    assert_false(session_exists(f, HASH_A));
    assert_int_equal(f->kv->session_delete(f->kv, HASH_A), GH_NOT_FOUND);
    /* The other session of the same user lives on, and is still listed. */
    assert_true(session_exists(f, HASH_B));
    struct session list[4];
    size_t n = 0;
    assert_int_equal(f->kv->session_list(f->kv, u.id, f->now, list, 4, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].token_hash, HASH_B);
}

static void test_kv_session_list_newest_first_live_only(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct session list[4];
    size_t n = 99;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_session(f, HASH_A, u.id, 0, 3600);
    insert_session(f, HASH_B, u.id, 100, 3600);
    insert_session(f, HASH_C, u.id, -100, 300); /* ended at now + 200 */
    insert_session(f, HASH_D, other.id, 200, 3600);
    assert_int_equal(f->kv->session_list(f->kv, u.id, f->now + 250, list, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].token_hash, HASH_B); /* newest first */
    assert_string_equal(list[1].token_hash, HASH_A);
    assert_string_equal(list[1].user_id, u.id);
    assert_int_equal(list[1].created_at, f->now);
    assert_string_equal(list[1].ip, "192.0.2.7");
    /* At most cap: the newest. */
    assert_int_equal(f->kv->session_list(f->kv, u.id, f->now + 250, list, 1, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].token_hash, HASH_B);
    assert_int_equal(f->kv->session_list(f->kv, u.id, f->now + 250, list, 0, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(f->kv->session_list(f->kv, NO_SUCH_ID, f->now, list, 4, &n), GH_OK);
    assert_int_equal(n, 0);
}

static void test_kv_session_delete_all_keeps_one_or_none(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_session(f, HASH_A, u.id, 0, 3600);
    insert_session(f, HASH_B, u.id, 0, 3600);
    insert_session(f, HASH_C, other.id, 0, 3600);
    assert_int_equal(f->kv->session_delete_all(f->kv, u.id, HASH_B), GH_OK);
    assert_false(session_exists(f, HASH_A));
    assert_true(session_exists(f, HASH_B));
    assert_int_equal(f->kv->session_delete_all(f->kv, u.id, NULL), GH_OK);
    assert_false(session_exists(f, HASH_B));
    assert_true(session_exists(f, HASH_C)); /* the other user's */
    assert_int_equal(f->kv->session_delete_all(f->kv, u.id, NULL), GH_OK);
    assert_int_equal(f->kv->session_delete_all(f->kv, NO_SUCH_ID, NULL), GH_OK);
}

/* ==== rate limits ==== */

/* One hit on key at the current time; returns the count and checks the window's end. */
static int64_t hit(struct fixture *f, const char *key, int window)
{
    int64_t count = 0, end = 0, now = (int64_t)time(NULL);
    assert_int_equal(f->kv->rate_hit(f->kv, key, window, now, &count, &end), GH_OK);
    assert_in_range(end, now, now + window);
    return count;
}

static void test_kv_rate_hit_counts_in_a_window(void **state)
{
    struct fixture *f = *state;
    int64_t count = 0, end = 0;
    assert_int_equal(f->kv->rate_hit(f->kv, "k", 60, f->now, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_in_range(end, f->now + 59, f->now + 60); /* Redis counts the TTL in whole seconds */
    assert_int_equal(hit(f, "k", 60), 2);
    assert_int_equal(hit(f, "k", 60), 3);
    assert_int_equal(hit(f, "other", 60), 1);
}

static void test_kv_rate_hit_starts_a_new_window_after_the_end(void **state)
{
    struct fixture *f = *state;
    int64_t count = 0, end = 0;
    assert_int_equal(f->kv->rate_hit(f->kv, "k", 1, (int64_t)time(NULL), &count, &end), GH_OK);
    assert_int_equal(count, 1);
    /* Past the end by a whole second: Redis expires the key a second after the hit. */
    while ((int64_t)time(NULL) <= end) {
        struct timespec pause = {0, 100000000L};
        nanosleep(&pause, NULL);
    }
    assert_int_equal(hit(f, "k", 1), 1);
}

static void test_kv_rate_refund_never_below_zero(void **state)
{
    struct fixture *f = *state;
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(f->kv->rate_refund(f->kv, "k", now), GH_OK); /* no window: nothing */
    assert_int_equal(hit(f, "k", 60), 1);
    assert_int_equal(hit(f, "k", 60), 2);
    assert_int_equal(hit(f, "k", 60), 3);
    assert_int_equal(f->kv->rate_refund(f->kv, "k", (int64_t)time(NULL)), GH_OK);
    assert_int_equal(hit(f, "k", 60), 3); /* 2, and this hit */
    for (int i = 0; i < 5; i++)
        assert_int_equal(f->kv->rate_refund(f->kv, "k", (int64_t)time(NULL)), GH_OK);
    assert_int_equal(hit(f, "k", 60), 1);
    assert_int_equal(hit(f, "other", 60), 1);
}

static void test_kv_rate_clear(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->kv->rate_clear(f->kv, "k"), GH_OK); /* nothing to clear */
    assert_int_equal(hit(f, "k", 60), 1);
    assert_int_equal(hit(f, "k", 60), 2);
    assert_int_equal(hit(f, "other", 60), 1);
    assert_int_equal(f->kv->rate_clear(f->kv, "k"), GH_OK);
    assert_int_equal(hit(f, "k", 60), 1);
    assert_int_equal(hit(f, "other", 60), 2);
}

#define RACERS         8
#define HITS_PER_RACER 25

struct race {
    struct kv *kv;
    pthread_barrier_t *start;
    gh_status status;
};

static void *hit_thread(void *arg)
{
    struct race *r = arg;
    int64_t count, end;
    (void)r->kv->ping(r->kv); /* connect before the race starts */
    pthread_barrier_wait(r->start);
    r->status = GH_OK;
    for (int i = 0; i < HITS_PER_RACER && r->status == GH_OK; i++)
        r->status = r->kv->rate_hit(r->kv, "ip:192.0.2.7", 60, (int64_t)time(NULL), &count, &end);
    return NULL;
}

/* Hits from many threads, each on its own connection, are each counted once; close() frees
 * every thread's connection. */
static void test_kv_rate_concurrent_hits_all_count(void **state)
{
    struct fixture *f = *state;
    pthread_barrier_t start;
    pthread_t threads[RACERS];
    struct race races[RACERS];
    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        races[i] = (struct race){.kv = f->kv, .start = &start};
        pthread_create(&threads[i], NULL, hit_thread, &races[i]);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(races[i].status, GH_OK);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(hit(f, "ip:192.0.2.7", 60), RACERS * HITS_PER_RACER + 1);
}

/* ==== every scenario on every backend ==== */

static const struct scenario {
    const char *name;
    CMUnitTestFunction fn;
} scenarios[] = {
#define SCENARIO(fn)                                                                               \
    {                                                                                              \
#fn, fn                                                                                    \
    }
    SCENARIO(test_kv_every_member_is_set),
    SCENARIO(test_kv_ping),
    SCENARIO(test_kv_session_insert_and_lookup),
    SCENARIO(test_kv_session_expired_not_found),
    SCENARIO(test_kv_session_unknown_not_found),
    SCENARIO(test_kv_session_of_unknown_user_not_found),
    SCENARIO(test_kv_session_lookup_again_reads_the_user_fresh),
    SCENARIO(test_kv_session_touch_sets_last_seen),
    SCENARIO(test_kv_session_delete),
    SCENARIO(test_kv_session_list_newest_first_live_only),
    SCENARIO(test_kv_session_delete_all_keeps_one_or_none),
    SCENARIO(test_kv_rate_hit_counts_in_a_window),
    SCENARIO(test_kv_rate_hit_starts_a_new_window_after_the_end),
    SCENARIO(test_kv_rate_refund_never_below_zero),
    SCENARIO(test_kv_rate_clear),
    SCENARIO(test_kv_rate_concurrent_hits_all_count),
#undef SCENARIO
};
#define SCENARIOS (sizeof scenarios / sizeof scenarios[0])

int main(void)
{
    static struct CMUnitTest tests[BACKENDS * SCENARIOS];
    static char names[BACKENDS * SCENARIOS][96];
    for (size_t b = 0; b < BACKENDS; b++)
        for (size_t i = 0; i < SCENARIOS; i++) {
            size_t k = b * SCENARIOS + i;
            snprintf(names[k], sizeof names[k], "%s: %s", backends[b].name,
                     scenarios[i].name + strlen("test_kv_"));
            tests[k] = (struct CMUnitTest){.name = names[k],
                                           .test_func = scenarios[i].fn,
                                           .setup_func = setup_kv,
                                           .teardown_func = teardown_kv,
                                           .initial_state = (void *)&backends[b]};
        }
    return cmocka_run_group_tests_name("kv contract", tests, setup_redis, teardown_redis);
}
