/* The SQLite store (store/store.h): migrations, users, one-time tokens, sessions, outbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "util/secret.h"

struct fixture {
    char dir[64];
    char path[128];
    struct store *st;
};

static int setup_store(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/gh-store-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/gatehouse.db", f->dir);
    if (store_sqlite_open(f->path, &f->st) != GH_OK || f->st->migrate(f->st) != GH_OK) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_store(void **state)
{
    struct fixture *f = *state;
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    if (f->st)
        f->st->close(f->st);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Runs a one-value query on a separate connection to the database file. */
static int64_t query_int(struct fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void query_text(struct fixture *f, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    const unsigned char *v = sqlite3_column_text(s, 0);
    snprintf(out, cap, "%s", v ? (const char *)v : "(null)");
    sqlite3_finalize(s);
    sqlite3_close(db);
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

/* ---- migrations ---- */

static void test_store_migrate_twice_is_idempotent(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM schema_migrations WHERE version = 1"), 1);
    /* every version once, none skipped */
    assert_int_equal(query_int(f, "SELECT count(*) = max(version) AND count(DISTINCT version) = "
                                  "count(*) FROM schema_migrations"),
                     1);
    assert_true(query_int(f, "SELECT applied_at FROM schema_migrations") > 1600000000);
}

static void test_store_migrate_survives_reopen(void **state)
{
    struct fixture *f = *state;
    struct user u;
    insert_user(f, &u, "keep@example.com");
    f->st->close(f->st);
    f->st = NULL;
    assert_int_equal(store_sqlite_open(f->path, &f->st), GH_OK);
    int64_t versions = query_int(f, "SELECT count(*) FROM schema_migrations");
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM schema_migrations"), versions);
    struct user got;
    assert_int_equal(f->st->user_by_email(f->st, "keep@example.com", &got), GH_OK);
    assert_string_equal(got.id, u.id);
}

static void test_store_migration_creates_tables(void **state)
{
    struct fixture *f = *state;
    const char *tables[] = {"users",           "user_profiles", "sessions",
                            "one_time_tokens", "mail_outbox",   "audit_log"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
                 tables[i]);
        if (query_int(f, sql) != 1)
            fail_msg("table %s is missing", tables[i]);
    }
}

static void test_store_open_bad_path_fails(void **state)
{
    (void)state;
    struct store *st = NULL;
    assert_int_not_equal(store_sqlite_open("/nonexistent-dir/sub/gatehouse.db", &st), GH_OK);
}

static void test_store_open_by_url(void **state)
{
    struct fixture *f = *state;
    char url[160];
    struct store *st = NULL;
    snprintf(url, sizeof url, "sqlite:%s", f->path);
    assert_int_equal(store_open(url, &st), GH_OK);
    assert_int_equal(st->ping(st), GH_OK);
    st->close(st);
    assert_int_equal(store_open("mysql://localhost/gatehouse", &st), GH_INTERNAL);
    /* PostgreSQL URLs go to the PostgreSQL store: nothing listens on port 1. */
    assert_int_equal(store_open("postgres://127.0.0.1:1/gatehouse?connect_timeout=1", &st),
                     GH_UNAVAILABLE);
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

/* ---- users ---- */

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
    assert_string_equal(got.profile.github_link, "https://github.com/ada");
    /* Empty strings are stored as SQL NULL. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM users WHERE thumbnail IS NULL"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles WHERE phone_number IS NULL"),
                     1);
}

static void test_store_user_by_email_is_case_insensitive(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    insert_user(f, &u, "ada@example.com");
    assert_int_equal(f->st->user_by_email(f->st, "ADA@Example.COM", &got), GH_OK);
    assert_string_equal(got.id, u.id);
}

static void test_store_user_by_email_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    insert_user(f, &u, "ada@example.com");
    assert_int_equal(f->st->user_by_email(f->st, "bob@example.com", &got), GH_NOT_FOUND);
    assert_int_equal(f->st->user_by_id(f->st, "00000000-0000-4000-8000-000000000000", &got),
                     GH_NOT_FOUND);
}

static void test_store_duplicate_email_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u, dup;
    insert_user(f, &u, "ada@example.com");
    make_user(&dup, "ada@example.com");
    assert_int_equal(f->st->user_insert(f->st, &dup), GH_CONFLICT);
    make_user(&dup, "Ada@Example.com");
    assert_int_equal(f->st->user_insert(f->st, &dup), GH_CONFLICT);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
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
    assert_int_equal(f->st->user_activate(f->st, "00000000-0000-4000-8000-000000000000"),
                     GH_NOT_FOUND);
}

/* ---- transactions ---- */

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

/* ---- one-time tokens ---- */

static void insert_token(struct fixture *f, const char *hash, const char *user_id,
                         const char *purpose, int64_t created, int64_t expires)
{
    struct onetime t = {.purpose = purpose, .created_at = created, .expires_at = expires};
    strcpy(t.token_hash, hash);
    strcpy(t.user_id, user_id);
    assert_int_equal(f->st->onetime_insert(f->st, &t), GH_OK);
}

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

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
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, "reset", 1500, uid), GH_NOT_FOUND);
    /* The failed attempt did not use the token up. */
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid), GH_OK);
}

static void test_store_onetime_unknown_not_found(void **state)
{
    struct fixture *f = *state;
    char uid[UUID_LEN + 1];
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid),
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
    insert_token(f, HASH_B, u.id, "reset", 1000, 2800);
    insert_token(f, HASH_C, other.id, PURPOSE_CONFIRM, 1000, 2800);
    assert_int_equal(f->st->onetime_revoke_all(f->st, u.id, PURPOSE_CONFIRM, 1200), GH_OK);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_A, PURPOSE_CONFIRM, 1500, uid),
                     GH_NOT_FOUND);
    assert_int_equal(f->st->onetime_consume(f->st, HASH_B, "reset", 1500, uid), GH_OK);
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

/* ---- sessions ---- */

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
    assert_string_equal(gu.id, u.id);
    assert_string_equal(gu.email, "ada@example.com");
    assert_string_equal(gu.profile.id, u.profile.id);
}

static void test_store_session_expired_not_found(void **state)
{
    struct fixture *f = *state;
    struct user u, gu;
    struct session s, gs;
    insert_user(f, &u, "ada@example.com");
    make_session(&s, HASH_A, u.id, 1000, 2000);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
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
    struct session s, gs;
    insert_user(f, &u, "ada@example.com");
    make_session(&s, HASH_A, u.id, 1000, 2000);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
    make_session(&s, HASH_B, u.id, 1000, 2000);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
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
    make_session(&s, HASH_A, "00000000-0000-4000-8000-000000000000", 1000, 2000);
    assert_int_not_equal(f->st->session_insert(f->st, &s), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 0);
}

/* ---- outbox ---- */

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

static void test_store_outbox_mark_sent(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    make_mail(&m, "ada@example.com", "Welcome");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 1000, 1060, &got), GH_OK);
    assert_int_equal(f->st->outbox_mark_sent(f->st, got.id, 1001), GH_OK);
    mail_clear(&got);
    assert_int_equal(pending(f), 0);
    assert_int_equal(f->st->outbox_claim(f->st, 99999, 100060, &got), GH_NOT_FOUND);
    assert_int_equal(query_int(f, "SELECT sent_at FROM mail_outbox"), 1001);
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

static void test_store_conflict_keeps_transaction_usable(void **state)
{
    struct fixture *f = *state;
    struct user u, dup;
    insert_user(f, &u, "ada@example.com");
    make_user(&dup, "ADA@example.com");
    assert_int_equal(store_transaction(f->st, (store_tx_fn)conflict_then_request, &dup), GH_OK);
    assert_int_equal(pending(f), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
}

static void test_store_outbox_claims_oldest_first(void **state)
{
    struct fixture *f = *state;
    struct mail m, got;
    make_mail(&m, "first@example.com", "One");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1000), GH_OK);
    make_mail(&m, "second@example.com", "Two");
    assert_int_equal(f->st->outbox_insert(f->st, &m, 1001), GH_OK);
    assert_int_equal(f->st->outbox_claim(f->st, 2000, 2060, &got), GH_OK);
    assert_string_equal(got.recipient, "first@example.com");
    mail_clear(&got);
    assert_int_equal(f->st->outbox_claim(f->st, 2000, 2060, &got), GH_OK);
    assert_string_equal(got.recipient, "second@example.com");
    mail_clear(&got);
    assert_int_equal(f->st->outbox_claim(f->st, 2000, 2060, &got), GH_NOT_FOUND);
}

/* ---- rate limits ---- */

static void test_store_rate_hit_counts_in_fixed_windows(void **state)
{
    struct fixture *f = *state;
    int64_t count = 0, end = 0;
    assert_int_equal(f->st->rate_peek(f->st, "k", 1000, &count, &end), GH_OK);
    assert_int_equal(count, 0);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1000, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(end, 1060);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1059, &count, &end), GH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1060, &count, &end), GH_OK);
    assert_int_equal(count, 1); /* a new window */
    assert_int_equal(end, 1120);
}

static void test_store_rate_refund_takes_one_back_never_below_zero(void **state)
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
    /* an ended window is left alone, and the next hit starts a new one */
    assert_int_equal(f->st->rate_refund(f->st, "k", 1060), GH_OK);
    assert_int_equal(f->st->rate_hit(f->st, "k", 60, 1060, &count, &end), GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(f->st->rate_clear(f->st, "k"), GH_OK);
    assert_int_equal(f->st->rate_peek(f->st, "k", 1061, &count, &end), GH_OK);
    assert_int_equal(count, 0);
}

/* ---- server secrets ---- */

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

/* ---- audit ---- */

static void test_store_audit_insert(void **state)
{
    struct fixture *f = *state;
    struct client_info client = {.ip = "192.0.2.7", .user_agent = "unit-test/1.0"};
    struct audit_event e = {.event = "login_failure",
                            .email = "ada@example.com",
                            .client = &client,
                            .detail = "bad_password"};
    char text[64];
    assert_int_equal(f->st->audit_insert(f->st, &e, 1234), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit_log WHERE user_id IS NULL"), 1);
    assert_int_equal(query_int(f, "SELECT created_at FROM audit_log"), 1234);
    query_text(f, "SELECT event || ' ' || ip || ' ' || detail FROM audit_log", text, sizeof text);
    assert_string_equal(text, "login_failure 192.0.2.7 bad_password");
}

#define STORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_store, teardown_store)

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_store_migrate_twice_is_idempotent),
        STORE_TEST(test_store_migrate_survives_reopen),
        STORE_TEST(test_store_migration_creates_tables),
        cmocka_unit_test(test_store_open_bad_path_fails),
        STORE_TEST(test_store_open_by_url),
        STORE_TEST(test_store_ping),
        STORE_TEST(test_store_ready_write_commits_the_time),
        STORE_TEST(test_store_user_insert_and_lookup_by_email),
        STORE_TEST(test_store_user_by_email_is_case_insensitive),
        STORE_TEST(test_store_user_by_email_unknown_not_found),
        STORE_TEST(test_store_duplicate_email_is_conflict),
        STORE_TEST(test_store_user_by_id_and_activate),
        STORE_TEST(test_store_transaction_rolls_back_on_failure),
        STORE_TEST(test_store_onetime_consume_once),
        STORE_TEST(test_store_onetime_expired_not_found),
        STORE_TEST(test_store_onetime_wrong_purpose_not_found),
        STORE_TEST(test_store_onetime_unknown_not_found),
        STORE_TEST(test_store_onetime_revoke_all_of_user_and_purpose),
        STORE_TEST(test_store_onetime_duplicate_hash_is_conflict),
        STORE_TEST(test_store_session_insert_and_lookup),
        STORE_TEST(test_store_session_expired_not_found),
        STORE_TEST(test_store_session_unknown_not_found),
        STORE_TEST(test_store_session_delete),
        STORE_TEST(test_store_session_for_unknown_user_refused),
        STORE_TEST(test_store_outbox_insert_and_claim),
        STORE_TEST(test_store_outbox_not_due_before_insert_time),
        STORE_TEST(test_store_outbox_lease_hides_from_second_claim),
        STORE_TEST(test_store_outbox_mark_sent),
        STORE_TEST(test_store_outbox_schedule_retry),
        STORE_TEST(test_store_outbox_claims_oldest_first),
        STORE_TEST(test_store_outbox_request_resolve_and_discard),
        STORE_TEST(test_store_conflict_keeps_transaction_usable),
        STORE_TEST(test_store_rate_hit_counts_in_fixed_windows),
        STORE_TEST(test_store_rate_refund_takes_one_back_never_below_zero),
        STORE_TEST(test_store_secret_is_created_once),
        STORE_TEST(test_store_audit_insert),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
