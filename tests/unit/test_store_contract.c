/* The store contract (store/store.h): every scenario runs against every backend, SQLite on a
 * temp file, PostgreSQL on a throwaway cluster this program starts (pg_cluster.h) and the
 * in-memory fake store of the core unit tests (fake_store.h), each test on a fresh database.
 * Together the scenarios call every member of struct store; what only one backend has (races of
 * PostgreSQL migrations, losing the server, a read-only database) is in test_store_postgres.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_store.h"
#include "pg_cluster.h"
#include "store/store.h"
#include "util/secret.h"

/* Migrations embedded in the binary (store/migrations/<backend>/). */
#define MIGRATIONS 9

struct fixture;

/* What differs between backends in a test: making a fresh database, opening a store on it, and
 * reading and changing it behind the store's back. */
struct backend {
    const char *name;
    /* Makes an empty database and sets f->url to its DATABASE_URL (the fake: f->fake); 0 on
     * success. */
    int (*create)(struct fixture *f);
    /* Removes what create made (the store is closed already). */
    void (*destroy)(struct fixture *f);
    /* Opens a store on the database, as another instance would. */
    gh_status (*open)(struct fixture *f, struct store **out);
    /* Runs a one-row query on a connection of its own and copies the first value as text
     * ("(null)" for NULL) into out. */
    void (*query)(struct fixture *f, const char *sql, char *out, size_t cap);
    /* Runs a statement on a connection of its own (with foreign keys enforced, as the store's
     * are): a change no member of the store makes, such as deleting a user. The fake runs a
     * DELETE of its SQL subset (fake_db_exec) with the schema's cascades. */
    void (*exec)(struct fixture *f, const char *sql);
};

struct fixture {
    const struct backend *backend;
    char url[200];
    char dir[64];         /* SQLite: the temp directory of the database file */
    struct fake_db *fake; /* the fake store's database */
    struct store *st;
};

/* The SQL backends open their database by its URL. */
static gh_status url_open(struct fixture *f, struct store **out)
{
    return store_open(f->url, out);
}

/* ---- SQLite ---- */

static int sqlite_create(struct fixture *f)
{
    strcpy(f->dir, "/tmp/gh-store-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->url, sizeof f->url, "sqlite:%s/gatehouse.db", f->dir);
    return 0;
}

static void sqlite_destroy(struct fixture *f)
{
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s%s", f->url + strlen("sqlite:"), suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

static void sqlite_query(struct fixture *f, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(f->url + strlen("sqlite:"), &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    const unsigned char *v = sqlite3_column_text(s, 0);
    snprintf(out, cap, "%s", v ? (const char *)v : "(null)");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void sqlite_exec(struct fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open_v2(f->url + strlen("sqlite:"), &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

/* ---- PostgreSQL ---- */

static int pg_databases;

static const char *pg_database(const struct fixture *f)
{
    return strrchr(f->url, '/') + 1;
}

static int pg_create(struct fixture *f)
{
    char name[32], sql[64];
    snprintf(name, sizeof name, "t%d", ++pg_databases);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    pg_cluster_url(f->url, sizeof f->url, name);
    return pg_cluster_exec("postgres", sql, NULL, 0);
}

static void pg_destroy(struct fixture *f)
{
    char sql[64];
    snprintf(sql, sizeof sql, "DROP DATABASE %s", pg_database(f));
    (void)pg_cluster_exec("postgres", sql, NULL, 0);
}

static void pg_query(struct fixture *f, const char *sql, char *out, size_t cap)
{
    char wrapped[512];
    /* NULL comes back as "" from libpq: spell it as SQLite's side does. */
    snprintf(wrapped, sizeof wrapped, "SELECT coalesce((%s)::text, '(null)')", sql);
    if (pg_cluster_exec(pg_database(f), wrapped, out, cap))
        fail_msg("query failed: %s", sql);
}

static void pg_exec(struct fixture *f, const char *sql)
{
    if (pg_cluster_exec(pg_database(f), sql, NULL, 0))
        fail_msg("statement failed: %s", sql);
}

/* ---- the fake store ---- */

/* A fake database has no URL: its stores are opened on the struct fake_db. */
static int fake_create(struct fixture *f)
{
    strcpy(f->url, "fake:");
    return fake_db_new(&f->fake) == GH_OK ? 0 : -1;
}

static void fake_destroy(struct fixture *f)
{
    fake_db_free(&f->fake);
}

static gh_status fake_open(struct fixture *f, struct store **out)
{
    return fake_store_open(f->fake, out);
}

static void fake_query(struct fixture *f, const char *sql, char *out, size_t cap)
{
    if (fake_db_query(f->fake, sql, out, cap) != GH_OK)
        fail_msg("query failed: %s", sql);
}

static void fake_exec(struct fixture *f, const char *sql)
{
    if (fake_db_exec(f->fake, sql) != GH_OK)
        fail_msg("statement failed: %s", sql);
}

static const struct backend backends[] = {
    {"sqlite", sqlite_create, sqlite_destroy, url_open, sqlite_query, sqlite_exec},
    {"postgres", pg_create, pg_destroy, url_open, pg_query, pg_exec},
    {"fake", fake_create, fake_destroy, fake_open, fake_query, fake_exec},
};
#define BACKENDS (sizeof backends / sizeof backends[0])

/* ---- fixture ---- */

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

/* *state is the backend on entry (the test's initial state) and the fixture on exit. */
static int setup_store(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->backend = *state;
    if (f->backend->create(f)) {
        free(f);
        return -1;
    }
    if (f->backend->open(f, &f->st) != GH_OK || f->st->migrate(f->st) != GH_OK) {
        if (f->st)
            f->st->close(f->st);
        f->backend->destroy(f);
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
    f->backend->destroy(f);
    free(f);
    return 0;
}

static int64_t query_int(struct fixture *f, const char *sql)
{
    char v[64];
    f->backend->query(f, sql, v, sizeof v);
    return strtoll(v, NULL, 10);
}

static void query_text(struct fixture *f, const char *sql, char *out, size_t cap)
{
    f->backend->query(f, sql, out, cap);
}

/* ---- records ---- */

#define HASH_A     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH_C     "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define NO_SUCH_ID "00000000-0000-4000-8000-000000000000"

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
    s->created_at = created;
    s->expires_at = expires;
    s->last_seen_at = created;
    strcpy(s->ip, "192.0.2.7");
    strcpy(s->user_agent, "unit-test/1.0");
}

static void insert_session(struct fixture *f, const char *hash, const char *user_id,
                           int64_t created, int64_t expires)
{
    struct session s;
    make_session(&s, hash, user_id, created, expires);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
}

static void make_mail(struct mail *m, const char *to, const char *subject)
{
    memset(m, 0, sizeof *m);
    strcpy(m->recipient, to);
    m->subject = (char *)subject;
    m->text_body = (char *)"Hello\nworld";
    m->html_body = (char *)"<p>Hello</p>";
}

static int64_t pending(struct fixture *f)
{
    int64_t n = -1;
    assert_int_equal(f->st->outbox_pending(f->st, &n), GH_OK);
    return n;
}

/* Threads that race on one call: each connects first, then all start together. */
#define RACERS 8

struct race {
    struct store *st;
    pthread_barrier_t *start;
    gh_status status;
    int64_t count;
    const char *token_hash;
    char candidate[16];
    char got[16];
};

static void race_run(struct store *a, struct store *b, void *(*fn)(void *), struct race races[])
{
    pthread_barrier_t start;
    pthread_t threads[RACERS];
    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        races[i].st = i % 2 ? b : a;
        races[i].start = &start;
        pthread_create(&threads[i], NULL, fn, &races[i]);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
}

/* Connects this thread, then waits for the others. */
static void race_ready(struct race *r)
{
    (void)r->st->ping(r->st);
    pthread_barrier_wait(r->start);
}

/* ==== the store as a whole ==== */

/* The inventory: a backend that forgets a member fails here, not at the first request. */
static void test_store_every_member_is_set(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->st;
    void (*const members[])(void) = {
        (void (*)(void))s->migrate,
        (void (*)(void))s->ping,
        (void (*)(void))s->ready_write,
        (void (*)(void))s->begin,
        (void (*)(void))s->commit,
        (void (*)(void))s->rollback,
        (void (*)(void))s->close,
        (void (*)(void))s->user_insert,
        (void (*)(void))s->user_by_email,
        (void (*)(void))s->user_by_id,
        (void (*)(void))s->user_activate,
        (void (*)(void))s->user_set_password,
        (void (*)(void))s->user_replace_password_hash,
        (void (*)(void))s->user_update_profile,
        (void (*)(void))s->session_insert,
        (void (*)(void))s->session_lookup,
        (void (*)(void))s->session_delete,
        (void (*)(void))s->session_touch,
        (void (*)(void))s->session_list,
        (void (*)(void))s->session_delete_all,
        (void (*)(void))s->onetime_insert,
        (void (*)(void))s->onetime_consume,
        (void (*)(void))s->onetime_peek,
        (void (*)(void))s->onetime_revoke_all,
        (void (*)(void))s->outbox_insert,
        (void (*)(void))s->outbox_request,
        (void (*)(void))s->outbox_claim,
        (void (*)(void))s->outbox_resolve,
        (void (*)(void))s->outbox_discard,
        (void (*)(void))s->outbox_mark_sent,
        (void (*)(void))s->outbox_schedule_retry,
        (void (*)(void))s->outbox_pending,
        (void (*)(void))s->audit_insert,
        (void (*)(void))s->rate_hit,
        (void (*)(void))s->rate_peek,
        (void (*)(void))s->rate_refund,
        (void (*)(void))s->rate_clear,
        (void (*)(void))s->secret_get_or_create,
        (void (*)(void))s->signing_key_insert,
        (void (*)(void))s->signing_key_list,
        (void (*)(void))s->signing_key_retire_older,
        (void (*)(void))s->refresh_insert,
        (void (*)(void))s->refresh_rotate,
        (void (*)(void))s->refresh_get,
        (void (*)(void))s->refresh_revoke_family,
        (void (*)(void))s->refresh_revoke_user,
        (void (*)(void))s->refresh_revoke_session,
        (void (*)(void))s->client_insert,
        (void (*)(void))s->client_get,
        (void (*)(void))s->identity_insert,
        (void (*)(void))s->identity_get,
        (void (*)(void))s->identity_list,
        (void (*)(void))s->identity_delete,
        (void (*)(void))s->state_insert,
        (void (*)(void))s->state_consume,
        (void (*)(void))s->user_count_legacy_hashes,
        (void (*)(void))s->user_legacy_hashes,
        (void (*)(void))s->import_map_get,
        (void (*)(void))s->import_map_insert,
        (void (*)(void))s->purge_expired,
    };
    /* Every member but impl and the optional release_memory is listed: a member added to
     * struct store without a line here changes the size. */
    assert_int_equal(sizeof members / sizeof members[0] + 2, sizeof *s / sizeof(void *));
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (!members[i])
            fail_msg("member %zu of struct store is not set", i);
    assert_non_null(s->impl);
    /* Where there is one, giving back the page cache leaves the store working. */
    struct user u;
    assert_int_equal(s->user_by_id(s, NO_SUCH_ID, &u), GH_NOT_FOUND);
    if (s->release_memory)
        s->release_memory(s);
    assert_int_equal(s->user_by_id(s, NO_SUCH_ID, &u), GH_NOT_FOUND);
}

static void test_store_migrate_twice_is_idempotent(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM schema_migrations"), MIGRATIONS);
    assert_int_equal(query_int(f, "SELECT count(DISTINCT version) FROM schema_migrations"),
                     MIGRATIONS);
    assert_int_equal(query_int(f, "SELECT max(version) FROM schema_migrations"), MIGRATIONS);
    assert_true(query_int(f, "SELECT min(applied_at) FROM schema_migrations") > 1600000000);
}

static void test_store_migration_creates_tables(void **state)
{
    struct fixture *f = *state;
    const char *tables[] = {
        "users",          "user_profiles", "sessions",         "one_time_tokens", "mail_outbox",
        "audit_log",      "rate_limits",   "server_secrets",   "readiness",       "signing_keys",
        "refresh_tokens", "oauth_clients", "oauth_identities", "oauth_states"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[80];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        assert_true(query_int(f, sql) >= 0);
    }
}

/* close() and opening the database again keep the data and the recorded migrations. */
static void test_store_close_and_reopen_keeps_data(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    insert_user(f, &u, "keep@example.com");
    f->st->close(f->st);
    f->st = NULL;
    assert_int_equal(f->backend->open(f, &f->st), GH_OK);
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM schema_migrations"), MIGRATIONS);
    assert_int_equal(f->st->user_by_email(f->st, "keep@example.com", &got), GH_OK);
    assert_string_equal(got.id, u.id);
}

/* A second store on the database (by its URL for the SQL backends) answers; an unknown scheme
 * is refused. */
static void test_store_open_by_url_and_unknown_scheme(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    assert_int_equal(f->backend->open(f, &st), GH_OK);
    assert_int_equal(st->ping(st), GH_OK);
    st->close(st);
    assert_int_equal(store_open("mysql://localhost/gatehouse", &st), GH_INTERNAL);
}

static void test_store_ping(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->st->ping(f->st), GH_OK);
}

static gh_status ready_write_in_tx(struct store *st, void *ctx)
{
    return st->ready_write(st, *(const int64_t *)ctx);
}

static void test_store_ready_write_commits_the_time(void **state)
{
    struct fixture *f = *state;
    int64_t now = 1700000123;
    assert_int_equal(query_int(f, "SELECT checked_at FROM readiness WHERE id = 1"), 0);
    assert_int_equal(store_transaction(f->st, ready_write_in_tx, &now), GH_OK);
    assert_int_equal(query_int(f, "SELECT checked_at FROM readiness WHERE id = 1"), now);
    /* A second probe in the same second still changes the row. */
    assert_int_equal(store_transaction(f->st, ready_write_in_tx, &now), GH_OK);
    assert_int_equal(query_int(f, "SELECT probes FROM readiness WHERE id = 1"), 2);
    assert_int_equal(query_int(f, "SELECT count(*) FROM readiness"), 1);
}

/* ==== transactions ==== */

static gh_status insert_then_fail(struct store *st, void *ctx)
{
    gh_status s = st->user_insert(st, ctx);
    return s == GH_OK ? GH_ERR_EMAIL_TAKEN : s;
}

static gh_status insert_ok(struct store *st, void *ctx)
{
    return st->user_insert(st, ctx);
}

static void test_store_transaction_rolls_back_on_failure(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    make_user(&u, "ada@example.com");
    assert_int_equal(store_transaction(f->st, insert_then_fail, &u), GH_ERR_EMAIL_TAKEN);
    assert_int_equal(f->st->user_by_email(f->st, "ada@example.com", &got), GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles"), 0);
    assert_int_equal(store_transaction(f->st, insert_ok, &u), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
}

static void test_store_begin_commit_rollback(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    f->st->rollback(f->st); /* outside a transaction: nothing to do */
    make_user(&u, "ada@example.com");
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 0); /* not visible yet */
    f->st->rollback(f->st);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(f->st->commit(f->st), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
}

/* A taken address in a transaction: GH_CONFLICT, and the transaction goes on (registration
 * records a mail request in it). */
static gh_status conflict_then_request(struct store *st, void *arg)
{
    struct user *dup = arg;
    gh_status status = st->user_insert(st, dup);
    if (status != GH_CONFLICT)
        return GH_INTERNAL;
    return st->outbox_request(st, dup->email, MAIL_REQUEST_REGISTERED, 1000);
}

static void test_store_conflict_keeps_transaction_usable(void **state)
{
    struct fixture *f = *state;
    struct user u, dup;
    insert_user(f, &u, "ada@example.com");
    make_user(&dup, "ADA@example.com");
    assert_int_equal(store_transaction(f->st, conflict_then_request, &dup), GH_OK);
    assert_int_equal(pending(f), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
}

/* ==== users ==== */

static void test_store_user_insert_and_lookup_by_email(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    make_user(&u, "ada@example.com");
    strcpy(u.profile.github_link, "https://github.com/ada");
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(f->st->user_by_email(f->st, "ada@example.com", &got), GH_OK);
    assert_string_equal(got.id, u.id);
    assert_string_equal(got.email, "ada@example.com");
    assert_string_equal(got.password_hash, u.password_hash);
    assert_string_equal(got.first_name, "Ada");
    assert_string_equal(got.last_name, "Lovelace");
    assert_false(got.is_active);
    assert_false(got.is_staff);
    assert_false(got.is_superuser);
    assert_string_equal(got.thumbnail, "");
    assert_int_equal(got.date_joined, 1700000000);
    assert_string_equal(got.profile.id, u.profile.id);
    assert_string_equal(got.profile.phone_number, "");
    assert_string_equal(got.profile.birth_date, "");
    assert_string_equal(got.profile.github_link, "https://github.com/ada");
    /* Empty strings are stored as SQL NULL. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM users WHERE thumbnail IS NULL"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles WHERE phone_number IS NULL"),
                     1);
}

static void test_store_user_flags_round_trip(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    make_user(&u, "root@example.com");
    u.is_active = u.is_staff = u.is_superuser = true;
    strcpy(u.thumbnail, "avatars/root.png");
    strcpy(u.profile.phone_number, "+15550100");
    strcpy(u.profile.birth_date, "1815-12-10");
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_true(got.is_active);
    assert_true(got.is_staff);
    assert_true(got.is_superuser);
    assert_string_equal(got.thumbnail, "avatars/root.png");
    assert_string_equal(got.profile.phone_number, "+15550100");
    assert_string_equal(got.profile.birth_date, "1815-12-10");
}

static void test_store_user_by_email_is_case_insensitive(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    insert_user(f, &u, "ada@example.com");
    assert_int_equal(f->st->user_by_email(f->st, "ADA@Example.COM", &got), GH_OK);
    assert_string_equal(got.id, u.id);
}

/* Unknown, malformed and upper-case ids are not found, alike on every backend. */
static void test_store_user_unknown_or_malformed_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    char upper[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    for (int i = 0; i <= UUID_LEN; i++)
        upper[i] = (char)(u.id[i] >= 'a' && u.id[i] <= 'f' ? u.id[i] - 32 : u.id[i]);
    assert_int_equal(f->st->user_by_email(f->st, "bob@example.com", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->user_by_id(f->st, NO_SUCH_ID, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->user_by_id(f->st, "garbage", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->user_by_id(f->st, upper, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->user_activate(f->st, "garbage"), GH_NOT_FOUND);
    assert_int_equal(f->st->user_set_password(f->st, upper, "x"), GH_NOT_FOUND);
}

static void test_store_duplicate_email_any_case_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u, dup;
    insert_user(f, &u, "ada@example.com");
    make_user(&dup, "ada@example.com");
    assert_int_equal(f->st->user_insert(f->st, &dup), GH_CONFLICT);
    make_user(&dup, "Ada@Example.COM");
    assert_int_equal(f->st->user_insert(f->st, &dup), GH_CONFLICT);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles"), 1);
}

static void test_store_user_by_id_and_activate(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    insert_user(f, &u, "ada@example.com");
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.email, "ada@example.com");
    assert_false(got.is_active);
    assert_int_equal(f->st->user_activate(f->st, u.id), GH_OK);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_true(got.is_active);
    assert_int_equal(f->st->user_activate(f->st, NO_SUCH_ID), GH_NOT_FOUND);
}

static void test_store_user_update_profile(void **state)
{
    struct fixture *f = *state;
    struct user u, other, got;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    strcpy(u.first_name, "Grace");
    strcpy(u.last_name, "Hopper");
    strcpy(u.thumbnail, "avatars/x.png");
    strcpy(u.profile.phone_number, "+15550100");
    strcpy(u.profile.birth_date, "1906-12-09");
    strcpy(u.profile.github_link, "https://github.com/grace");
    strcpy(u.email, "changed@example.com"); /* not written: the email is not a profile field */
    assert_int_equal(f->st->user_update_profile(f->st, &u), GH_OK);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.email, "ada@example.com");
    assert_string_equal(got.first_name, "Grace");
    assert_string_equal(got.last_name, "Hopper");
    assert_string_equal(got.thumbnail, "avatars/x.png");
    assert_string_equal(got.profile.phone_number, "+15550100");
    assert_string_equal(got.profile.birth_date, "1906-12-09");
    assert_string_equal(got.profile.github_link, "https://github.com/grace");
    /* Emptied fields go back to NULL; the other user is untouched. */
    u.thumbnail[0] = u.profile.phone_number[0] = u.profile.birth_date[0] = '\0';
    assert_int_equal(f->st->user_update_profile(f->st, &u), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users WHERE thumbnail IS NULL"), 2);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles WHERE birth_date IS NULL"),
                     2);
    assert_int_equal(f->st->user_by_id(f->st, other.id, &got), GH_OK);
    assert_string_equal(got.first_name, "Ada");
    strcpy(u.id, NO_SUCH_ID);
    assert_int_equal(f->st->user_update_profile(f->st, &u), GH_NOT_FOUND);
}

static void test_store_user_set_password(void **state)
{
    struct fixture *f = *state;
    struct user u, other, got;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    assert_int_equal(f->st->user_set_password(f->st, u.id, "$argon2id$new"), GH_OK);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.password_hash, "$argon2id$new");
    assert_int_equal(f->st->user_by_id(f->st, other.id, &got), GH_OK);
    assert_string_equal(got.password_hash, other.password_hash);
    assert_int_equal(f->st->user_set_password(f->st, NO_SUCH_ID, "x"), GH_NOT_FOUND);
}

/* The upgrade of a hash after a login: replaced only while the stored hash is the verified one,
 * so a password changed meanwhile is never overwritten. */
static void test_store_user_replace_password_hash_only_while_unchanged(void **state)
{
    struct fixture *f = *state;
    struct user u, other, got;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    assert_int_equal(f->st->user_replace_password_hash(f->st, u.id, u.password_hash, "$up1"),
                     GH_OK);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.password_hash, "$up1");
    /* changed meanwhile: the newer hash stays */
    assert_int_equal(f->st->user_set_password(f->st, u.id, "$changed"), GH_OK);
    assert_int_equal(f->st->user_replace_password_hash(f->st, u.id, "$up1", "$up2"), GH_CONFLICT);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.password_hash, "$changed");
    /* another user's row is not touched, an unknown or malformed id is a conflict */
    assert_int_equal(f->st->user_by_id(f->st, other.id, &got), GH_OK);
    assert_string_equal(got.password_hash, other.password_hash);
    assert_int_equal(f->st->user_replace_password_hash(f->st, NO_SUCH_ID, "$changed", "$x"),
                     GH_CONFLICT);
    assert_int_equal(f->st->user_replace_password_hash(f->st, "not-a-uuid", "$changed", "$x"),
                     GH_CONFLICT);
}

/* ==== imports ==== */

#define NIL_UUID "00000000-0000-0000-0000-000000000000"
#define CURRENT  "$argon2id$v=19$m=8192,t=1,p=1$"

/* Hashes not made with the current parameters: neither empty nor unusable ('!'). */
static void test_store_legacy_hashes_counted_and_listed_by_id(void **state)
{
    struct fixture *f = *state;
    struct user u[5];
    const char *hashes[] = {CURRENT "c2FsdA$aGFzaA", "pbkdf2_sha256$600000$salt$aGFzaA==", "",
                            "!unusable", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"};
    char email[32];
    for (int i = 0; i < 5; i++) {
        snprintf(email, sizeof email, "u%d@example.com", i);
        make_user(&u[i], email);
        strcpy(u[i].password_hash, hashes[i]);
        assert_int_equal(f->st->user_insert(f->st, &u[i]), GH_OK);
    }
    int64_t count = -1;
    assert_int_equal(f->st->user_count_legacy_hashes(f->st, CURRENT, &count), GH_OK);
    assert_int_equal(count, 2);
    struct user_hash got[4];
    size_t n = 99;
    assert_int_equal(f->st->user_legacy_hashes(f->st, CURRENT, NIL_UUID, got, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    const struct user *lo = strcmp(u[1].id, u[4].id) < 0 ? &u[1] : &u[4];
    const struct user *hi = lo == &u[1] ? &u[4] : &u[1];
    assert_string_equal(got[0].user_id, lo->id);
    assert_string_equal(got[0].hash, lo->password_hash);
    assert_string_equal(got[1].user_id, hi->id);
    /* paged: one at a time, then none */
    assert_int_equal(f->st->user_legacy_hashes(f->st, CURRENT, NIL_UUID, got, 1, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].user_id, lo->id);
    assert_int_equal(f->st->user_legacy_hashes(f->st, CURRENT, lo->id, got, 1, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].user_id, hi->id);
    assert_int_equal(f->st->user_legacy_hashes(f->st, CURRENT, hi->id, got, 4, &n), GH_OK);
    assert_int_equal(n, 0);
    /* another prefix: everything with a usable password but its own */
    assert_int_equal(f->st->user_count_legacy_hashes(f->st, "pbkdf2_sha256$", &count), GH_OK);
    assert_int_equal(count, 2);
}

static void test_store_import_map_get_insert_and_cascade(void **state)
{
    struct fixture *f = *state;
    struct user u;
    char id[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    assert_int_equal(f->st->import_map_get(f->st, "django:db", "42", id), GH_NOT_FOUND);
    assert_int_equal(f->st->import_map_insert(f->st, "django:db", "42", u.id, 1700000000), GH_OK);
    assert_int_equal(f->st->import_map_get(f->st, "django:db", "42", id), GH_OK);
    assert_string_equal(id, u.id);
    assert_int_equal(f->st->import_map_get(f->st, "django:other", "42", id), GH_NOT_FOUND);
    assert_int_equal(f->st->import_map_insert(f->st, "django:db", "42", u.id, 1700000001),
                     GH_CONFLICT);
    assert_int_equal(f->st->import_map_insert(f->st, "django:db", "43", NO_SUCH_ID, 1700000001),
                     GH_INTERNAL);
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM users WHERE id = '%s'", u.id);
    f->backend->exec(f, sql);
    assert_int_equal(f->st->import_map_get(f->st, "django:db", "42", id), GH_NOT_FOUND);
}

/* ==== one-time tokens ==== */

static void test_store_onetime_consume_once(void **state)
{
    struct fixture *f = *state;
    struct user u;
    char uid[UUID_LEN + 1] = "";
    insert_user(f, &u, "ada@example.com");
    insert_token(f, HASH_A, u.id, PURPOSE_CONFIRM, 1000, 2800);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid), GH_OK);
    assert_string_equal(uid, u.id);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1501, uid),
                     GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT used_at FROM one_time_tokens"), 1500);
}

static void test_store_onetime_expired_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u;
    char uid[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    insert_token(f, HASH_A, u.id, PURPOSE_CONFIRM, 1000, 2800);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 2800, uid),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 9999, uid),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 2799, uid), GH_OK);
}

static void test_store_onetime_wrong_purpose_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u;
    char uid[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    insert_token(f, HASH_A, u.id, PURPOSE_CONFIRM, 1000, 2800);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_RESET, 1500, uid), GH_NOT_FOUND);
    /* The failed attempt did not use the token up. */
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid), GH_OK);
}

static void test_store_onetime_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    char uid[UUID_LEN + 1];
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_peek(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid), GH_NOT_FOUND);
}

/* A peek finds what a consume would, and leaves the token usable. */
static void test_store_onetime_peek_does_not_consume(void **state)
{
    struct fixture *f = *state;
    struct user u;
    char uid[UUID_LEN + 1] = "";
    insert_user(f, &u, "ada@example.com");
    insert_token(f, HASH_A, u.id, PURPOSE_PASSWORD_CHANGE, 1000, 2800);
    assert_int_equal(f->st->onetime_peek(f->st, HASH_A, PURPOSE_PASSWORD_CHANGE, 1500, uid), GH_OK);
    assert_string_equal(uid, u.id);
    assert_int_equal(f->st->onetime_peek(f->st, HASH_A, PURPOSE_PASSWORD_CHANGE, 1600, uid), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM one_time_tokens WHERE used_at IS NULL"), 1);
    assert_int_equal(f->st->onetime_peek(f->st, HASH_A, PURPOSE_RESET, 1500, uid), GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_peek(f->st, HASH_A, PURPOSE_PASSWORD_CHANGE, 2800, uid),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_PASSWORD_CHANGE, 1700, uid),
                     GH_OK);
    assert_int_equal(f->st->onetime_peek(f->st, HASH_A, PURPOSE_PASSWORD_CHANGE, 1800, uid),
                     GH_NOT_FOUND);
}

static void test_store_onetime_revoke_all_of_user_and_purpose(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    char uid[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_token(f, HASH_A, u.id, PURPOSE_CONFIRM, 1000, 2800);
    insert_token(f, HASH_B, u.id, PURPOSE_RESET, 1000, 2800);
    insert_token(f, HASH_C, other.id, PURPOSE_CONFIRM, 1000, 2800);
    assert_int_equal(f->st->onetime_revoke_all(f->st, u.id, PURPOSE_CONFIRM, 1200), GH_OK);
    assert_int_equal(f->st->onetime_revoke_all(f->st, "garbage", PURPOSE_CONFIRM, 1200), GH_OK);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_B, PURPOSE_RESET, 1500, uid), GH_OK);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_C, PURPOSE_CONFIRM, 1500, uid), GH_OK);
    assert_string_equal(uid, other.id);
}

static void test_store_onetime_duplicate_hash_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u;
    insert_user(f, &u, "ada@example.com");
    insert_token(f, HASH_A, u.id, PURPOSE_CONFIRM, 1000, 2800);
    struct onetime t = {.purpose = PURPOSE_CONFIRM, .created_at = 1, .expires_at = 2};
    strcpy(t.token_hash, HASH_A);
    strcpy(t.user_id, u.id);
    assert_int_equal(f->st->onetime_insert(f->st, &t), GH_CONFLICT);
}

static void *consume_thread(void *arg)
{
    struct race *r = arg;
    char uid[UUID_LEN + 1];
    race_ready(r);
    r->status = r->st->onetime_consume(r->st, r->token_hash, PURPOSE_CONFIRM, 1500, uid);
    return NULL;
}

/* Of concurrent consumes of one token, from two instances, exactly one wins. */
static void test_store_onetime_concurrent_consume_has_one_winner(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL;
    struct user u;
    assert_int_equal(f->backend->open(f, &other), GH_OK);
    insert_user(f, &u, "ada@example.com");
    for (int round = 0; round < 3; round++) {
        struct race races[RACERS] = {0};
        const char *hash = round == 0 ? HASH_A : round == 1 ? HASH_B : HASH_C;
        insert_token(f, hash, u.id, PURPOSE_CONFIRM, 1000, 2800);
        for (int i = 0; i < RACERS; i++)
            races[i].token_hash = hash;
        race_run(f->st, other, consume_thread, races);
        int winners = 0;
        for (int i = 0; i < RACERS; i++) {
            if (races[i].status == GH_OK)
                winners++;
            else
                assert_int_equal(races[i].status, GH_NOT_FOUND);
        }
        assert_int_equal(winners, 1);
    }
    other->close(other);
}

/* ==== sessions ==== */

static void test_store_session_insert_and_lookup(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session s, gs;
    insert_user(f, &u, "ada@example.com");
    make_session(&s, HASH_A, u.id, 1000, 2000);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
    assert_int_equal(f->st->session_lookup(f->st, HASH_A, 1500, &gs, &gu), GH_OK);
    assert_string_equal(gs.token_hash, HASH_A);
    assert_string_equal(gs.id, s.id);
    assert_string_equal(gs.user_id, u.id);
    assert_int_equal(gs.created_at, 1000);
    assert_int_equal(gs.expires_at, 2000);
    assert_int_equal(gs.last_seen_at, 1000);
    assert_string_equal(gs.ip, "192.0.2.7");
    assert_string_equal(gs.user_agent, "unit-test/1.0");
    /* The user comes with it, profile and all. */
    assert_string_equal(gu.id, u.id);
    assert_string_equal(gu.email, "ada@example.com");
    assert_string_equal(gu.password_hash, u.password_hash);
    assert_string_equal(gu.first_name, "Ada");
    assert_int_equal(gu.date_joined, 1700000000);
    assert_string_equal(gu.profile.id, u.profile.id);
}

static void test_store_session_expired_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session gs;
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 1000, 2000);
    assert_int_equal(f->st->session_lookup(f->st, HASH_A, 1999, &gs, &gu), GH_OK);
    assert_int_equal(f->st->session_lookup(f->st, HASH_A, 2000, &gs, &gu), GH_NOT_FOUND);
    assert_int_equal(f->st->session_lookup(f->st, HASH_A, 3000, &gs, &gu), GH_NOT_FOUND);
}

static void test_store_session_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    struct user gu;
    struct session gs;
    assert_int_equal(f->st->session_lookup(f->st, HASH_B, 1500, &gs, &gu), GH_NOT_FOUND);
}

static void test_store_session_delete(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session gs;
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 1000, 2000);
    insert_session(f, HASH_B, u.id, 1000, 2000);
    assert_int_equal(f->st->session_delete(f->st, HASH_A), GH_OK);
    assert_int_equal(f->st->session_lookup(f->st, HASH_A, 1500, &gs, &gu), GH_NOT_FOUND);
    assert_int_equal(f->st->session_delete(f->st, HASH_A), GH_NOT_FOUND);
    /* The other session of the same user lives on. */
    assert_int_equal(f->st->session_lookup(f->st, HASH_B, 1500, &gs, &gu), GH_OK);
}

static void test_store_session_for_unknown_user_refused(void **state)
{
    struct fixture *f = *state;
    struct session s;
    make_session(&s, HASH_A, NO_SUCH_ID, 1000, 2000);
    assert_int_not_equal(f->st->session_insert(f->st, &s), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 0);
}

static void test_store_session_duplicate_hash_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct session s;
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 1000, 2000);
    make_session(&s, HASH_A, u.id, 1100, 2100);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_CONFLICT);
}

static void test_store_session_touch_sets_last_seen(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session gs;
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 1000, 2000);
    insert_session(f, HASH_B, u.id, 1000, 2000);
    assert_int_equal(f->st->session_touch(f->st, HASH_A, 1600), GH_OK);
    assert_int_equal(f->st->session_lookup(f->st, HASH_A, 1700, &gs, &gu), GH_OK);
    assert_int_equal(gs.last_seen_at, 1600);
    assert_int_equal(gs.expires_at, 2000); /* touching does not extend the session */
    assert_int_equal(f->st->session_lookup(f->st, HASH_B, 1700, &gs, &gu), GH_OK);
    assert_int_equal(gs.last_seen_at, 1000);
    /* A session that is gone is not brought back. */
    assert_int_equal(f->st->session_touch(f->st, HASH_C, 1600), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 2);
}

static void test_store_session_list_newest_first_live_only(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct session list[4];
    size_t n = 99;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_session(f, HASH_A, u.id, 1000, 2000);
    insert_session(f, HASH_B, u.id, 1100, 2100);
    insert_session(f, HASH_C, u.id, 900, 1400); /* expired at 1500 */
    char hash[TOKEN_HASH_LEN + 1];
    memset(hash, 'd', TOKEN_HASH_LEN);
    hash[TOKEN_HASH_LEN] = '\0';
    insert_session(f, hash, other.id, 1200, 2200);
    assert_int_equal(f->st->session_list(f->st, u.id, 1500, list, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].token_hash, HASH_B); /* newest first */
    assert_string_equal(list[1].token_hash, HASH_A);
    assert_string_equal(list[1].user_id, u.id);
    assert_string_equal(list[1].ip, "192.0.2.7");
    /* At most cap: the newest. */
    assert_int_equal(f->st->session_list(f->st, u.id, 1500, list, 1, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].token_hash, HASH_B);
    assert_int_equal(f->st->session_list(f->st, u.id, 1500, list, 0, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(f->st->session_list(f->st, NO_SUCH_ID, 1500, list, 4, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(f->st->session_list(f->st, "garbage", 1500, list, 4, &n), GH_OK);
    assert_int_equal(n, 0);
}

static void test_store_session_delete_all_keeps_one_or_none(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_session(f, HASH_A, u.id, 1000, 2000);
    insert_session(f, HASH_B, u.id, 1000, 2000);
    insert_session(f, HASH_C, other.id, 1000, 2000);
    assert_int_equal(f->st->session_delete_all(f->st, u.id, HASH_B), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions WHERE token_hash = '" HASH_B "'"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 2);
    assert_int_equal(f->st->session_delete_all(f->st, u.id, NULL), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 1); /* the other user's */
    assert_int_equal(f->st->session_delete_all(f->st, u.id, NULL), GH_OK);
    assert_int_equal(f->st->session_delete_all(f->st, "garbage", NULL), GH_OK);
}

/* ==== outbox ==== */

static void test_store_outbox_insert_and_claim(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    make_mail(&m, "ada@example.com", "Welcome");
    assert_int_equal(pending(f), 0);
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    assert_int_equal(pending(f), 1);
    assert_int_equal(f->st->outbox_claim(f->st, 1000, 1060, &got), GH_OK);
    assert_true(got.id > 0);
    assert_string_equal(got.recipient, "ada@example.com");
    assert_string_equal(got.request, "");
    assert_string_equal(got.subject, "Welcome");
    assert_string_equal(got.text_body, "Hello\nworld");
    assert_string_equal(got.html_body, "<p>Hello</p>");
    assert_int_equal(got.attempts, 1);
    assert_int_equal(got.created_at, 1000); /* for the Message-ID and the file name */
    mail_clear(&got);
    assert_null(got.subject);
}

static void test_store_outbox_not_due_before_insert_time(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    make_mail(&m, "ada@example.com", "Welcome");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 999, 1060, &got), GH_NOT_FOUND);
}

static void test_store_outbox_lease_hides_from_second_claim(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    make_mail(&m, "ada@example.com", "Welcome");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 1000, 1060, &got), GH_OK);
    int64_t id = got.id;
    mail_clear(&got);
    assert_int_equal(f->st->outbox_claim(f->st, 1000, 1060, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->outbox_claim(f->st, 1059, 1119, &got), GH_NOT_FOUND);
    /* Once the lease has passed (a worker died mid-send), the mail is claimable again. */
    assert_int_equal(f->st->outbox_claim(f->st, 1060, 1120, &got), GH_OK);
    assert_int_equal(got.id, id);
    assert_int_equal(got.attempts, 2);
    mail_clear(&got);
    assert_int_equal(pending(f), 1);
}

static void test_store_outbox_mark_sent_empties_bodies(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    char subject[32];
    make_mail(&m, "ada@example.com", "Welcome");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 1000, 1060, &got), GH_OK);
    assert_int_equal(f->st->outbox_mark_sent(f->st, got.id, 1001), GH_OK);
    mail_clear(&got);
    assert_int_equal(pending(f), 0);
    assert_int_equal(f->st->outbox_claim(f->st, 99999, 100060, &got), GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT sent_at FROM mail_outbox"), 1001);
    /* Sent mail keeps who and what, not the bodies: they hold live links. */
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM mail_outbox WHERE text_body = '' AND html_body = ''"),
        1);
    query_text(f, "SELECT subject FROM mail_outbox", subject, sizeof subject);
    assert_string_equal(subject, "Welcome");
    assert_int_equal(f->st->outbox_mark_sent(f->st, 424242, 1001), GH_NOT_FOUND);
}

static void test_store_outbox_schedule_retry(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    char err[64];
    make_mail(&m, "ada@example.com", "Welcome");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 1000, 1060, &got), GH_OK);
    int64_t id = got.id;
    mail_clear(&got);
    assert_int_equal(f->st->outbox_schedule_retry(f->st, id, 1005, "connection refused"), GH_OK);
    query_text(f, "SELECT last_error FROM mail_outbox", err, sizeof err);
    assert_string_equal(err, "connection refused");
    assert_int_equal(f->st->outbox_claim(f->st, 1004, 1064, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->outbox_claim(f->st, 1005, 1065, &got), GH_OK);
    assert_int_equal(got.attempts, 2);
    assert_int_equal(f->st->outbox_mark_sent(f->st, got.id, 1006), GH_OK);
    mail_clear(&got);
    query_text(f, "SELECT last_error FROM mail_outbox", err, sizeof err);
    assert_string_equal(err, "(null)");
    assert_int_equal(f->st->outbox_schedule_retry(f->st, 424242, 1, "x"), GH_NOT_FOUND);
}

static void test_store_outbox_claims_oldest_first(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    make_mail(&m, "second@example.com", "Two");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1001), GH_OK);
    make_mail(&m, "first@example.com", "One");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 2000, 2060, &got), GH_OK);
    assert_string_equal(got.recipient, "first@example.com");
    mail_clear(&got);
    assert_int_equal(f->st->outbox_claim(f->st, 2000, 2060, &got), GH_OK);
    assert_string_equal(got.recipient, "second@example.com");
    mail_clear(&got);
    assert_int_equal(f->st->outbox_claim(f->st, 2000, 2060, &got), GH_NOT_FOUND);
}

/* A mail request: claimed like a mail, then turned into one or dropped, once. */
static void test_store_outbox_request_resolve_and_discard(void **state)
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
    assert_string_equal(got.text_body, "");
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
    /* The resolved row is an ordinary mail: claimed again after its lease, with its text. */
    assert_int_equal(f->st->outbox_claim(f->st, 1061, 1121, &got), GH_OK);
    assert_int_equal(got.id, resolved);
    assert_string_equal(got.request, "");
    assert_string_equal(got.subject, "Reset");
    assert_string_equal(got.text_body, "link");
    assert_string_equal(got.html_body, "<a>link</a>");
    mail_clear(&got);
}

#define OUTBOX_ROWS 100

static void *claim_thread(void *arg)
{
    struct race *r = arg;
    struct mail got;
    race_ready(r);
    while ((r->status = r->st->outbox_claim(r->st, 5000, 9000, &got)) == GH_OK) {
        r->count++;
        mail_clear(&got);
    }
    return NULL;
}

/* Workers of two instances claiming at once take every mail exactly once. */
static void test_store_outbox_concurrent_claims_take_each_mail_once(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL;
    struct race races[RACERS] = {0};
    assert_int_equal(f->backend->open(f, &other), GH_OK);
    for (int i = 0; i < OUTBOX_ROWS; i++) {
        struct mail m;
        make_mail(&m, "ada@example.com", "Welcome");
        assert_int_equal(f->st->outbox_insert(f->st, &m, 1000 + i % 7), GH_OK);
    }
    race_run(f->st, other, claim_thread, races);
    other->close(other);
    int64_t total = 0;
    for (int i = 0; i < RACERS; i++) {
        assert_int_equal(races[i].status, GH_NOT_FOUND);
        total += races[i].count;
    }
    assert_int_equal(total, OUTBOX_ROWS);
    assert_int_equal(query_int(f, "SELECT count(*) FROM mail_outbox WHERE attempts = 1"),
                     OUTBOX_ROWS);
}

/* ==== audit ==== */

static void test_store_audit_insert(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct client_info client = {.ip = "192.0.2.7", .user_agent = "unit-test/1.0"};
    char text[80];
    insert_user(f, &u, "ada@example.com");
    struct audit_event anon = {.event = "login_failure",
                               .email = "ada@example.com",
                               .client = &client,
                               .detail = "bad_password"};
    assert_int_equal(f->st->audit_insert(f->st, &anon, 1234), GH_OK);
    struct audit_event known = {.event = "login_success", .user_id = u.id, .client = &client};
    assert_int_equal(f->st->audit_insert(f->st, &known, 1235), GH_OK);
    struct audit_event bare = {.event = "password_reset_request", .email = "x@example.com"};
    assert_int_equal(f->st->audit_insert(f->st, &bare, 1236), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit_log"), 3);
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit_log WHERE user_id IS NULL"), 2);
    query_text(f,
               "SELECT event || ' ' || ip || ' ' || user_agent || ' ' || detail FROM audit_log "
               "WHERE created_at = 1234",
               text, sizeof text);
    assert_string_equal(text, "login_failure 192.0.2.7 unit-test/1.0 bad_password");
    query_text(f, "SELECT user_id FROM audit_log WHERE created_at = 1235", text, sizeof text);
    assert_string_equal(text, u.id);
    query_text(f, "SELECT ip FROM audit_log WHERE created_at = 1236", text, sizeof text);
    assert_string_equal(text, "(null)");
}

/* ==== rate limits ==== */

static void test_store_rate_hit_counts_in_fixed_windows(void **state)
{
    struct fixture *f = *state;
    int64_t count = 0, end = 0;
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(end, 1060);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1059, &count, &end), GH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(end, 1060);
    assert_int_equal(f->st->rate_hit(f->st, "other", 60, 1059, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1060, &count, &end), GH_OK);
    assert_int_equal(count, 1); /* a new window */
    assert_int_equal(end, 1120);
}

static void test_store_rate_peek_does_not_count(void **state)
{
    struct fixture *f = *state;
    int64_t count = -1, end = 0;
    assert_int_equal(f->st->rate_peek(f->st, "k", 1000, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    assert_int_equal(end, 1000); /* no live window: now */
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1000, &count, &end), GH_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->st->rate_peek(f->st, "k", 1059, &count, &end), GH_OK);
        assert_int_equal(count, 1);
        assert_int_equal(end, 1060);
    }
    assert_int_equal(f->st->rate_peek(f->st, "k", 1060, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    assert_int_equal(end, 1060);
}

static void test_store_rate_refund_never_below_zero(void **state)
{
    struct fixture *f = *state;
    int64_t count = 0, end = 0;
    assert_int_equal(f->st->rate_refund(f->st, "k", 1000), GH_OK); /* no window: nothing */
    assert_int_equal(f->st->rate_peek(f->st, "k", 1000, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(f->st->rate_refund(f->st, "k", 1010), GH_OK);
    assert_int_equal(f->st->rate_peek(f->st, "k", 1010, &count, &end), GH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(end, 1060); /* the window keeps its end */
    for (int i = 0; i < 5; i++)
        assert_int_equal(f->st->rate_refund(f->st, "k", 1010), GH_OK);
    assert_int_equal(f->st->rate_peek(f->st, "k", 1010, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1020, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    /* An ended window is left alone, and the next hit starts a new one. */
    assert_int_equal(f->st->rate_refund(f->st, "k", 1060), GH_OK);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1060, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(end, 1120);
}

static void test_store_rate_clear(void **state)
{
    struct fixture *f = *state;
    int64_t count = 0, end = 0;
    assert_int_equal(f->st->rate_clear(f->st, "k"), GH_OK); /* nothing to clear */
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(f->st->rate_hit(f->st, "other", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(f->st->rate_clear(f->st, "k"), GH_OK);
    assert_int_equal(f->st->rate_peek(f->st, "k", 1001, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    assert_int_equal(f->st->rate_peek(f->st, "other", 1001, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1001, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(end, 1061);
}

#define HITS_PER_RACER 25

static void *hit_thread(void *arg)
{
    struct race *r = arg;
    int64_t count, end;
    race_ready(r);
    r->status = GH_OK;
    for (int i = 0; i < HITS_PER_RACER && r->status == GH_OK; i++)
        r->status = r->st->rate_hit(r->st, "ip:192.0.2.7", 60, 1000, &count, &end);
    return NULL;
}

/* Concurrent hits from two instances are each counted once. */
static void test_store_rate_concurrent_hits_all_count(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL;
    struct race races[RACERS] = {0};
    int64_t count = 0, end = 0;
    assert_int_equal(f->backend->open(f, &other), GH_OK);
    race_run(f->st, other, hit_thread, races);
    other->close(other);
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(races[i].status, GH_OK);
    assert_int_equal(f->st->rate_peek(f->st, "ip:192.0.2.7", 1000, &count, &end), GH_OK);
    assert_int_equal(count, RACERS * HITS_PER_RACER);
}

/* ==== signing keys ==== */

static void insert_key(struct fixture *f, const char *kid, int64_t created, int64_t retires)
{
    struct signing_key_row k = {
        .created_at = created, .activates_at = created + 60, .retires_at = retires};
    strcpy(k.kid, kid);
    strcpy(k.alg, "ES256");
    snprintf(k.private_key, sizeof k.private_key, "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49-%s", kid);
    assert_int_equal(f->st->signing_key_insert(f->st, &k), GH_OK);
}

static void test_store_signing_key_list_newest_first_unretired_only(void **state)
{
    struct fixture *f = *state;
    struct signing_key_row list[4];
    size_t n = 99;
    assert_int_equal(f->st->signing_key_list(f->st, 1000, list, 4, &n), GH_OK);
    assert_int_equal(n, 0);
    insert_key(f, "k1", 1000, 0);
    insert_key(f, "k2", 2000, 2500); /* retired before now */
    insert_key(f, "k3", 3000, 3100); /* retires at now: gone */
    insert_key(f, "k4", 2500, 9000); /* retires later: still listed */
    insert_key(f, "k5", 4000, 0);
    assert_int_equal(f->st->signing_key_list(f->st, 3100, list, 4, &n), GH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].kid, "k5"); /* newest first */
    assert_string_equal(list[1].kid, "k4");
    assert_string_equal(list[2].kid, "k1");
    assert_string_equal(list[0].alg, "ES256");
    assert_string_equal(list[0].private_key, "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49-k5");
    assert_int_equal(list[0].created_at, 4000);
    assert_int_equal(list[0].activates_at, 4060);
    assert_int_equal(list[0].retires_at, 0);
    assert_int_equal(list[1].retires_at, 9000);
    /* A second earlier, k3 is still listed. */
    assert_int_equal(f->st->signing_key_list(f->st, 3099, list, 4, &n), GH_OK);
    assert_int_equal(n, 4);
    assert_string_equal(list[1].kid, "k3");
    /* At most cap: the newest. */
    assert_int_equal(f->st->signing_key_list(f->st, 3100, list, 2, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].kid, "k5");
    assert_string_equal(list[1].kid, "k4");
    assert_int_equal(f->st->signing_key_list(f->st, 3100, list, 0, &n), GH_OK);
    assert_int_equal(n, 0);
    /* A retires_at not yet known is stored as NULL. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM signing_keys WHERE retires_at IS NULL"), 2);
}

static void test_store_signing_key_duplicate_kid_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct signing_key_row k = {.created_at = 2000, .activates_at = 2000};
    insert_key(f, "k1", 1000, 0);
    strcpy(k.kid, "k1");
    strcpy(k.alg, "EdDSA");
    strcpy(k.private_key, "MC4CAQAwBQYDK2VwBCIEI");
    assert_int_equal(f->st->signing_key_insert(f->st, &k), GH_CONFLICT);
    assert_int_equal(query_int(f, "SELECT count(*) FROM signing_keys"), 1);
    assert_int_equal(query_int(f, "SELECT created_at FROM signing_keys"), 1000);
}

/* A new key retires the keys created before it that have no retirement yet, and only those. */
static void test_store_signing_key_retire_older_only_unretired_older_keys(void **state)
{
    struct fixture *f = *state;
    struct signing_key_row list[4];
    size_t n = 0;
    insert_key(f, "k1", 1000, 0);
    insert_key(f, "k2", 2000, 9000); /* retires already: kept as it is */
    insert_key(f, "k3", 3000, 0);
    insert_key(f, "k4", 4000, 0); /* the new key */
    assert_int_equal(f->st->signing_key_retire_older(f->st, "k3", 7000), GH_OK);
    assert_int_equal(query_int(f, "SELECT retires_at FROM signing_keys WHERE kid = 'k1'"), 7000);
    assert_int_equal(query_int(f, "SELECT retires_at FROM signing_keys WHERE kid = 'k2'"), 9000);
    assert_int_equal(query_int(f, "SELECT count(*) FROM signing_keys WHERE retires_at IS NULL AND "
                                  "kid IN ('k3', 'k4')"),
                     2);
    assert_int_equal(f->st->signing_key_retire_older(f->st, "k4", 8000), GH_OK);
    assert_int_equal(query_int(f, "SELECT retires_at FROM signing_keys WHERE kid = 'k3'"), 8000);
    assert_int_equal(query_int(f, "SELECT retires_at FROM signing_keys WHERE kid = 'k1'"), 7000);
    assert_int_equal(query_int(f, "SELECT retires_at FROM signing_keys WHERE kid = 'k2'"), 9000);
    /* An unknown kid retires nothing. */
    assert_int_equal(f->st->signing_key_retire_older(f->st, "nope", 7500), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM signing_keys WHERE retires_at IS NULL"), 1);
    assert_int_equal(f->st->signing_key_list(f->st, 7500, list, 4, &n), GH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].kid, "k4");
    assert_string_equal(list[1].kid, "k3");
    assert_string_equal(list[2].kid, "k2");
}

/* ==== refresh tokens ==== */

#define HASH_D    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define HASH_E    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define SESSION_1 "1111111111111111111111111111111111111111111111111111111111111111"
#define SESSION_2 "2222222222222222222222222222222222222222222222222222222222222222"
#define SESSION_3 "3333333333333333333333333333333333333333333333333333333333333333"

static void make_refresh(struct refresh_token *t, const char *hash, const char *family_id,
                         const char *user_id, const char *session_hash, int64_t created,
                         int64_t expires)
{
    memset(t, 0, sizeof *t);
    strcpy(t->token_hash, hash);
    strcpy(t->family_id, family_id);
    strcpy(t->user_id, user_id);
    strcpy(t->session_hash, session_hash);
    t->created_at = created;
    t->expires_at = expires;
}

static void insert_refresh(struct fixture *f, const char *hash, const char *family_id,
                           const char *user_id, const char *session_hash, int64_t created,
                           int64_t expires)
{
    struct refresh_token t;
    make_refresh(&t, hash, family_id, user_id, session_hash, created, expires);
    assert_int_equal(f->st->refresh_insert(f->st, &t), GH_OK);
}

/* revoked_at of the token hash (0: not revoked), as refresh_get sees it. */
static int64_t revoked_at(struct fixture *f, const char *hash)
{
    struct refresh_token t;
    assert_int_equal(f->st->refresh_get(f->st, hash, &t), GH_OK);
    return t.revoked_at;
}

static void test_store_refresh_insert_and_get(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct refresh_token t, got;
    char family[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    secret_uuid_new(family);
    insert_refresh(f, HASH_A, family, u.id, "", 1000, 5000);
    assert_int_equal(f->st->refresh_get(f->st, HASH_A, &got), GH_OK);
    assert_string_equal(got.token_hash, HASH_A);
    assert_string_equal(got.family_id, family);
    assert_string_equal(got.user_id, u.id);
    assert_string_equal(got.client_id, "");
    assert_string_equal(got.session_hash, "");
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.expires_at, 5000);
    assert_int_equal(got.rotated_at, 0);
    assert_int_equal(got.revoked_at, 0);
    /* Empty strings and times not yet known are stored as SQL NULL. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens WHERE client_id IS NULL "
                                  "AND session_hash IS NULL AND rotated_at IS NULL AND "
                                  "revoked_at IS NULL"),
                     1);
    make_refresh(&t, HASH_B, family, u.id, SESSION_1, 1100, 5100);
    strcpy(t.client_id, "web-app");
    assert_int_equal(f->st->refresh_insert(f->st, &t), GH_OK);
    assert_int_equal(f->st->refresh_get(f->st, HASH_B, &got), GH_OK);
    assert_string_equal(got.client_id, "web-app");
    assert_string_equal(got.session_hash, SESSION_1);
    assert_int_equal(f->st->refresh_get(f->st, HASH_C, &got), GH_NOT_FOUND);
}

/* A successor made twice (concurrent refreshes) is one row; the second insert changes nothing. */
static void test_store_refresh_insert_twice_is_one_row(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct refresh_token t, got;
    char family[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    secret_uuid_new(family);
    insert_refresh(f, HASH_A, family, u.id, SESSION_1, 1000, 5000);
    make_refresh(&t, HASH_A, family, u.id, SESSION_1, 1001, 9999);
    assert_int_equal(f->st->refresh_insert(f->st, &t), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens"), 1);
    assert_int_equal(f->st->refresh_get(f->st, HASH_A, &got), GH_OK);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.expires_at, 5000);
}

static void test_store_refresh_for_unknown_user_refused(void **state)
{
    struct fixture *f = *state;
    struct refresh_token t;
    char family[UUID_LEN + 1];
    secret_uuid_new(family);
    make_refresh(&t, HASH_A, family, NO_SUCH_ID, "", 1000, 5000);
    assert_int_not_equal(f->st->refresh_insert(f->st, &t), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens"), 0);
}

/* A rotation marks the token and returns it; the next one finds it rotated (a retry or a
 * reuse, for the caller to tell) and gets the row with the time of the first. */
static void test_store_refresh_rotate_once_then_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct refresh_token t, got;
    char family[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    secret_uuid_new(family);
    make_refresh(&t, HASH_A, family, u.id, SESSION_1, 1000, 5000);
    strcpy(t.client_id, "web-app");
    assert_int_equal(f->st->refresh_insert(f->st, &t), GH_OK);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_A, 1500, &got), GH_OK);
    assert_string_equal(got.token_hash, HASH_A);
    assert_string_equal(got.family_id, family);
    assert_string_equal(got.user_id, u.id);
    assert_string_equal(got.client_id, "web-app");
    assert_string_equal(got.session_hash, SESSION_1);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.expires_at, 5000);
    assert_int_equal(got.rotated_at, 1500);
    assert_int_equal(got.revoked_at, 0);
    assert_int_equal(query_int(f, "SELECT rotated_at FROM refresh_tokens"), 1500);
    memset(&got, 0, sizeof got);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_A, 1600, &got), GH_CONFLICT);
    assert_int_equal(got.rotated_at, 1500);
    assert_string_equal(got.family_id, family);
    assert_string_equal(got.user_id, u.id);
    assert_int_equal(got.revoked_at, 0);
    assert_int_equal(query_int(f, "SELECT rotated_at FROM refresh_tokens"), 1500);
    assert_int_equal(f->st->refresh_get(f->st, HASH_A, &got), GH_OK);
    assert_int_equal(got.rotated_at, 1500);
}

/* Revoked, expired and unknown tokens are not found, whether rotated before or not, and a
 * failed rotation marks nothing. */
static void test_store_refresh_rotate_revoked_expired_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct refresh_token got;
    char f1[UUID_LEN + 1], f2[UUID_LEN + 1], f3[UUID_LEN + 1], f4[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    secret_uuid_new(f1);
    secret_uuid_new(f2);
    secret_uuid_new(f3);
    secret_uuid_new(f4);
    insert_refresh(f, HASH_A, f1, u.id, "", 1000, 5000);
    insert_refresh(f, HASH_B, f2, u.id, "", 1000, 2000);
    insert_refresh(f, HASH_C, f3, u.id, "", 1000, 5000);
    insert_refresh(f, HASH_D, f4, u.id, "", 1000, 3000);
    /* Revoked. */
    assert_int_equal(f->st->refresh_revoke_family(f->st, f1, 1200), GH_OK);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_A, 1500, &got), GH_NOT_FOUND);
    /* Expired: at its expiry and after. */
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_B, 2000, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_B, 2500, &got), GH_NOT_FOUND);
    /* Rotated, then revoked. */
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_C, 1500, &got), GH_OK);
    assert_int_equal(f->st->refresh_revoke_family(f->st, f3, 1600), GH_OK);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_C, 1700, &got), GH_NOT_FOUND);
    /* Rotated, then expired. */
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_D, 1500, &got), GH_OK);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_D, 2999, &got), GH_CONFLICT);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_D, 3000, &got), GH_NOT_FOUND);
    /* Unknown. */
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_E, 1500, &got), GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens"), 4);
    /* The refused rotations marked nothing: the revoked and the expired token are not rotated,
     * and the one a second before its expiry still rotates. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens WHERE rotated_at IS NULL"),
                     2);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_B, 1999, &got), GH_OK);
}

static void test_store_refresh_revoke_family_revokes_that_family_only(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct refresh_token got;
    char f1[UUID_LEN + 1], f2[UUID_LEN + 1], f3[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    secret_uuid_new(f1);
    secret_uuid_new(f2);
    secret_uuid_new(f3);
    insert_refresh(f, HASH_A, f1, u.id, SESSION_1, 1000, 5000);
    insert_refresh(f, HASH_B, f1, u.id, SESSION_1, 1100, 5100);
    insert_refresh(f, HASH_C, f2, u.id, SESSION_1, 1000, 5000);
    insert_refresh(f, HASH_D, f3, other.id, SESSION_2, 1000, 5000);
    assert_int_equal(f->st->refresh_revoke_family(f->st, f1, 1200), GH_OK);
    assert_int_equal(revoked_at(f, HASH_A), 1200);
    assert_int_equal(revoked_at(f, HASH_B), 1200);
    assert_int_equal(revoked_at(f, HASH_C), 0);
    assert_int_equal(revoked_at(f, HASH_D), 0);
    /* Revoking again keeps the first time. */
    assert_int_equal(f->st->refresh_revoke_family(f->st, f1, 1300), GH_OK);
    assert_int_equal(revoked_at(f, HASH_A), 1200);
    assert_int_equal(f->st->refresh_revoke_family(f->st, NO_SUCH_ID, 1300), GH_OK);
    assert_int_equal(f->st->refresh_revoke_family(f->st, "garbage", 1300), GH_OK);
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL"), 2);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_B, 1500, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_C, 1500, &got), GH_OK);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_D, 1500, &got), GH_OK);
}

static void test_store_refresh_revoke_user_revokes_that_user_only(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct refresh_token got;
    char f1[UUID_LEN + 1], f2[UUID_LEN + 1], f3[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    secret_uuid_new(f1);
    secret_uuid_new(f2);
    secret_uuid_new(f3);
    insert_refresh(f, HASH_A, f1, u.id, SESSION_1, 1000, 5000);
    insert_refresh(f, HASH_B, f2, u.id, "", 1000, 5000);
    insert_refresh(f, HASH_C, f3, other.id, SESSION_1, 1000, 5000);
    assert_int_equal(f->st->refresh_revoke_user(f->st, u.id, 1200), GH_OK);
    assert_int_equal(revoked_at(f, HASH_A), 1200);
    assert_int_equal(revoked_at(f, HASH_B), 1200);
    assert_int_equal(revoked_at(f, HASH_C), 0);
    assert_int_equal(f->st->refresh_revoke_user(f->st, u.id, 1300), GH_OK);
    assert_int_equal(revoked_at(f, HASH_B), 1200);
    assert_int_equal(f->st->refresh_revoke_user(f->st, NO_SUCH_ID, 1300), GH_OK);
    assert_int_equal(f->st->refresh_revoke_user(f->st, "garbage", 1300), GH_OK);
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL"), 2);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_A, 1500, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_B, 1500, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_C, 1500, &got), GH_OK);
}

static void test_store_refresh_revoke_session_revokes_its_families_only(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct refresh_token got;
    char f1[UUID_LEN + 1], f2[UUID_LEN + 1], f3[UUID_LEN + 1], f4[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    secret_uuid_new(f1);
    secret_uuid_new(f2);
    secret_uuid_new(f3);
    secret_uuid_new(f4);
    insert_refresh(f, HASH_A, f1, u.id, SESSION_1, 1000, 5000);
    insert_refresh(f, HASH_B, f1, u.id, SESSION_1, 1100, 5100);
    insert_refresh(f, HASH_C, f2, u.id, SESSION_2, 1000, 5000);
    insert_refresh(f, HASH_D, f3, u.id, "", 1000, 5000); /* made without a session */
    insert_refresh(f, HASH_E, f4, other.id, SESSION_3, 1000, 5000);
    assert_int_equal(f->st->refresh_revoke_session(f->st, SESSION_1, 1200), GH_OK);
    assert_int_equal(revoked_at(f, HASH_A), 1200);
    assert_int_equal(revoked_at(f, HASH_B), 1200);
    assert_int_equal(revoked_at(f, HASH_C), 0);
    assert_int_equal(revoked_at(f, HASH_D), 0);
    assert_int_equal(revoked_at(f, HASH_E), 0);
    /* An empty hash is no session: the tokens made without one stay. */
    assert_int_equal(f->st->refresh_revoke_session(f->st, "", 1300), GH_OK);
    assert_int_equal(revoked_at(f, HASH_D), 0);
    assert_int_equal(f->st->refresh_revoke_session(f->st, SESSION_1, 1300), GH_OK);
    assert_int_equal(revoked_at(f, HASH_A), 1200);
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL"), 2);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_A, 1500, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_C, 1500, &got), GH_OK);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_D, 1500, &got), GH_OK);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_E, 1500, &got), GH_OK);
}

/* Deleting a user deletes the user's refresh tokens (ON DELETE CASCADE), and only those. */
static void test_store_refresh_deleting_user_cascades(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct refresh_token got;
    char f1[UUID_LEN + 1], f2[UUID_LEN + 1], sql[96];
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    secret_uuid_new(f1);
    secret_uuid_new(f2);
    insert_refresh(f, HASH_A, f1, u.id, SESSION_1, 1000, 5000);
    insert_refresh(f, HASH_B, f1, u.id, SESSION_1, 1100, 5100);
    insert_refresh(f, HASH_C, f2, other.id, SESSION_2, 1000, 5000);
    snprintf(sql, sizeof sql, "DELETE FROM users WHERE id = '%s'", u.id);
    f->backend->exec(f, sql);
    assert_int_equal(f->st->refresh_get(f->st, HASH_A, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_B, 1500, &got), GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens"), 1);
    assert_int_equal(f->st->refresh_rotate(f->st, HASH_C, 1500, &got), GH_OK);
}

static void *rotate_thread(void *arg)
{
    struct race *r = arg;
    struct refresh_token got;
    race_ready(r);
    r->status = r->st->refresh_rotate(r->st, r->token_hash, 1500, &got);
    return NULL;
}

/* Of concurrent rotations of one token, from two instances, exactly one wins; the others find
 * it rotated. */
static void test_store_refresh_concurrent_rotate_has_one_winner(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL;
    struct user u;
    char family[UUID_LEN + 1];
    assert_int_equal(f->backend->open(f, &other), GH_OK);
    insert_user(f, &u, "ada@example.com");
    secret_uuid_new(family);
    for (int round = 0; round < 3; round++) {
        struct race races[RACERS] = {0};
        const char *hash = round == 0 ? HASH_A : round == 1 ? HASH_B : HASH_C;
        insert_refresh(f, hash, family, u.id, SESSION_1, 1000, 5000);
        for (int i = 0; i < RACERS; i++)
            races[i].token_hash = hash;
        race_run(f->st, other, rotate_thread, races);
        int winners = 0;
        for (int i = 0; i < RACERS; i++) {
            if (races[i].status == GH_OK)
                winners++;
            else
                assert_int_equal(races[i].status, GH_CONFLICT);
        }
        assert_int_equal(winners, 1);
    }
    other->close(other);
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens WHERE rotated_at = 1500"),
                     3);
}

/* ==== OAuth clients ==== */

static void make_client(struct oauth_client *c, const char *id, const char *name,
                        const char *secret_hash, unsigned grants)
{
    memset(c, 0, sizeof *c);
    strcpy(c->id, id);
    strcpy(c->name, name);
    strcpy(c->secret_hash, secret_hash);
    c->confidential = secret_hash[0] != '\0';
    c->grants = grants;
    c->created_at = 1000;
}

static void test_store_client_insert_and_get(void **state)
{
    struct fixture *f = *state;
    struct oauth_client c, got;
    make_client(&c, "web-app", "Web app", HASH_A,
                CLIENT_GRANT_REFRESH_TOKEN | CLIENT_GRANT_CLIENT_CREDENTIALS);
    assert_int_equal(f->st->client_insert(f->st, &c), GH_OK);
    make_client(&c, "spa", "Single-page app", "", CLIENT_GRANT_REFRESH_TOKEN);
    c.created_at = 1100;
    assert_int_equal(f->st->client_insert(f->st, &c), GH_OK);
    assert_int_equal(f->st->client_get(f->st, "web-app", &got), GH_OK);
    assert_string_equal(got.id, "web-app");
    assert_string_equal(got.name, "Web app");
    assert_string_equal(got.secret_hash, HASH_A);
    assert_true(got.confidential);
    assert_int_equal(got.grants, CLIENT_GRANT_REFRESH_TOKEN | CLIENT_GRANT_CLIENT_CREDENTIALS);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(f->st->client_get(f->st, "spa", &got), GH_OK);
    assert_string_equal(got.name, "Single-page app");
    assert_string_equal(got.secret_hash, "");
    assert_false(got.confidential);
    assert_int_equal(got.grants, CLIENT_GRANT_REFRESH_TOKEN);
    assert_int_equal(got.created_at, 1100);
    /* A public client's empty secret hash is stored as SQL NULL. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_clients WHERE secret_hash IS NULL"),
                     1);
}

static void test_store_client_duplicate_id_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct oauth_client c, got;
    make_client(&c, "web-app", "Web app", HASH_A, CLIENT_GRANT_REFRESH_TOKEN);
    assert_int_equal(f->st->client_insert(f->st, &c), GH_OK);
    make_client(&c, "web-app", "Impostor", "", CLIENT_GRANT_CLIENT_CREDENTIALS);
    assert_int_equal(f->st->client_insert(f->st, &c), GH_CONFLICT);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_clients"), 1);
    assert_int_equal(f->st->client_get(f->st, "web-app", &got), GH_OK);
    assert_string_equal(got.name, "Web app");
    assert_string_equal(got.secret_hash, HASH_A);
}

/* A taken id in a transaction: GH_CONFLICT, and the transaction goes on. */
static gh_status client_conflict_then_insert(struct store *st, void *arg)
{
    struct oauth_client *clients = arg;
    gh_status status = st->client_insert(st, &clients[0]);
    if (status != GH_CONFLICT)
        return GH_INTERNAL;
    return st->client_insert(st, &clients[1]);
}

static void test_store_client_conflict_keeps_transaction_usable(void **state)
{
    struct fixture *f = *state;
    struct oauth_client c, pair[2], got;
    make_client(&c, "web-app", "Web app", HASH_A, CLIENT_GRANT_REFRESH_TOKEN);
    assert_int_equal(f->st->client_insert(f->st, &c), GH_OK);
    make_client(&pair[0], "web-app", "Again", "", CLIENT_GRANT_REFRESH_TOKEN);
    make_client(&pair[1], "cli", "Command line", "", CLIENT_GRANT_REFRESH_TOKEN);
    assert_int_equal(store_transaction(f->st, client_conflict_then_insert, pair), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_clients"), 2);
    assert_int_equal(f->st->client_get(f->st, "cli", &got), GH_OK);
}

/* Unknown ids are not found, alike on every backend: another case, bytes that are not UTF-8, an
 * id longer than any registered one. */
static void test_store_client_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    struct oauth_client c, got;
    char long_id[200];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(f->st->client_get(f->st, "web-app", &got), GH_NOT_FOUND);
    make_client(&c, "web-app", "Web app", HASH_A, CLIENT_GRANT_REFRESH_TOKEN);
    assert_int_equal(f->st->client_insert(f->st, &c), GH_OK);
    assert_int_equal(f->st->client_get(f->st, "nope", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->client_get(f->st, "WEB-APP", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->client_get(f->st, "web-app\xff\xfe", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->client_get(f->st, long_id, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->client_get(f->st, "", &got), GH_NOT_FOUND);
}

/* ==== identities at OpenID Connect providers ==== */

static void make_identity(struct oauth_identity *i, const char *provider, const char *subject,
                          const char *user_id, const char *email, int64_t created)
{
    memset(i, 0, sizeof *i);
    strcpy(i->provider, provider);
    strcpy(i->subject, subject);
    strcpy(i->user_id, user_id);
    strcpy(i->email, email);
    i->created_at = created;
}

static void insert_identity(struct fixture *f, const char *provider, const char *subject,
                            const char *user_id, int64_t created)
{
    struct oauth_identity i;
    make_identity(&i, provider, subject, user_id, "ada@example.com", created);
    assert_int_equal(f->st->identity_insert(f->st, &i), GH_OK);
}

/* A refused insert is an error of its own, never a conflict (which says "linked already"). */
static void assert_refused(gh_status status)
{
    assert_int_not_equal(status, GH_OK);
    assert_int_not_equal(status, GH_CONFLICT);
    assert_int_not_equal(status, GH_NOT_FOUND);
}

static void assert_identity_equal(const struct oauth_identity *got,
                                  const struct oauth_identity *want)
{
    assert_string_equal(got->provider, want->provider);
    assert_string_equal(got->subject, want->subject);
    assert_string_equal(got->user_id, want->user_id);
    assert_string_equal(got->email, want->email);
    assert_int_equal(got->created_at, want->created_at);
}

static void test_store_identity_insert_and_get(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct oauth_identity i, got;
    insert_user(f, &u, "ada@example.com");
    make_identity(&i, "google", "108234567890123456789", u.id, "ada@gmail.com", 1000);
    assert_int_equal(f->st->identity_insert(f->st, &i), GH_OK);
    memset(&got, 0x55, sizeof got);
    assert_int_equal(f->st->identity_get(f->st, "google", "108234567890123456789", &got), GH_OK);
    assert_identity_equal(&got, &i);
    /* No address asserted: stored as SQL NULL, read back as "". */
    make_identity(&i, "github", "583231", u.id, "", 1100);
    assert_int_equal(f->st->identity_insert(f->st, &i), GH_OK);
    assert_int_equal(f->st->identity_get(f->st, "github", "583231", &got), GH_OK);
    assert_identity_equal(&got, &i);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities WHERE email IS NULL"), 1);
    /* The longest subject, 255 bytes of printable UTF-8 (two-byte characters and one more). */
    char subject[SUBJECT_MAX] = "";
    for (int k = 0; k < 127; k++)
        strcat(subject, "\xc3\xa9");
    strcat(subject, "x");
    assert_int_equal(strlen(subject), SUBJECT_MAX - 1);
    make_identity(&i, "gitlab", subject, u.id, "ada@example.com", 1200);
    assert_int_equal(f->st->identity_insert(f->st, &i), GH_OK);
    assert_int_equal(f->st->identity_get(f->st, "gitlab", subject, &got), GH_OK);
    assert_identity_equal(&got, &i);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 3);
}

/* Lookups miss alike on every backend: another subject, provider or case, bytes that are not
 * UTF-8, text longer than any linked one. */
static void test_store_identity_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct oauth_identity got;
    char long_subject[SUBJECT_MAX + 40], long_provider[PROVIDER_NAME_MAX + 8];
    memset(long_subject, 'a', sizeof long_subject - 1);
    long_subject[sizeof long_subject - 1] = '\0';
    memset(long_provider, 'g', sizeof long_provider - 1);
    long_provider[sizeof long_provider - 1] = '\0';
    assert_int_equal(f->st->identity_get(f->st, "google", "abc", &got), GH_NOT_FOUND);
    insert_user(f, &u, "ada@example.com");
    insert_identity(f, "google", "abc", u.id, 1000);
    assert_int_equal(f->st->identity_get(f->st, "google", "abd", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "google", "ABC", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "Google", "abc", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "github", "abc", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "google", "abc\xff\xfe", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "goo\xc0\xafgle", "abc", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "google", long_subject, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, long_provider, "abc", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "google", "", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "google", "abc", &got), GH_OK);
}

/* A subject is linked to one account: linking it again, to anyone, is a conflict. */
static void test_store_identity_linked_subject_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct oauth_identity i, got;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_identity(f, "google", "abc", u.id, 1000);
    make_identity(&i, "google", "abc", other.id, "bob@example.com", 1100);
    assert_int_equal(f->st->identity_insert(f->st, &i), GH_CONFLICT);
    make_identity(&i, "google", "abc", u.id, "ada@example.com", 1200);
    assert_int_equal(f->st->identity_insert(f->st, &i), GH_CONFLICT);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 1);
    assert_int_equal(f->st->identity_get(f->st, "google", "abc", &got), GH_OK);
    assert_string_equal(got.user_id, u.id);
    assert_int_equal(got.created_at, 1000);
}

/* An account has one identity per provider: a second one there is a conflict. */
static void test_store_identity_second_at_provider_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct oauth_identity i, got;
    insert_user(f, &u, "ada@example.com");
    insert_identity(f, "google", "abc", u.id, 1000);
    make_identity(&i, "google", "xyz", u.id, "ada@example.com", 1100);
    assert_int_equal(f->st->identity_insert(f->st, &i), GH_CONFLICT);
    assert_int_equal(f->st->identity_get(f->st, "google", "xyz", &got), GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 1);
}

/* One account at two providers, and one subject at two providers for two accounts, are fine. */
static void test_store_identity_same_user_at_two_providers(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct oauth_identity got;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_identity(f, "google", "abc", u.id, 1000);
    insert_identity(f, "github", "abc", other.id, 1100);
    insert_identity(f, "gitlab", "xyz", u.id, 1200);
    insert_identity(f, "github", "xyz", u.id, 1300);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 4);
    assert_int_equal(f->st->identity_get(f->st, "google", "abc", &got), GH_OK);
    assert_string_equal(got.user_id, u.id);
    assert_int_equal(f->st->identity_get(f->st, "github", "abc", &got), GH_OK);
    assert_string_equal(got.user_id, other.id);
    assert_int_equal(f->st->identity_get(f->st, "github", "xyz", &got), GH_OK);
    assert_string_equal(got.user_id, u.id);
}

/* A conflict in a transaction: GH_CONFLICT, and the transaction goes on. */
static gh_status identity_conflict_then_insert(struct store *st, void *arg)
{
    struct oauth_identity *pair = arg;
    gh_status status = st->identity_insert(st, &pair[0]);
    if (status != GH_CONFLICT)
        return GH_INTERNAL;
    return st->identity_insert(st, &pair[1]);
}

static void test_store_identity_conflict_keeps_transaction_usable(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct oauth_identity pair[2], got;
    insert_user(f, &u, "ada@example.com");
    insert_identity(f, "google", "abc", u.id, 1000);
    make_identity(&pair[0], "google", "xyz", u.id, "ada@example.com", 1100);
    make_identity(&pair[1], "github", "xyz", u.id, "ada@example.com", 1100);
    assert_int_equal(store_transaction(f->st, identity_conflict_then_insert, pair), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 2);
    assert_int_equal(f->st->identity_get(f->st, "github", "xyz", &got), GH_OK);
}

/* Text PostgreSQL would refuse, a field without its NUL, and users that do not exist are
 * refused alike on every backend, and nothing is stored. */
static void test_store_identity_insert_refuses_bad_text_and_unknown_user(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct oauth_identity i;
    insert_user(f, &u, "ada@example.com");
    make_identity(&i, "google", "abc\xff", u.id, "ada@example.com", 1000);
    assert_refused(f->st->identity_insert(f->st, &i));
    make_identity(&i, "goo\xed\xa0\x80gle", "abc", u.id, "ada@example.com", 1000); /* surrogate */
    assert_refused(f->st->identity_insert(f->st, &i));
    make_identity(&i, "google", "abc", u.id, "ada@\xc3xample.com", 1000);
    assert_refused(f->st->identity_insert(f->st, &i));
    make_identity(&i, "google", "abc", u.id, "ada@example.com", 1000);
    memset(i.subject, 'a', sizeof i.subject); /* 256 bytes, no room for the NUL */
    assert_refused(f->st->identity_insert(f->st, &i));
    make_identity(&i, "google", "abc", NO_SUCH_ID, "ada@example.com", 1000);
    assert_refused(f->st->identity_insert(f->st, &i));
    make_identity(&i, "google", "abc", "garbage", "ada@example.com", 1000);
    assert_refused(f->st->identity_insert(f->st, &i));
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 0);
}

static void test_store_identity_list_oldest_first_and_capped(void **state)
{
    struct fixture *f = *state;
    struct user u, other, nobody;
    struct oauth_identity got[8];
    size_t n = 99;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    make_user(&nobody, "nobody@example.com");
    assert_int_equal(f->st->identity_list(f->st, u.id, got, 8, &n), GH_OK);
    assert_int_equal(n, 0);
    insert_identity(f, "github", "g1", u.id, 3000);
    insert_identity(f, "google", "o1", u.id, 1000);
    insert_identity(f, "gitlab", "l1", u.id, 2000);
    insert_identity(f, "google", "o2", other.id, 500);
    assert_int_equal(f->st->identity_list(f->st, u.id, got, 8, &n), GH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(got[0].provider, "google");
    assert_string_equal(got[0].subject, "o1");
    assert_string_equal(got[0].user_id, u.id);
    assert_string_equal(got[0].email, "ada@example.com");
    assert_int_equal(got[0].created_at, 1000);
    assert_string_equal(got[1].provider, "gitlab");
    assert_string_equal(got[2].provider, "github");
    /* At most cap of them, the oldest. */
    memset(got, 0, sizeof got);
    assert_int_equal(f->st->identity_list(f->st, u.id, got, 2, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[0].provider, "google");
    assert_string_equal(got[1].provider, "gitlab");
    assert_string_equal(got[2].provider, "");
    assert_int_equal(f->st->identity_list(f->st, u.id, got, 0, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(f->st->identity_list(f->st, other.id, got, 8, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].subject, "o2");
    assert_int_equal(f->st->identity_list(f->st, nobody.id, got, 8, &n), GH_OK);
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(f->st->identity_list(f->st, "garbage", got, 8, &n), GH_OK);
    assert_int_equal(n, 0);
}

static void test_store_identity_delete(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct oauth_identity got;
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_identity(f, "google", "abc", u.id, 1000);
    insert_identity(f, "github", "abc", u.id, 1000);
    insert_identity(f, "google", "xyz", other.id, 1000);
    assert_int_equal(f->st->identity_delete(f->st, u.id, "google"), GH_OK);
    assert_int_equal(f->st->identity_get(f->st, "google", "abc", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_delete(f->st, u.id, "google"), GH_NOT_FOUND);
    /* The user's other identity and the other user's at that provider stay. */
    assert_int_equal(f->st->identity_get(f->st, "github", "abc", &got), GH_OK);
    assert_int_equal(f->st->identity_get(f->st, "google", "xyz", &got), GH_OK);
    /* Nothing to unlink: unknown providers, users and spellings of either. */
    assert_int_equal(f->st->identity_delete(f->st, other.id, "github"), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_delete(f->st, u.id, "gitlab"), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_delete(f->st, u.id, "GitHub"), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_delete(f->st, u.id, "git\xffhub"), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_delete(f->st, NO_SUCH_ID, "github"), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_delete(f->st, "garbage", "github"), GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 2);
    /* Unlinked, the provider takes a new identity of the user. */
    insert_identity(f, "google", "def", u.id, 2000);
    assert_int_equal(f->st->identity_get(f->st, "google", "def", &got), GH_OK);
    assert_string_equal(got.user_id, u.id);
}

static void test_store_identity_deleting_user_cascades(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    struct oauth_identity got;
    size_t n = 99;
    char sql[96];
    insert_user(f, &u, "ada@example.com");
    insert_user(f, &other, "bob@example.com");
    insert_identity(f, "google", "abc", u.id, 1000);
    insert_identity(f, "github", "abc", u.id, 1000);
    insert_identity(f, "google", "xyz", other.id, 1000);
    snprintf(sql, sizeof sql, "DELETE FROM users WHERE id = '%s'", u.id);
    f->backend->exec(f, sql);
    assert_int_equal(f->st->identity_get(f->st, "google", "abc", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_get(f->st, "github", "abc", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->identity_list(f->st, u.id, &got, 1, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(f->st->identity_get(f->st, "google", "xyz", &got), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 1);
}

/* ==== logins in progress at OpenID Connect providers ==== */

#define VERIFIER_A "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define NONCE_A    "n-0S6_WzA2Mj-bI3q0rqyqHbXhPS4RS2nuRXBxqL8sY"

static void make_state(struct oauth_state *s, const char *hash, const char *next, int64_t created,
                       int64_t expires)
{
    memset(s, 0, sizeof *s);
    strcpy(s->state_hash, hash);
    strcpy(s->binding_hash, SESSION_1);
    strcpy(s->provider, "google");
    strcpy(s->code_verifier, VERIFIER_A);
    strcpy(s->nonce, NONCE_A);
    strcpy(s->next, next);
    s->created_at = created;
    s->expires_at = expires;
}

static void insert_state(struct fixture *f, const char *hash, int64_t created, int64_t expires)
{
    struct oauth_state s;
    make_state(&s, hash, "/", created, expires);
    assert_int_equal(f->st->state_insert(f->st, &s), GH_OK);
}

static void test_store_state_insert_and_consume(void **state)
{
    struct fixture *f = *state;
    struct oauth_state s, got;
    make_state(&s, HASH_A, "/profile?tab=linked#top", 1000, 1600);
    strcpy(s.binding_hash, SESSION_2);
    strcpy(s.provider, "gitlab");
    assert_int_equal(f->st->state_insert(f->st, &s), GH_OK);
    memset(&got, 0x55, sizeof got);
    assert_int_equal(f->st->state_consume(f->st, HASH_A, 1500, &got), GH_OK);
    assert_string_equal(got.state_hash, HASH_A);
    assert_string_equal(got.binding_hash, SESSION_2);
    assert_string_equal(got.provider, "gitlab");
    assert_string_equal(got.code_verifier, VERIFIER_A);
    assert_string_equal(got.nonce, NONCE_A);
    assert_string_equal(got.next, "/profile?tab=linked#top");
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.expires_at, 1600);
    /* Consumed is gone: a second return with the same state finds nothing. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_states"), 0);
    assert_int_equal(f->st->state_consume(f->st, HASH_A, 1501, &got), GH_NOT_FOUND);
    /* No next: stored as SQL NULL, read back as "". */
    make_state(&s, HASH_B, "", 1000, 1600);
    assert_int_equal(f->st->state_insert(f->st, &s), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_states WHERE next IS NULL"), 1);
    assert_int_equal(f->st->state_consume(f->st, HASH_B, 1500, &got), GH_OK);
    assert_string_equal(got.next, "");
    assert_string_equal(got.binding_hash, SESSION_1);
}

static void test_store_state_duplicate_hash_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct oauth_state s, got;
    insert_state(f, HASH_A, 1000, 1600);
    make_state(&s, HASH_A, "/other", 1100, 9999);
    assert_int_equal(f->st->state_insert(f->st, &s), GH_CONFLICT);
    assert_int_equal(f->st->state_consume(f->st, HASH_A, 1500, &got), GH_OK);
    assert_string_equal(got.next, "/");
    assert_int_equal(got.expires_at, 1600);
}

/* Expired (at its expiry and after) and unknown states are not found, and a failed consume
 * removes nothing. */
static void test_store_state_consume_expired_or_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    struct oauth_state got;
    insert_state(f, HASH_A, 1000, 1600);
    assert_int_equal(f->st->state_consume(f->st, HASH_A, 1600, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->state_consume(f->st, HASH_A, 9999, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->state_consume(f->st, HASH_B, 1500, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->state_consume(f->st, "", 1500, &got), GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_states"), 1);
    assert_int_equal(f->st->state_consume(f->st, HASH_A, 1599, &got), GH_OK);
}

/* The provider and next come from a request: text PostgreSQL would refuse, or a field without
 * its NUL, is refused alike on every backend. */
static void test_store_state_insert_refuses_bad_text(void **state)
{
    struct fixture *f = *state;
    struct oauth_state s;
    make_state(&s, HASH_A, "/caf\xe9", 1000, 1600); /* Latin-1, not UTF-8 */
    assert_refused(f->st->state_insert(f->st, &s));
    make_state(&s, HASH_A, "/", 1000, 1600);
    strcpy(s.provider, "goo\xf8gle");
    assert_refused(f->st->state_insert(f->st, &s));
    make_state(&s, HASH_A, "/", 1000, 1600);
    memset(s.next, 'a', sizeof s.next);
    assert_refused(f->st->state_insert(f->st, &s));
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_states"), 0);
}

static void *state_consume_thread(void *arg)
{
    struct race *r = arg;
    struct oauth_state got;
    race_ready(r);
    r->status = r->st->state_consume(r->st, r->token_hash, 1500, &got);
    return NULL;
}

/* Of concurrent consumes of one state, from two instances, exactly one wins. */
static void test_store_state_concurrent_consume_has_one_winner(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL;
    assert_int_equal(f->backend->open(f, &other), GH_OK);
    for (int round = 0; round < 3; round++) {
        struct race races[RACERS] = {0};
        const char *hash = round == 0 ? HASH_A : round == 1 ? HASH_B : HASH_C;
        insert_state(f, hash, 1000, 1600);
        for (int i = 0; i < RACERS; i++)
            races[i].token_hash = hash;
        race_run(f->st, other, state_consume_thread, races);
        int winners = 0;
        for (int i = 0; i < RACERS; i++) {
            if (races[i].status == GH_OK)
                winners++;
            else
                assert_int_equal(races[i].status, GH_NOT_FOUND);
        }
        assert_int_equal(winners, 1);
    }
    other->close(other);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_states"), 0);
}

/* Expired states go at once (no grace: an expired login is of no use); live ones and linked
 * identities stay. */
static void test_store_purge_expired_deletes_expired_states_only(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct oauth_state got;
    insert_user(f, &u, "ada@example.com");
    insert_identity(f, "google", "abc", u.id, 1000);
    insert_state(f, HASH_A, 1000, 1999);
    insert_state(f, HASH_B, 1000, 2000);
    insert_state(f, HASH_C, 1000, 2001);
    assert_int_equal(f->st->purge_expired(f->st, 2000), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_states"), 1);
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM oauth_states WHERE state_hash = '" HASH_C "'"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 1);
    assert_int_equal(f->st->state_consume(f->st, HASH_C, 2000, &got), GH_OK);
}

/* ==== server secrets, expiry ==== */

static void test_store_secret_is_created_once(void **state)
{
    struct fixture *f = *state;
    char out[80];
    assert_int_equal(f->st->secret_get_or_create(f->st, "k", "first", 1000, out, sizeof out),
                     GH_OK);
    assert_string_equal(out, "first");
    assert_int_equal(f->st->secret_get_or_create(f->st, "k", "second", 1001, out, sizeof out),
                     GH_OK);
    assert_string_equal(out, "first");
    assert_int_equal(f->st->secret_get_or_create(f->st, "other", "x", 1001, out, sizeof out),
                     GH_OK);
    assert_string_equal(out, "x");
    assert_int_equal(f->st->secret_get_or_create(f->st, "k", "y", 1001, out, 3), GH_INTERNAL);
    assert_int_equal(query_int(f, "SELECT count(*) FROM server_secrets"), 2);
}

static void *secret_thread(void *arg)
{
    struct race *r = arg;
    race_ready(r);
    r->status =
        r->st->secret_get_or_create(r->st, "key", r->candidate, 1000, r->got, sizeof r->got);
    return NULL;
}

/* Instances starting together each propose a key; all end up with the same one. */
static void test_store_secret_concurrent_creation_agrees(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL;
    struct race races[RACERS] = {0};
    char again[16];
    assert_int_equal(f->backend->open(f, &other), GH_OK);
    for (int i = 0; i < RACERS; i++)
        snprintf(races[i].candidate, sizeof races[i].candidate, "candidate-%d", i);
    race_run(f->st, other, secret_thread, races);
    other->close(other);
    for (int i = 0; i < RACERS; i++) {
        assert_int_equal(races[i].status, GH_OK);
        assert_string_equal(races[i].got, races[0].got);
    }
    assert_int_equal(query_int(f, "SELECT count(*) FROM server_secrets"), 1);
    assert_int_equal(f->st->secret_get_or_create(f->st, "key", "late", 2000, again, sizeof again),
                     GH_OK);
    assert_string_equal(again, races[0].got);
}

static void test_store_purge_expired_deletes_expired_rows_only(void **state)
{
    struct fixture *f = *state;
    struct user u;
    int64_t count, end;
    char family[UUID_LEN + 1];
    insert_user(f, &u, "ada@example.com");
    insert_session(f, HASH_A, u.id, 1000, 2000);
    insert_session(f, HASH_B, u.id, 1000, 3000);
    insert_token(f, HASH_A, u.id, PURPOSE_CONFIRM, 1000, 2000);
    insert_token(f, HASH_B, u.id, PURPOSE_RESET, 1000, 200000);
    assert_int_equal(f->st->rate_hit(f->st, "old", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(f->st->rate_hit(f->st, "live", 60, 1990, &count, &end), GH_OK);
    secret_uuid_new(family);
    insert_refresh(f, HASH_A, family, u.id, "", 1000, 2000);
    insert_refresh(f, HASH_B, family, u.id, "", 1000, 2001);
    insert_refresh(f, HASH_C, family, u.id, "", 1000, 200000);
    assert_int_equal(f->st->purge_expired(f->st, 2000), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions WHERE token_hash = '" HASH_B "'"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM rate_limits"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM rate_limits WHERE key = 'live'"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM one_time_tokens"), 2); /* a day's grace */
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens"), 3);  /* the same */
    assert_int_equal(f->st->purge_expired(f->st, 2000 + 86400), GH_OK);
    /* Expired a day ago or more: gone; expired less than a day ago, or live: kept. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens"), 2);
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM refresh_tokens WHERE token_hash = '" HASH_A "'"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM one_time_tokens"), 1);
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM one_time_tokens WHERE token_hash = '" HASH_B "'"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
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
    SCENARIO(test_store_every_member_is_set),
    SCENARIO(test_store_migrate_twice_is_idempotent),
    SCENARIO(test_store_migration_creates_tables),
    SCENARIO(test_store_close_and_reopen_keeps_data),
    SCENARIO(test_store_open_by_url_and_unknown_scheme),
    SCENARIO(test_store_ping),
    SCENARIO(test_store_ready_write_commits_the_time),
    SCENARIO(test_store_transaction_rolls_back_on_failure),
    SCENARIO(test_store_begin_commit_rollback),
    SCENARIO(test_store_conflict_keeps_transaction_usable),
    SCENARIO(test_store_user_insert_and_lookup_by_email),
    SCENARIO(test_store_user_flags_round_trip),
    SCENARIO(test_store_user_by_email_is_case_insensitive),
    SCENARIO(test_store_user_unknown_or_malformed_not_found),
    SCENARIO(test_store_duplicate_email_any_case_is_conflict),
    SCENARIO(test_store_user_by_id_and_activate),
    SCENARIO(test_store_user_update_profile),
    SCENARIO(test_store_user_set_password),
    SCENARIO(test_store_user_replace_password_hash_only_while_unchanged),
    SCENARIO(test_store_legacy_hashes_counted_and_listed_by_id),
    SCENARIO(test_store_import_map_get_insert_and_cascade),
    SCENARIO(test_store_onetime_consume_once),
    SCENARIO(test_store_onetime_expired_not_found),
    SCENARIO(test_store_onetime_wrong_purpose_not_found),
    SCENARIO(test_store_onetime_unknown_not_found),
    SCENARIO(test_store_onetime_peek_does_not_consume),
    SCENARIO(test_store_onetime_revoke_all_of_user_and_purpose),
    SCENARIO(test_store_onetime_duplicate_hash_is_conflict),
    SCENARIO(test_store_onetime_concurrent_consume_has_one_winner),
    SCENARIO(test_store_session_insert_and_lookup),
    SCENARIO(test_store_session_expired_not_found),
    SCENARIO(test_store_session_unknown_not_found),
    SCENARIO(test_store_session_delete),
    SCENARIO(test_store_session_for_unknown_user_refused),
    SCENARIO(test_store_session_duplicate_hash_is_conflict),
    SCENARIO(test_store_session_touch_sets_last_seen),
    SCENARIO(test_store_session_list_newest_first_live_only),
    SCENARIO(test_store_session_delete_all_keeps_one_or_none),
    SCENARIO(test_store_outbox_insert_and_claim),
    SCENARIO(test_store_outbox_not_due_before_insert_time),
    SCENARIO(test_store_outbox_lease_hides_from_second_claim),
    SCENARIO(test_store_outbox_mark_sent_empties_bodies),
    SCENARIO(test_store_outbox_schedule_retry),
    SCENARIO(test_store_outbox_claims_oldest_first),
    SCENARIO(test_store_outbox_request_resolve_and_discard),
    SCENARIO(test_store_outbox_concurrent_claims_take_each_mail_once),
    SCENARIO(test_store_audit_insert),
    SCENARIO(test_store_rate_hit_counts_in_fixed_windows),
    SCENARIO(test_store_rate_peek_does_not_count),
    SCENARIO(test_store_rate_refund_never_below_zero),
    SCENARIO(test_store_rate_clear),
    SCENARIO(test_store_rate_concurrent_hits_all_count),
    SCENARIO(test_store_signing_key_list_newest_first_unretired_only),
    SCENARIO(test_store_signing_key_duplicate_kid_is_conflict),
    SCENARIO(test_store_signing_key_retire_older_only_unretired_older_keys),
    SCENARIO(test_store_refresh_insert_and_get),
    SCENARIO(test_store_refresh_insert_twice_is_one_row),
    SCENARIO(test_store_refresh_for_unknown_user_refused),
    SCENARIO(test_store_refresh_rotate_once_then_conflict),
    SCENARIO(test_store_refresh_rotate_revoked_expired_unknown_not_found),
    SCENARIO(test_store_refresh_revoke_family_revokes_that_family_only),
    SCENARIO(test_store_refresh_revoke_user_revokes_that_user_only),
    SCENARIO(test_store_refresh_revoke_session_revokes_its_families_only),
    SCENARIO(test_store_refresh_deleting_user_cascades),
    SCENARIO(test_store_refresh_concurrent_rotate_has_one_winner),
    SCENARIO(test_store_client_insert_and_get),
    SCENARIO(test_store_client_duplicate_id_is_conflict),
    SCENARIO(test_store_client_conflict_keeps_transaction_usable),
    SCENARIO(test_store_client_unknown_not_found),
    SCENARIO(test_store_identity_insert_and_get),
    SCENARIO(test_store_identity_unknown_not_found),
    SCENARIO(test_store_identity_linked_subject_is_conflict),
    SCENARIO(test_store_identity_second_at_provider_is_conflict),
    SCENARIO(test_store_identity_same_user_at_two_providers),
    SCENARIO(test_store_identity_conflict_keeps_transaction_usable),
    SCENARIO(test_store_identity_insert_refuses_bad_text_and_unknown_user),
    SCENARIO(test_store_identity_list_oldest_first_and_capped),
    SCENARIO(test_store_identity_delete),
    SCENARIO(test_store_identity_deleting_user_cascades),
    SCENARIO(test_store_state_insert_and_consume),
    SCENARIO(test_store_state_duplicate_hash_is_conflict),
    SCENARIO(test_store_state_consume_expired_or_unknown_not_found),
    SCENARIO(test_store_state_insert_refuses_bad_text),
    SCENARIO(test_store_state_concurrent_consume_has_one_winner),
    SCENARIO(test_store_secret_is_created_once),
    SCENARIO(test_store_secret_concurrent_creation_agrees),
    SCENARIO(test_store_purge_expired_deletes_expired_rows_only),
    SCENARIO(test_store_purge_expired_deletes_expired_states_only),
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
                     scenarios[i].name + strlen("test_store_"));
            tests[k] = (struct CMUnitTest){.name = names[k],
                                           .test_func = scenarios[i].fn,
                                           .setup_func = setup_store,
                                           .teardown_func = teardown_store,
                                           .initial_state = (void *)&backends[b]};
        }
    return cmocka_run_group_tests_name("store contract", tests, setup_cluster, teardown_cluster);
}
