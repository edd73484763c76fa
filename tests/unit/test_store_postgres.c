/* The PostgreSQL store (store/postgres.c) against a throwaway cluster that this program starts
 * (initdb + pg_ctl from GATEHOUSE_TEST_PG_BIN, default /usr/lib/postgresql/15/bin, run as the
 * `postgres` user when we are root) and removes at the end. Each test gets a fresh database.
 * Besides the scenarios of test_store.c, it checks what only a server database has: races
 * between connections, and losing the server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/secret.h"

/* Number of embedded migrations (store/migrations/postgres/). */
#define MIGRATIONS 5

static char cluster_dir[64];
static char pg_bin[256] = "/usr/lib/postgresql/15/bin";
static int cluster_port;
static bool cluster_running;
static int db_counter;

struct fixture {
    char url[160];
    struct store *st;
};

/* Runs a shell command line built from fmt; returns its exit status. */
__attribute__((format(printf, 1, 2))) static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* "runuser -u postgres -- " when root (initdb refuses to run as root), else nothing. */
static const char *as_postgres(void)
{
    return geteuid() == 0 ? "runuser -u postgres -- " : "";
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int cluster_start_server(void)
{
    return run("%s%s/pg_ctl start -D %s/data -l %s/postgres.log -w -t 30 -o '-p %d -k %s "
               "-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' >/dev/null",
               as_postgres(), pg_bin, cluster_dir, cluster_dir, cluster_port, cluster_dir);
}

static int cluster_stop_server(void)
{
    return run("%s%s/pg_ctl stop -D %s/data -m fast -w >/dev/null", as_postgres(), pg_bin,
               cluster_dir);
}

static void cluster_remove(void)
{
    if (cluster_running)
        (void)cluster_stop_server();
    cluster_running = false;
    if (cluster_dir[0])
        (void)run("rm -rf '%s'", cluster_dir);
    cluster_dir[0] = '\0';
}

static int setup_cluster(void **state)
{
    (void)state;
    const char *bin = getenv("GATEHOUSE_TEST_PG_BIN");
    if (bin && *bin)
        snprintf(pg_bin, sizeof pg_bin, "%s", bin);
    strcpy(cluster_dir, "/tmp/gatehouse-pgunit-XXXXXX");
    if (!mkdtemp(cluster_dir)) {
        cluster_dir[0] = '\0';
        return -1;
    }
    atexit(cluster_remove);
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw || chown(cluster_dir, pw->pw_uid, pw->pw_gid)) {
            fprintf(stderr, "no postgres user to run the test cluster as\n");
            return -1;
        }
    }
    if (run("%s%s/initdb -D %s/data -A trust -U postgres -E UTF8 --locale=C --no-sync "
            ">/dev/null",
            as_postgres(), pg_bin, cluster_dir)) {
        fprintf(stderr, "initdb failed (is PostgreSQL 15 installed in %s?)\n", pg_bin);
        return -1;
    }
    for (int attempt = 0; attempt < 5 && !cluster_running; attempt++) {
        cluster_port = free_port();
        cluster_running = cluster_port > 0 && cluster_start_server() == 0;
    }
    return cluster_running ? 0 : -1;
}

static int teardown_cluster(void **state)
{
    (void)state;
    cluster_remove();
    return 0;
}

static void cluster_url(char *out, size_t cap, const char *db)
{
    snprintf(out, cap, "postgres://postgres@127.0.0.1:%d/%s", cluster_port, db);
}

/* Runs one statement on a separate connection to db; returns the first value as text (or ""). */
static void admin_exec(const char *db, const char *sql, char *out, size_t cap)
{
    char url[160];
    cluster_url(url, sizeof url, db);
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect %s: %s", url, PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ExecStatusType rs = PQresultStatus(r);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    if (out)
        snprintf(out, cap, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
}

static int64_t query_int(struct fixture *f, const char *sql)
{
    char v[64];
    admin_exec(strrchr(f->url, '/') + 1, sql, v, sizeof v);
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
    admin_exec("postgres", sql, NULL, 0);
    cluster_url(f->url, sizeof f->url, name);
    if (store_open(f->url, &f->st) != GH_OK || f->st->migrate(f->st) != GH_OK) {
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

static void insert_user(struct fixture *f, struct user *u, const char *email)
{
    make_user(u, email);
    assert_int_equal(f->st->user_insert(f->st, u), GH_OK);
}

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void insert_token(struct fixture *f, const char *hash, const char *user_id,
                         const char *purpose, int64_t created, int64_t expires)
{
    struct onetime t = {.purpose = purpose, .created_at = created, .expires_at = expires};
    strcpy(t.token_hash, hash);
    strcpy(t.user_id, user_id);
    assert_int_equal(f->st->onetime_insert(f->st, &t), GH_OK);
}

static void make_session(struct session *s, const char *hash, const char *user_id, int64_t created,
                         int64_t expires)
{
    memset(s, 0, sizeof *s);
    strcpy(s->token_hash, hash);
    secret_uuid_new(s->id);
    strcpy(s->user_id, user_id);
    s->created_at = s->last_seen_at = created;
    s->expires_at = expires;
    strcpy(s->ip, "127.0.0.1");
    strcpy(s->user_agent, "test");
}

static void make_mail(struct mail *m, const char *to, const char *subject)
{
    memset(m, 0, sizeof *m);
    strcpy(m->recipient, to);
    m->subject = (char *)subject;
    m->text_body = (char *)"Hello\nworld";
    m->html_body = (char *)"<p>Hello</p>";
}

/* ---- migrations and connections ---- */

static void test_pg_migrate_twice_is_idempotent(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM schema_migrations"), MIGRATIONS);
    assert_int_equal(query_int(f, "SELECT max(version) FROM schema_migrations"), MIGRATIONS);
}

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

static void test_pg_concurrent_migrations_do_not_race(void **state)
{
    (void)state;
    char url[160];
    admin_exec("postgres", "CREATE DATABASE race_migrate", NULL, 0);
    cluster_url(url, sizeof url, "race_migrate");
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
    char v[16];
    admin_exec("race_migrate", "SELECT count(*) FROM schema_migrations", v, sizeof v);
    assert_int_equal(atoi(v), MIGRATIONS);
}

static void test_pg_open_unreachable_is_unavailable(void **state)
{
    (void)state;
    struct store *st = NULL;
    char url[160];
    snprintf(url, sizeof url, "postgres://postgres@127.0.0.1:%d/nosuchdb", cluster_port);
    assert_int_equal(store_open(url, &st), GH_UNAVAILABLE);
    assert_int_equal(store_open("postgresql://127.0.0.1:1/x?connect_timeout=1", &st),
                     GH_UNAVAILABLE);
}

static void test_pg_ping(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->st->ping(f->st), GH_OK);
}

static gh_status ready_write_in_tx(struct store *st, void *ctx)
{
    return st->ready_write(st, *(const int64_t *)ctx);
}

static void test_pg_ready_write_commits_the_time(void **state)
{
    struct fixture *f = *state;
    int64_t now = 1700000123;
    assert_int_equal(store_transaction(f->st, ready_write_in_tx, &now), GH_OK);
    assert_int_equal(query_int(f, "SELECT checked_at FROM readiness WHERE id = 1"), now);
    /* A second probe in the same second still changes the row. */
    assert_int_equal(store_transaction(f->st, ready_write_in_tx, &now), GH_OK);
    assert_int_equal(query_int(f, "SELECT probes FROM readiness WHERE id = 1"), 2);
    assert_int_equal(query_int(f, "SELECT count(*) FROM readiness"), 1);
}

/* A database that answers reads but refuses writes is not ready: ping alone cannot tell. */
static void test_pg_ready_write_fails_on_a_read_only_database(void **state)
{
    struct fixture *f = *state;
    char sql[128], url[160];
    const char *db = strrchr(f->url, '/') + 1;
    snprintf(sql, sizeof sql, "ALTER DATABASE %s SET default_transaction_read_only = on", db);
    admin_exec("postgres", sql, NULL, 0);
    snprintf(url, sizeof url, "%s", f->url);
    f->st->close(f->st); /* the setting applies to new connections */
    f->st = NULL;
    assert_int_equal(store_open(url, &f->st), GH_OK);
    int64_t now = 1700000456;
    assert_int_equal(f->st->ping(f->st), GH_OK);
    assert_int_not_equal(store_transaction(f->st, ready_write_in_tx, &now), GH_OK);
    assert_int_equal(query_int(f, "SELECT checked_at FROM readiness WHERE id = 1"), 0);
}

/* ---- users ---- */

static void test_pg_user_insert_and_lookup(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    insert_user(f, &u, "ada@example.com");
    assert_int_equal(f->st->user_by_email(f->st, "ada@example.com", &got), GH_OK);
    assert_string_equal(got.id, u.id);
    assert_string_equal(got.email, "ada@example.com");
    assert_string_equal(got.password_hash, u.password_hash);
    assert_false(got.is_active);
    assert_false(got.is_staff);
    assert_int_equal(got.date_joined, 1700000000);
    assert_string_equal(got.profile.id, u.profile.id);
    assert_string_equal(got.thumbnail, "");
    assert_string_equal(got.profile.phone_number, "");
    assert_int_equal(query_int(f, "SELECT count(*) FROM users WHERE thumbnail IS NULL"), 1);
    assert_int_equal(f->st->user_by_email(f->st, "ADA@Example.com", &got), GH_OK);
    assert_int_equal(f->st->user_by_email(f->st, "bob@example.com", &got), GH_NOT_FOUND);
}

static void test_pg_duplicate_email_any_case_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u, v;
    insert_user(f, &u, "ada@example.com");
    make_user(&v, "Ada@Example.COM");
    assert_int_equal(f->st->user_insert(f->st, &v), GH_CONFLICT);
}

static void test_pg_user_by_id_activate_and_update(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    insert_user(f, &u, "ada@example.com");
    assert_int_equal(f->st->user_activate(f->st, u.id), GH_OK);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_true(got.is_active);
    strcpy(u.first_name, "Grace");
    strcpy(u.profile.birth_date, "1906-12-09");
    strcpy(u.thumbnail, "avatars/x.png");
    assert_int_equal(f->st->user_update_profile(f->st, &u), GH_OK);
    assert_int_equal(f->st->user_set_password(f->st, u.id, "new-hash"), GH_OK);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.first_name, "Grace");
    assert_string_equal(got.profile.birth_date, "1906-12-09");
    assert_string_equal(got.thumbnail, "avatars/x.png");
    assert_string_equal(got.password_hash, "new-hash");
    /* Unknown, malformed and upper-case ids are not found, as on SQLite. */
    char upper[UUID_LEN + 1];
    for (int i = 0; i <= UUID_LEN; i++)
        upper[i] = (char)(u.id[i] >= 'a' && u.id[i] <= 'f' ? u.id[i] - 32 : u.id[i]);
    assert_int_equal(f->st->user_by_id(f->st, "00000000-0000-0000-0000-000000000000", &got),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->user_by_id(f->st, "garbage", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->user_by_id(f->st, upper, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->user_activate(f->st, "garbage"), GH_NOT_FOUND);
}

/* ---- transactions ---- */

static gh_status insert_then_fail(struct store *st, void *ctx)
{
    gh_status s = st->user_insert(st, ctx);
    return s == GH_OK ? GH_ERR_EMAIL_TAKEN : s;
}

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

static void test_pg_transaction_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    make_user(&u, "ada@example.com");
    assert_int_equal(store_transaction(f->st, insert_then_fail, &u), GH_ERR_EMAIL_TAKEN);
    assert_int_equal(f->st->user_by_email(f->st, "ada@example.com", &got), GH_NOT_FOUND);
    assert_int_equal(store_transaction(f->st, insert_twice_ignoring_error, &u), GH_INTERNAL);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles"), 0);
    /* The connection is usable afterwards. */
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
}

/* ---- one-time tokens ---- */

static void test_pg_onetime_consume_peek_revoke(void **state)
{
    struct fixture *f = *state;
    struct user u;
    char uid[UUID_LEN + 1] = "";
    insert_user(f, &u, "ada@example.com");
    insert_token(f, HASH_A, u.id, PURPOSE_CONFIRM, 1000, 2800);
    insert_token(f, HASH_B, u.id, PURPOSE_RESET, 1000, 2800);
    assert_int_equal(f->st->onetime_peek(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid), GH_OK);
    assert_string_equal(uid, u.id);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_RESET, 1500, uid), GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 2800, uid),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid), GH_OK);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1501, uid),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_revoke_all(f->st, u.id, PURPOSE_RESET, 1600), GH_OK);
    assert_int_equal(f->st->onetime_peek(f->st, HASH_B, PURPOSE_RESET, 1700, uid), GH_NOT_FOUND);
    struct onetime dup = {.purpose = PURPOSE_CONFIRM, .created_at = 1, .expires_at = 2};
    strcpy(dup.token_hash, HASH_A);
    strcpy(dup.user_id, u.id);
    assert_int_equal(f->st->onetime_insert(f->st, &dup), GH_CONFLICT);
}

#define RACERS 8

struct race {
    struct store *st;
    pthread_barrier_t *start;
    gh_status status;
    int64_t count;
};

static void *consume_thread(void *arg)
{
    struct race *r = arg;
    char uid[UUID_LEN + 1];
    (void)r->st->ping(r->st); /* connect before the race starts */
    pthread_barrier_wait(r->start);
    r->status = r->st->onetime_consume(r->st, HASH_A, PURPOSE_CONFIRM, 1500, uid);
    return NULL;
}

static void test_pg_concurrent_consume_has_one_winner(void **state)
{
    struct fixture *f = *state;
    struct user u;
    insert_user(f, &u, "ada@example.com");
    for (int round = 0; round < 5; round++) {
        admin_exec(strrchr(f->url, '/') + 1, "DELETE FROM one_time_tokens", NULL, 0);
        insert_token(f, HASH_A, u.id, PURPOSE_CONFIRM, 1000, 2800);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, RACERS);
        struct race races[RACERS];
        pthread_t threads[RACERS];
        for (int i = 0; i < RACERS; i++) {
            races[i] = (struct race){.st = f->st, .start = &start};
            pthread_create(&threads[i], NULL, consume_thread, &races[i]);
        }
        int winners = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(threads[i], NULL);
            if (races[i].status == GH_OK)
                winners++;
            else
                assert_int_equal(races[i].status, GH_NOT_FOUND);
        }
        pthread_barrier_destroy(&start);
        assert_int_equal(winners, 1);
    }
}

/* ---- sessions ---- */

static void test_pg_sessions(void **state)
{
    struct fixture *f = *state;
    struct user u, got_user;
    struct session a, b, got, list[4];
    size_t n = 0;
    insert_user(f, &u, "ada@example.com");
    make_session(&a, HASH_A, u.id, 1000, 2000);
    make_session(&b, HASH_B, u.id, 1100, 2100);
    strcpy(b.user_agent, "caf\xc3\xa9 \xff\xfe latin1 \xe9"); /* invalid UTF-8 is kept as '?' */
    assert_int_equal(f->st->session_insert(f->st, &a), GH_OK);
    assert_int_equal(f->st->session_insert(f->st, &b), GH_OK);
    assert_int_equal(f->st->session_insert(f->st, &a), GH_CONFLICT);
    assert_int_equal(f->st->session_lookup(f->st, HASH_B, 1500, &got, &got_user), GH_OK);
    assert_string_equal(got.id, b.id);
    assert_string_equal(got.user_agent, "caf\xc3\xa9 ?? latin1 ?");
    assert_string_equal(got_user.email, "ada@example.com");
    assert_int_equal(f->st->session_lookup(f->st, HASH_A, 2000, &got, &got_user), GH_NOT_FOUND);
    assert_int_equal(f->st->session_touch(f->st, HASH_A, 1600), GH_OK);
    assert_int_equal(f->st->session_list(f->st, u.id, 1500, list, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, b.id); /* newest first */
    assert_int_equal(list[1].last_seen_at, 1600);
    assert_int_equal(f->st->session_list(f->st, u.id, 1500, list, 1, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(f->st->session_delete_all(f->st, u.id, HASH_B), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 1);
    assert_int_equal(f->st->session_delete(f->st, HASH_B), GH_OK);
    assert_int_equal(f->st->session_delete(f->st, HASH_B), GH_NOT_FOUND);
}

/* ---- outbox ---- */

static void test_pg_outbox_claim_lease_sent_retry(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    int64_t count = -1;
    make_mail(&m, "ada@example.com", "Welcome");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    make_mail(&m, "bob@example.com", "Later");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1001), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 999, 1060, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->outbox_claim(f->st, 1001, 1060, &got), GH_OK);
    assert_string_equal(got.recipient, "ada@example.com"); /* oldest first */
    assert_string_equal(got.text_body, "Hello\nworld");
    assert_int_equal(got.attempts, 1);
    assert_int_equal(got.created_at, 1000); /* for the Message-ID and the file name */
    int64_t id = got.id;
    mail_clear(&got);
    assert_int_equal(f->st->outbox_schedule_retry(f->st, id, 1100, "smtp: 451"), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 1001, 1061, &got), GH_OK);
    assert_string_equal(got.recipient, "bob@example.com");
    assert_int_equal(f->st->outbox_mark_sent(f->st, got.id, 1002), GH_OK);
    mail_clear(&got);
    assert_int_equal(f->st->outbox_claim(f->st, 1099, 1160, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->outbox_claim(f->st, 1100, 1160, &got), GH_OK);
    assert_int_equal(got.attempts, 2);
    mail_clear(&got);
    assert_int_equal(f->st->outbox_pending(f->st, &count), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM mail_outbox WHERE sent_at IS NOT NULL AND "
                                  "text_body = '' AND html_body = ''"),
                     1);
    assert_int_equal(f->st->outbox_mark_sent(f->st, 424242, 1), GH_NOT_FOUND);
}

#define OUTBOX_ROWS 200

static void *claim_thread(void *arg)
{
    struct race *r = arg;
    struct mail got;
    (void)r->st->ping(r->st);
    pthread_barrier_wait(r->start);
    while ((r->status = r->st->outbox_claim(r->st, 5000, 9000, &got)) == GH_OK) {
        r->count++;
        mail_clear(&got);
    }
    return NULL;
}

static int64_t pending(struct fixture *f)
{
    int64_t n = -1;
    assert_int_equal(f->st->outbox_pending(f->st, &n), GH_OK);
    return n;
}

/* A mail request: claimed like a mail, then turned into one or dropped, once. */
static void test_pg_outbox_request_resolve_and_discard(void **state)
{
    struct fixture *f = *state;
    struct mail got, other;
    assert_int_equal(f->st->outbox_request(f->st, "ada@example.com", MAIL_REQUEST_RESET, 1000),
                     GH_OK);
    assert_int_equal(f->st->outbox_request(f->st, "nobody@example.com", MAIL_REQUEST_CONFIRM, 1001),
                     GH_OK);
    assert_int_equal(pending(f), 2);
    assert_int_equal(f->st->outbox_claim(f->st, 1001, 1061, &got), GH_OK);
    assert_string_equal(got.recipient, "ada@example.com");
    assert_string_equal(got.request, MAIL_REQUEST_RESET);
    assert_string_equal(got.subject, "");
    mail_clear(&got);
    got.subject = (char *)"Reset";
    got.text_body = (char *)"link";
    got.html_body = (char *)"<a>link</a>";
    assert_int_equal(f->st->outbox_resolve(f->st, &got), GH_OK);
    assert_int_equal(f->st->outbox_resolve(f->st, &got), GH_NOT_FOUND);   /* resolved once */
    assert_int_equal(f->st->outbox_discard(f->st, got.id), GH_NOT_FOUND); /* a mail now */
    int64_t resolved = got.id;
    assert_int_equal(f->st->outbox_claim(f->st, 1001, 1061, &other), GH_OK);
    assert_string_equal(other.request, MAIL_REQUEST_CONFIRM);
    assert_int_equal(f->st->outbox_discard(f->st, other.id), GH_OK);
    assert_int_equal(f->st->outbox_discard(f->st, other.id), GH_NOT_FOUND);
    mail_clear(&other);
    assert_int_equal(pending(f), 1);
    /* the resolved row is an ordinary mail: claimed again after its lease, with its text */
    assert_int_equal(f->st->outbox_claim(f->st, 1061, 1121, &got), GH_OK);
    assert_int_equal(got.id, resolved);
    assert_string_equal(got.request, "");
    assert_string_equal(got.subject, "Reset");
    assert_string_equal(got.text_body, "link");
    mail_clear(&got);
}

/* A taken address in a transaction: GH_CONFLICT, and the transaction goes on (registration
 * records a mail request in it). */
static int conflict_then_request(struct store *st, void *arg)
{
    struct user *dup = arg;
    gh_status status = st->user_insert(st, dup);
    if (status != GH_CONFLICT)
        return GH_INTERNAL;
    return st->outbox_request(st, dup->email, MAIL_REQUEST_REGISTERED, 1000);
}

static void test_pg_conflict_keeps_transaction_usable(void **state)
{
    struct fixture *f = *state;
    struct user u, dup;
    insert_user(f, &u, "ada@example.com");
    make_user(&dup, "ADA@example.com");
    assert_int_equal(store_transaction(f->st, (store_tx_fn)conflict_then_request, &dup), GH_OK);
    assert_int_equal(pending(f), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
}

static void test_pg_concurrent_claims_take_each_mail_once(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL; /* a second instance on the same database */
    assert_int_equal(store_open(f->url, &other), GH_OK);
    for (int i = 0; i < OUTBOX_ROWS; i++) {
        struct mail m;
        make_mail(&m, "ada@example.com", "Welcome");
        assert_int_equal(f->st->outbox_insert(f->st, &m, 1000 + i % 7), GH_OK);
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, RACERS);
    struct race races[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        races[i] = (struct race){.st = i % 2 ? other : f->st, .start = &start};
        pthread_create(&threads[i], NULL, claim_thread, &races[i]);
    }
    int64_t total = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(races[i].status, GH_NOT_FOUND);
        total += races[i].count;
    }
    pthread_barrier_destroy(&start);
    other->close(other);
    assert_int_equal(total, OUTBOX_ROWS);
    assert_int_equal(query_int(f, "SELECT count(*) FROM mail_outbox WHERE attempts = 1"),
                     OUTBOX_ROWS);
}

/* ---- rate limits, audit, expiry ---- */

static void *hit_thread(void *arg)
{
    struct race *r = arg;
    int64_t count, end;
    (void)r->st->ping(r->st);
    pthread_barrier_wait(r->start);
    r->status = GH_OK;
    for (int i = 0; i < 25 && r->status == GH_OK; i++)
        r->status = r->st->rate_hit(r->st, "ip:1.2.3.4", 60, 1000, &count, &end);
    return NULL;
}

static void test_pg_rate_limits(void **state)
{
    struct fixture *f = *state;
    int64_t count = 0, end = 0;
    assert_int_equal(f->st->rate_peek(f->st, "k", 1000, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    assert_int_equal(end, 1000);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(end, 1060);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1059, &count, &end), GH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(end, 1060);
    assert_int_equal(f->st->rate_peek(f->st, "k", 1059, &count, &end), GH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1060, &count, &end), GH_OK);
    assert_int_equal(count, 1); /* a new window */
    assert_int_equal(end, 1120);
    assert_int_equal(f->st->rate_refund(f->st, "k", 1061), GH_OK);
    assert_int_equal(f->st->rate_peek(f->st, "k", 1061, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    assert_int_equal(end, 1120);
    assert_int_equal(f->st->rate_refund(f->st, "k", 1061), GH_OK); /* never below zero */
    assert_int_equal(f->st->rate_peek(f->st, "k", 1061, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1062, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(f->st->rate_refund(f->st, "k", 1120), GH_OK); /* an ended window stays */
    assert_int_equal(f->st->rate_clear(f->st, "k"), GH_OK);
    assert_int_equal(f->st->rate_peek(f->st, "k", 1061, &count, &end), GH_OK);
    assert_int_equal(count, 0);

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, RACERS);
    struct race races[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        races[i] = (struct race){.st = f->st, .start = &start};
        pthread_create(&threads[i], NULL, hit_thread, &races[i]);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(races[i].status, GH_OK);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(f->st->rate_peek(f->st, "ip:1.2.3.4", 1000, &count, &end), GH_OK);
    assert_int_equal(count, RACERS * 25);
}

struct secret_race {
    struct store *st;
    pthread_barrier_t *start;
    char candidate[16];
    char got[16];
    gh_status status;
};

static void *secret_thread(void *arg)
{
    struct secret_race *r = arg;
    (void)r->st->ping(r->st);
    pthread_barrier_wait(r->start);
    r->status =
        r->st->secret_get_or_create(r->st, "key", r->candidate, 1000, r->got, sizeof r->got);
    return NULL;
}

/* Instances starting together each propose a key; all must end up with the same one. */
static void test_pg_concurrent_secret_creation_agrees(void **state)
{
    struct fixture *f = *state;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, RACERS);
    struct secret_race races[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        races[i] = (struct secret_race){.st = f->st, .start = &start};
        snprintf(races[i].candidate, sizeof races[i].candidate, "candidate-%d", i);
        pthread_create(&threads[i], NULL, secret_thread, &races[i]);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(races[i].status, GH_OK);
        assert_string_equal(races[i].got, races[0].got);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(query_int(f, "SELECT count(*) FROM server_secrets"), 1);
    char again[16];
    assert_int_equal(f->st->secret_get_or_create(f->st, "key", "late", 2000, again, sizeof again),
                     GH_OK);
    assert_string_equal(again, races[0].got);
}

static void test_pg_audit_and_purge(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct session s;
    struct client_info client = {.ip = "127.0.0.1", .user_agent = "agent \xff"};
    insert_user(f, &u, "ada@example.com");
    struct audit_event e = {
        .event = "login_success", .user_id = u.id, .email = u.email, .client = &client};
    assert_int_equal(f->st->audit_insert(f->st, &e, 1000), GH_OK);
    struct audit_event anon = {.event = "login_failure", .user_id = NULL, .email = "x@y.z"};
    assert_int_equal(f->st->audit_insert(f->st, &anon, 1001), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit_log WHERE user_id IS NULL"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit_log WHERE user_agent = 'agent ?'"),
                     1);
    make_session(&s, HASH_A, u.id, 1000, 2000);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
    insert_token(f, HASH_B, u.id, PURPOSE_CONFIRM, 1000, 2000);
    int64_t count, end;
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(f->st->purge_expired(f->st, 2000), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM rate_limits"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM one_time_tokens"), 1); /* a day's grace */
    assert_int_equal(f->st->purge_expired(f->st, 2000 + 86400), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM one_time_tokens"), 0);
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
    insert_user(f, &u, "ada@example.com");
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(cluster_stop_server(), 0);
    /* The broken transaction fails and is not silently continued outside a transaction. */
    int64_t t0 = now_ms();
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_UNAVAILABLE);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_UNAVAILABLE);
    f->st->rollback(f->st);
    assert_int_equal(f->st->ping(f->st), GH_UNAVAILABLE);
    assert_int_equal(store_transaction(f->st, ping_in_tx, NULL), GH_UNAVAILABLE);
    assert_true(now_ms() - t0 < 2500);
    assert_int_equal(cluster_start_server(), 0);
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
        PG_TEST(test_pg_migrate_twice_is_idempotent),
        cmocka_unit_test(test_pg_concurrent_migrations_do_not_race),
        cmocka_unit_test(test_pg_open_unreachable_is_unavailable),
        PG_TEST(test_pg_ping),
        PG_TEST(test_pg_ready_write_commits_the_time),
        PG_TEST(test_pg_ready_write_fails_on_a_read_only_database),
        PG_TEST(test_pg_user_insert_and_lookup),
        PG_TEST(test_pg_duplicate_email_any_case_is_conflict),
        PG_TEST(test_pg_user_by_id_activate_and_update),
        PG_TEST(test_pg_transaction_rolls_back),
        PG_TEST(test_pg_onetime_consume_peek_revoke),
        PG_TEST(test_pg_concurrent_consume_has_one_winner),
        PG_TEST(test_pg_sessions),
        PG_TEST(test_pg_outbox_claim_lease_sent_retry),
        PG_TEST(test_pg_concurrent_claims_take_each_mail_once),
        PG_TEST(test_pg_rate_limits),
        PG_TEST(test_pg_concurrent_secret_creation_agrees),
        PG_TEST(test_pg_outbox_request_resolve_and_discard),
        PG_TEST(test_pg_conflict_keeps_transaction_usable),
        PG_TEST(test_pg_audit_and_purge),
        PG_TEST(test_pg_server_restart_is_unavailable_then_recovers),
    };
    return cmocka_run_group_tests(tests, setup_cluster, teardown_cluster);
}
