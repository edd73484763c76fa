/* What the fake store (fake_store.h) has beyond the store contract, which test_store_contract.c
 * checks on it as on SQLite and PostgreSQL: fault injection and call counts, a transaction
 * failed by a statement error, other connections during a transaction, and its SQL subset. */
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
    assert_string_equal(out, "5");
    assert_int_equal(fake_db_query(f->db, "SELECT nope FROM users", out, sizeof out), GH_INTERNAL);
    assert_int_equal(fake_db_query(f->db, "SELECT count(*) FROM nope", out, sizeof out),
                     GH_INTERNAL);
    assert_int_equal(fake_db_query(f->db, "DELETE FROM users", out, sizeof out), GH_INTERNAL);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
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
        cmocka_unit_test(test_fake_tables_exist_only_after_migrate),
    };
    return cmocka_run_group_tests_name("fake store", tests, NULL, NULL);
}
