/* What only the PostgreSQL store (store/postgres/) has, on a throwaway cluster (pg_cluster.h):
 * instances migrating at once, a statement error inside a transaction, text PostgreSQL refuses,
 * parameter lists past their capacity, a read-only database and losing the server. The
 * scenarios every backend shares are in test_store_contract.c. */
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

#include "pg_cluster.h"
#include "store/postgres/postgres.h"
#include "store/store.h"
#include "util/secret.h"

/* Number of embedded migrations (store/migrations/postgres/). */
#define MIGRATIONS 9

static int db_counter;

struct fixture {
    char url[160];
    struct store *st;
};

static int setup_cluster(void **state)
{
    (void)state;
    return pg_cluster_create();
}

static int teardown_cluster(void **state)
{
    (void)state;
    pg_cluster_remove();
    return 0;
}

static const char *database_of(const struct fixture *f)
{
    return strrchr(f->url, '/') + 1;
}

static void admin_exec(const char *db, const char *sql, char *out, size_t cap)
{
    if (pg_cluster_exec(db, sql, out, cap))
        fail_msg("%s failed", sql);
}

static int64_t query_int(struct fixture *f, const char *sql)
{
    char v[64];
    admin_exec(database_of(f), sql, v, sizeof v);
    return strtoll(v, NULL, 10);
}

static int setup_store(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    char name[32], sql[64];
    snprintf(name, sizeof name, "t%d", ++db_counter);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    pg_cluster_url(f->url, sizeof f->url, name);
    if (pg_cluster_exec("postgres", sql, NULL, 0) || store_open(f->url, &f->st) != GH_OK ||
        f->st->migrate(f->st) != GH_OK) {
        if (f->st)
            f->st->close(f->st);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_store(void **state)
{
    struct fixture *f = *state;
    if (f->st)
        f->st->close(f->st);
    free(f);
    return 0;
}

static void make_user(struct user *u, const char *email)
{
    memset(u, 0, sizeof *u);
    secret_uuid_new(u->id);
    strcpy(u->email, email);
    strcpy(u->password_hash, "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA");
    strcpy(u->first_name, "Ada");
    strcpy(u->last_name, "Lovelace");
    u->date_joined = 1700000000;
    secret_uuid_new(u->profile.id);
}

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* ---- migrations and connections ---- */

struct migrate_job {
    const char *url;
    gh_status status;
};

static void *migrate_thread(void *arg)
{
    struct migrate_job *job = arg;
    struct store *st = NULL;
    job->status = store_open(job->url, &st);
    if (job->status == GH_OK) {
        job->status = st->migrate(st);
        st->close(st);
    }
    return NULL;
}

/* Instances starting together on an empty database: the advisory lock lets one migrate. */
static void test_pg_concurrent_migrations_do_not_race(void **state)
{
    (void)state;
    char url[160], v[16];
    admin_exec("postgres", "CREATE DATABASE race_migrate", NULL, 0);
    pg_cluster_url(url, sizeof url, "race_migrate");
    struct migrate_job jobs[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct migrate_job){.url = url};
        pthread_create(&threads[i], NULL, migrate_thread, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].status, GH_OK);
    }
    admin_exec("race_migrate", "SELECT count(*) FROM schema_migrations", v, sizeof v);
    assert_int_equal(atoi(v), MIGRATIONS);
}

static void test_pg_open_unreachable_is_unavailable(void **state)
{
    (void)state;
    struct store *st = NULL;
    char url[160];
    pg_cluster_url(url, sizeof url, "nosuchdb");
    assert_int_equal(store_open(url, &st), GH_UNAVAILABLE);
    assert_int_equal(store_open("postgresql://127.0.0.1:1/x?connect_timeout=1", &st),
                     GH_UNAVAILABLE);
}

static gh_status ready_write_in_tx(struct store *st, void *ctx)
{
    return st->ready_write(st, *(const int64_t *)ctx);
}

/* A database that answers reads but refuses writes is not ready: ping alone cannot tell. */
static void test_pg_ready_write_fails_on_a_read_only_database(void **state)
{
    struct fixture *f = *state;
    char sql[128];
    snprintf(sql, sizeof sql, "ALTER DATABASE %s SET default_transaction_read_only = on",
             database_of(f));
    admin_exec("postgres", sql, NULL, 0);
    f->st->close(f->st); /* the setting applies to new connections */
    f->st = NULL;
    assert_int_equal(store_open(f->url, &f->st), GH_OK);
    int64_t now = 1700000456;
    assert_int_equal(f->st->ping(f->st), GH_OK);
    assert_int_not_equal(store_transaction(f->st, ready_write_in_tx, &now), GH_OK);
    assert_int_equal(query_int(f, "SELECT checked_at FROM readiness WHERE id = 1"), 0);
}

/* ---- transactions ---- */

/* Ignores a failed statement and goes on: the commit must not report success. (A taken email
 * does not fail a statement; a second profile with the same id does.) */
static gh_status insert_twice_ignoring_error(struct store *st, void *ctx)
{
    struct user *u = ctx, v;
    assert_int_equal(st->user_insert(st, u), GH_OK);
    make_user(&v, "grace@example.com");
    strcpy(v.profile.id, u->profile.id);
    assert_int_equal(st->user_insert(st, &v), GH_CONFLICT);
    return GH_OK;
}

static void test_pg_statement_error_fails_the_commit(void **state)
{
    struct fixture *f = *state;
    struct user u;
    make_user(&u, "ada@example.com");
    assert_int_equal(store_transaction(f->st, insert_twice_ignoring_error, &u), GH_INTERNAL);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles"), 0);
    /* The connection is usable afterwards. */
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
}

/* Rate-limit counters are transient: their table is unlogged, so a counter's commit does not
 * wait for a WAL flush (migration 9). Every other table stays logged. */
static void test_pg_only_the_rate_limit_table_is_unlogged(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(query_int(f, "SELECT count(*) FROM pg_class WHERE relname = 'rate_limits' "
                                  "AND relpersistence = 'u'"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                                  "n.oid = c.relnamespace WHERE n.nspname = 'public' AND "
                                  "c.relkind = 'r' AND c.relpersistence = 'u'"),
                     1);
    int64_t count = 0, end = 0;
    assert_int_equal(f->st->rate_hit(f->st, "ip:192.0.2.1", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(f->st->rate_hit(f->st, "ip:192.0.2.1", 60, 1001, &count, &end), GH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(end, 1060);
}

/* ---- text PostgreSQL refuses ---- */

/* Header values may hold any bytes; what is not UTF-8 is stored as '?', not refused. */
static void test_pg_invalid_utf8_is_stored_replaced(void **state)
{
    struct fixture *f = *state;
    struct user u, got_user;
    struct session s, got;
    make_user(&u, "ada@example.com");
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    memset(&s, 0, sizeof s);
    strcpy(s.token_hash, HASH_A);
    secret_uuid_new(s.id);
    strcpy(s.user_id, u.id);
    s.created_at = s.last_seen_at = 1000;
    s.expires_at = 2000;
    strcpy(s.ip, "127.0.0.1");
    strcpy(s.user_agent, "caf\xc3\xa9 \xff\xfe latin1 \xe9");
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
    assert_int_equal(f->st->session_lookup(f->st, HASH_A, 1500, &got, &got_user), GH_OK);
    assert_string_equal(got.user_agent, "caf\xc3\xa9 ?? latin1 ?");

    struct client_info client = {.ip = "127.0.0.1", .user_agent = "agent \xff"};
    struct audit_event e = {
        .event = "login_success", .user_id = u.id, .client = &client, .detail = "over\xc0\xaflong"};
    assert_int_equal(f->st->audit_insert(f->st, &e, 1000), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit_log WHERE user_agent = 'agent ?' "
                                  "AND detail = 'over??long'"),
                     1);

    struct mail m = {.recipient = "ada@example.com"}, claimed;
    m.subject = m.text_body = m.html_body = (char *)"x";
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 1000, 1060, &claimed), GH_OK);
    assert_int_equal(f->st->outbox_schedule_retry(f->st, claimed.id, 1100, "smtp: \xff"), GH_OK);
    mail_clear(&claimed);
    assert_int_equal(query_int(f, "SELECT count(*) FROM mail_outbox WHERE last_error = 'smtp: ?'"),
                     1);
}

/* ---- bounded parameter lists ---- */

/* A statement of the tests' own, in the last slot of the connection group: no statement of
 * the store uses that slot, so the cache of prepared statements stays right. */
#define PROBE (SQL_GROUP_MAX - 1)
static const char *const probe_sql[SQL_GROUP_MAX] = {[PROBE] = "SELECT $1::bigint + $2::bigint"};
static const struct sql_statements probe = {SQL_CONN, "probe", SQL_GROUP_MAX, probe_sql};

/* A list that outgrew SQL_PARAMS_MAX, or that binds more or fewer parameters than the statement
 * has, is refused with GH_INTERNAL before the statement runs; one that fits runs. */
static void test_pg_parameter_lists_are_bounded(void **state)
{
    struct fixture *f = *state;
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_int(&p, 40);
    assert_int_equal(pg_exec(f->st, &probe, PROBE, &p, false), GH_INTERNAL); /* one short */
    sql_param_int(&p, 2);
    assert_int_equal(pg_query(f->st, &probe, PROBE, &p, &row), GH_OK);
    assert_int_equal(sql_int(&row, 0), 42);
    sql_done(&row);
    sql_param_int(&p, 3);
    assert_int_equal(pg_exec(f->st, &probe, PROBE, &p, false), GH_INTERNAL); /* one too many */
    while (p.n < SQL_PARAMS_MAX)
        sql_param_int(&p, 0);
    assert_false(p.overflow);
    sql_param_text(&p, "past the end");
    assert_true(p.overflow);
    assert_int_equal(p.n, SQL_PARAMS_MAX);
    assert_int_equal(pg_exec(f->st, &probe, PROBE, &p, false), GH_INTERNAL);
    assert_int_equal(pg_query(f->st, &probe, PROBE, &p, &row), GH_INTERNAL);
    assert_int_equal(pg_exec(f->st, &probe, SQL_GROUP_MAX, NULL, false), GH_INTERNAL);
    assert_int_equal(f->st->ping(f->st), GH_OK); /* the connection is fine */
}

/* ---- losing the server ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static gh_status ping_in_tx(struct store *st, void *ctx)
{
    (void)ctx;
    return st->ping(st);
}

/* Runs last: stops and restarts the cluster. */
static void test_pg_server_restart_is_unavailable_then_recovers(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    make_user(&u, "ada@example.com");
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(pg_cluster_stop(), 0);
    /* The broken transaction fails and is not silently continued outside a transaction. */
    int64_t t0 = now_ms();
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_UNAVAILABLE);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_UNAVAILABLE);
    f->st->rollback(f->st);
    assert_int_equal(f->st->ping(f->st), GH_UNAVAILABLE);
    assert_int_equal(store_transaction(f->st, ping_in_tx, NULL), GH_UNAVAILABLE);
    assert_true(now_ms() - t0 < 2500);
    assert_int_equal(pg_cluster_start(), 0);
    gh_status st = GH_UNAVAILABLE;
    for (int i = 0; i < 30 && st != GH_OK; i++) {
        struct timespec pause = {0, 100000000L};
        nanosleep(&pause, NULL);
        st = f->st->user_by_id(f->st, u.id, &got);
    }
    assert_int_equal(st, GH_OK);
    assert_string_equal(got.email, "ada@example.com");
    assert_int_equal(store_transaction(f->st, ping_in_tx, NULL), GH_OK);
}

#define PG_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_store, teardown_store)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_concurrent_migrations_do_not_race),
        cmocka_unit_test(test_pg_open_unreachable_is_unavailable),
        PG_TEST(test_pg_ready_write_fails_on_a_read_only_database),
        PG_TEST(test_pg_statement_error_fails_the_commit),
        PG_TEST(test_pg_only_the_rate_limit_table_is_unlogged),
        PG_TEST(test_pg_invalid_utf8_is_stored_replaced),
        PG_TEST(test_pg_parameter_lists_are_bounded),
        PG_TEST(test_pg_server_restart_is_unavailable_then_recovers),
    };
    return cmocka_run_group_tests_name("store postgres", tests, setup_cluster, teardown_cluster);
}
