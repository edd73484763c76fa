/* What the fake store (fake_store.h) has beyond the store contract, which test_store_contract.c
 * checks on it as on SQLite and PostgreSQL: fault injection and call counts, a transaction
 * failed by a statement error, other connections during a transaction, and its SQL subset of
 * queries and statements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_store.h"
#include "util/secret.h"

struct fixture {
    struct fake_db *db;
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (!f || fake_db_new(&f->db) != GH_OK || fake_store_open(f->db, &f->st) != GH_OK ||
        f->st->migrate(f->st) != GH_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f && f->st)
        f->st->close(f->st);
    if (f)
        fake_db_free(&f->db);
    free(f);
    return 0;
}

static void make_user(struct user *u, const char *email)
{
    memset(u, 0, sizeof *u);
    secret_uuid_new(u->id);
    secret_uuid_new(u->profile.id);
    strcpy(u->email, email);
    strcpy(u->password_hash, "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA");
    strcpy(u->first_name, "Ada");
    strcpy(u->last_name, "Lovelace");
}

static int64_t query_int(struct fixture *f, const char *sql)
{
    char out[32];
    assert_int_equal(fake_db_query(f->db, sql, out, sizeof out), GH_OK);
    return strtoll(out, NULL, 10);
}

static void test_fake_fault_fails_the_chosen_calls_and_counts_them(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    make_user(&u, "ada@example.com");
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    /* The second and third lookups fail, the others answer. */
    fake_db_fail(f->db, FAKE_MEMBER(user_by_email), 1, 2, GH_UNAVAILABLE);
    assert_int_equal(f->st->user_by_email(f->st, u.email, &got), GH_OK);
    assert_int_equal(f->st->user_by_email(f->st, u.email, &got), GH_UNAVAILABLE);
    assert_int_equal(f->st->user_by_email(f->st, u.email, &got), GH_UNAVAILABLE);
    assert_int_equal(f->st->user_by_email(f->st, u.email, &got), GH_OK);
    assert_int_equal(fake_db_calls(f->db, FAKE_MEMBER(user_by_email)), 4);
    assert_int_equal(fake_db_calls(f->db, FAKE_MEMBER(user_by_id)), 0);
    /* A failed call does nothing. */
    fake_db_fail(f->db, FAKE_MEMBER(user_activate), 0, 1, GH_BUSY);
    assert_int_equal(f->st->user_activate(f->st, u.id), GH_BUSY);
    assert_int_equal(query_int(f, "SELECT is_active FROM users"), 0);
    /* Until healed. */
    fake_db_fail(f->db, FAKE_MEMBER(ping), 0, FAKE_ALWAYS, GH_UNAVAILABLE);
    for (int i = 0; i < 5; i++)
        assert_int_equal(f->st->ping(f->st), GH_UNAVAILABLE);
    fake_db_heal(f->db);
    assert_int_equal(f->st->ping(f->st), GH_OK);
}

/* As on PostgreSQL: after a statement error the transaction only fails, and its commit rolls
 * it back; a failing commit rolls back too. */
static void test_fake_statement_error_fails_the_transaction(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    struct session s = {.created_at = 1000, .expires_at = 2000};
    make_user(&u, "ada@example.com");
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    memset(s.token_hash, 'a', TOKEN_HASH_LEN);
    secret_uuid_new(s.id);
    secret_uuid_new(s.user_id); /* no such user */
    assert_int_equal(f->st->session_insert(f->st, &s), GH_INTERNAL);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_INTERNAL);
    assert_int_equal(f->st->commit(f->st), GH_INTERNAL);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 0);
    /* A taken address is an answer, not an error. */
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(f->st->user_insert(f->st, &u), GH_CONFLICT);
    assert_int_equal(f->st->user_activate(f->st, u.id), GH_OK);
    fake_db_fail(f->db, FAKE_MEMBER(commit), 0, 1, GH_UNAVAILABLE);
    assert_int_equal(f->st->commit(f->st), GH_UNAVAILABLE);
    f->st->rollback(f->st);
    assert_int_equal(query_int(f, "SELECT is_active FROM users"), 0);
    /* No transaction is left open. */
    assert_int_equal(f->st->commit(f->st), GH_INTERNAL);
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(f->st->begin(f->st), GH_INTERNAL);
    f->st->rollback(f->st);
}

struct writer {
    struct store *st;
    struct user u;
    atomic_bool done;
    gh_status status;
};

static void *insert_thread(void *arg)
{
    struct writer *w = arg;
    w->status = w->st->user_insert(w->st, &w->u);
    atomic_store(&w->done, true);
    return NULL;
}

/* Another store (another instance) reads the committed rows during a transaction and waits to
 * write until it ends. */
static void test_fake_other_connections_wait_for_a_transaction(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL;
    struct writer w = {0};
    struct user u, got;
    pthread_t thread;
    struct timespec pause = {0, 100 * 1000 * 1000};
    assert_int_equal(fake_store_open(f->db, &other), GH_OK);
    make_user(&u, "ada@example.com");
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(other->user_by_email(other, u.email, &got), GH_NOT_FOUND);
    w.st = other;
    make_user(&w.u, "ADA@example.com");
    pthread_create(&thread, NULL, insert_thread, &w);
    nanosleep(&pause, NULL);
    assert_false(atomic_load(&w.done));
    assert_int_equal(f->st->commit(f->st), GH_OK);
    pthread_join(thread, NULL);
    assert_int_equal(w.status, GH_CONFLICT);
    assert_int_equal(other->user_by_email(other, u.email, &got), GH_OK);
    other->close(other);
}

/* Closing a store ends its transaction, as closing a connection does. */
static void test_fake_close_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct store *other = NULL;
    struct user u;
    assert_int_equal(fake_store_open(f->db, &other), GH_OK);
    make_user(&u, "ada@example.com");
    assert_int_equal(other->begin(other), GH_OK);
    assert_int_equal(other->user_insert(other, &u), GH_OK);
    other->close(other);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 0);
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
}

static void test_fake_query_reads_the_subset_and_refuses_the_rest(void **state)
{
    struct fixture *f = *state;
    struct user u;
    char out[80];
    make_user(&u, "ada@example.com");
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(query_int(f, "select COUNT(*) from users where email = 'ada@example.com' "
                                  "and thumbnail is null and date_joined < 5"),
                     1);
    assert_int_equal(
        fake_db_query(f->db, "SELECT first_name || '''s ' || email FROM users", out, sizeof out),
        GH_OK);
    assert_string_equal(out, "Ada's ada@example.com");
    assert_int_equal(
        fake_db_query(f->db, "SELECT email FROM users WHERE email <> email", out, sizeof out),
        GH_INTERNAL); /* a column on the right */
    assert_int_equal(
        fake_db_query(f->db, "SELECT email FROM users WHERE email = 'x'", out, sizeof out),
        GH_NOT_FOUND);
    assert_int_equal(
        fake_db_query(f->db, "SELECT max(version) FROM schema_migrations", out, sizeof out), GH_OK);
    assert_string_equal(out, "9");
    assert_int_equal(fake_db_query(f->db, "SELECT nope FROM users", out, sizeof out), GH_INTERNAL);
    assert_int_equal(fake_db_query(f->db, "SELECT count(*) FROM nope", out, sizeof out),
                     GH_INTERNAL);
    assert_int_equal(fake_db_query(f->db, "DELETE FROM users", out, sizeof out), GH_INTERNAL);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users WHERE email IN ('bob@example.com', "
                                  "'ada@example.com') AND date_joined IN (0, 1)"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users WHERE email IN ('bob@example.com')"),
                     0);
    assert_int_equal(
        fake_db_query(f->db, "SELECT count(*) FROM users WHERE email IN ()", out, sizeof out),
        GH_INTERNAL);
}

static void insert_session(struct fixture *f, const char *user_id, const char *hash)
{
    struct session s = {.created_at = 1000, .expires_at = 5000, .last_seen_at = 1000};
    secret_uuid_new(s.id);
    strcpy(s.user_id, user_id);
    strcpy(s.token_hash, hash);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
}

static void insert_onetime(struct fixture *f, const char *user_id, const char *hash)
{
    struct onetime o = {.purpose = "reset", .created_at = 1000, .expires_at = 5000};
    strcpy(o.user_id, user_id);
    strcpy(o.token_hash, hash);
    assert_int_equal(f->st->onetime_insert(f->st, &o), GH_OK);
}

static void insert_refresh(struct fixture *f, const char *user_id, const char *hash)
{
    struct refresh_token t = {.created_at = 1000, .expires_at = 5000};
    secret_uuid_new(t.family_id);
    strcpy(t.user_id, user_id);
    strcpy(t.token_hash, hash);
    assert_int_equal(f->st->refresh_insert(f->st, &t), GH_OK);
}

static void insert_identity(struct fixture *f, const char *user_id, const char *subject)
{
    struct oauth_identity i = {.provider = "google", .created_at = 1000};
    strcpy(i.user_id, user_id);
    strcpy(i.subject, subject);
    assert_int_equal(f->st->identity_insert(f->st, &i), GH_OK);
}

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* A DELETE behind the store's back takes what references the deleted users with it, as the
 * schema's ON DELETE CASCADE does; other statements are refused. */
static void test_fake_exec_deletes_with_the_cascades(void **state)
{
    struct fixture *f = *state;
    struct user u, other;
    char sql[96];
    make_user(&u, "ada@example.com");
    make_user(&other, "bob@example.com");
    assert_int_equal(f->st->user_insert(f->st, &u), GH_OK);
    assert_int_equal(f->st->user_insert(f->st, &other), GH_OK);
    insert_session(f, u.id, HASH_A);
    insert_session(f, other.id, HASH_B);
    insert_onetime(f, u.id, HASH_A);
    insert_onetime(f, other.id, HASH_B);
    insert_refresh(f, u.id, HASH_A);
    insert_refresh(f, other.id, HASH_B);
    insert_identity(f, u.id, "abc");
    insert_identity(f, other.id, "xyz");
    snprintf(sql, sizeof sql, "DELETE FROM users WHERE id = '%s'", u.id);
    assert_int_equal(fake_db_exec(f->db, sql), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM one_time_tokens"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions WHERE token_hash = '" HASH_B "'"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities WHERE subject = 'xyz'"),
                     1);
    /* Deleting nothing is fine; other tables delete without a cascade. */
    assert_int_equal(fake_db_exec(f->db, sql), GH_OK);
    assert_int_equal(fake_db_exec(f->db, "DELETE FROM sessions"), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
    /* A profile goes with its user only; a query is no statement; nor is anything else. */
    assert_int_equal(fake_db_exec(f->db, "DELETE FROM user_profiles"), GH_INTERNAL);
    assert_int_equal(fake_db_exec(f->db, "SELECT count(*) FROM users"), GH_INTERNAL);
    assert_int_equal(fake_db_exec(f->db, "UPDATE users SET is_active = 1"), GH_INTERNAL);
    assert_int_equal(fake_db_exec(f->db, "DELETE FROM users WHERE nope = 1"), GH_INTERNAL);
    assert_int_equal(query_int(f, "SELECT count(*) FROM user_profiles"), 1);
    assert_int_equal(fake_db_exec(f->db, "DELETE FROM users"), GH_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM one_time_tokens"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM refresh_tokens"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM oauth_identities"), 0);
}

/* Before migrate there are no tables, as in a new database. */
static void test_fake_tables_exist_only_after_migrate(void **state)
{
    (void)state;
    struct fake_db *db = NULL;
    struct store *st = NULL;
    struct user u, got;
    char out[16];
    make_user(&u, "ada@example.com");
    assert_int_equal(fake_db_new(&db), GH_OK);
    assert_int_equal(fake_store_open(db, &st), GH_OK);
    assert_int_equal(st->ping(st), GH_OK);
    assert_int_equal(st->user_by_email(st, u.email, &got), GH_INTERNAL);
    assert_int_equal(fake_db_query(db, "SELECT count(*) FROM users", out, sizeof out), GH_INTERNAL);
    assert_int_equal(st->migrate(st), GH_OK);
    assert_int_equal(st->user_insert(st, &u), GH_OK);
    st->close(st);
    fake_db_free(&db);
    assert_null(db);
    /* fake_store_new: migrated, and its close frees its database. */
    assert_int_equal(fake_store_new(&st), GH_OK);
    assert_int_equal(st->user_insert(st, &u), GH_OK);
    st->close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fake_fault_fails_the_chosen_calls_and_counts_them,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fake_statement_error_fails_the_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fake_other_connections_wait_for_a_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fake_close_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fake_query_reads_the_subset_and_refuses_the_rest,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fake_exec_deletes_with_the_cascades, setup, teardown),
        cmocka_unit_test(test_fake_tables_exist_only_after_migrate),
    };
    return cmocka_run_group_tests_name("fake store", tests, NULL, NULL);
}
