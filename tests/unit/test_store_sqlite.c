/* What only the SQLite store (store/sqlite/) has: a database path that cannot be opened,
 * parameter lists checked against the statement, and waiting for another connection's lock. The
 * scenarios every backend shares are in test_store_contract.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "store/sqlite/sqlite.h"
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
    if (store_sqlite_open(f->path, &f->st) != GH_OK) {
        rmdir(f->dir);
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

static void test_sqlite_open_bad_path_fails(void **state)
{
    (void)state;
    struct store *st = NULL;
    assert_int_not_equal(store_sqlite_open("/nonexistent-dir/sub/gatehouse.db", &st), GH_OK);
    assert_int_not_equal(store_open("sqlite:/nonexistent-dir/sub/gatehouse.db", &st), GH_OK);
}

/* A statement of the tests' own, in the last slot of the connection group: no statement of
 * the store uses that slot, so the cache of prepared statements stays right. */
#define PROBE (SQL_GROUP_MAX - 1)
static const char *const probe_sql[SQL_GROUP_MAX] = {[PROBE] = "SELECT ?1 + ?2"};
static const struct sql_statements probe = {SQL_CONN, "probe", SQL_GROUP_MAX, probe_sql};

/* A list that outgrew SQL_PARAMS_MAX, or that binds more or fewer parameters than the statement
 * has, is refused with GH_INTERNAL before the statement runs; one that fits runs. */
static void test_sqlite_parameter_lists_are_bounded(void **state)
{
    struct fixture *f = *state;
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_int(&p, 40);
    assert_int_equal(sq_exec(f->st, &probe, PROBE, &p, false), GH_INTERNAL); /* one short */
    sql_param_int(&p, 2);
    assert_int_equal(sq_query(f->st, &probe, PROBE, &p, &row), GH_OK);
    assert_int_equal(sql_int(&row, 0), 42);
    sql_done(&row);
    sql_param_int(&p, 3);
    assert_int_equal(sq_exec(f->st, &probe, PROBE, &p, false), GH_INTERNAL); /* one too many */
    while (p.n < SQL_PARAMS_MAX)
        sql_param_int(&p, 0);
    assert_false(p.overflow);
    sql_param_text(&p, "past the end");
    assert_true(p.overflow);
    assert_int_equal(p.n, SQL_PARAMS_MAX);
    assert_int_equal(sq_exec(f->st, &probe, PROBE, &p, false), GH_INTERNAL);
    assert_int_equal(sq_query(f->st, &probe, PROBE, &p, &row), GH_INTERNAL);
    assert_int_equal(sq_exec(f->st, &probe, SQL_GROUP_MAX, NULL, false), GH_INTERNAL);
    assert_int_equal(f->st->ping(f->st), GH_OK);
}

/* Another connection to the same file that holds the write lock for a while, then commits. */
struct lock_holder {
    sqlite3 *db;
    atomic_bool committed;
};

static void *commit_after_a_while(void *arg)
{
    struct lock_holder *h = arg;
    usleep(30000);
    atomic_store(&h->committed, true);
    if (sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        atomic_store(&h->committed, false);
    return NULL;
}

/* A write while another connection (another thread, or the CLI) holds the write lock waits
 * for the lock and then succeeds, rather than failing busy. */
static void test_sqlite_a_write_waits_for_another_connections_lock(void **state)
{
    struct fixture *f = *state;
    struct lock_holder h = {0};
    pthread_t t;
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(sqlite3_open(f->path, &h.db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(pthread_create(&t, NULL, commit_after_a_while, &h), 0);
    assert_int_equal(f->st->ready_write(f->st, 1700000000), GH_OK);
    assert_true(atomic_load(&h.committed)); /* it could only write after the other commit */
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(sqlite3_close(h.db), SQLITE_OK);
}

/* ---- the last lookups of the session check (store/sqlite/conn.c): the session with its user,
 * and the user by id that a Bearer request reads ---- */

#define SESSION_HASH "5e55105e55105e55105e55105e55105e55105e55105e55105e55105e55105e55"
#define T0           ((int64_t)1700000000)

/* A migrated store with one active user and one session of it, expiring at T0 + 100. */
static void one_session(struct fixture *f, struct user *u)
{
    memset(u, 0, sizeof *u);
    secret_uuid_new(u->id);
    strcpy(u->email, "ada@example.com");
    strcpy(u->password_hash, "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA");
    strcpy(u->first_name, "Ada");
    strcpy(u->last_name, "Lovelace");
    u->is_active = true;
    u->date_joined = T0;
    secret_uuid_new(u->profile.id);
    struct session s = {.created_at = T0, .expires_at = T0 + 100, .last_seen_at = T0};
    strcpy(s.token_hash, SESSION_HASH);
    secret_uuid_new(s.id);
    strcpy(s.user_id, u->id);
    assert_int_equal(f->st->migrate(f->st), GH_OK);
    assert_int_equal(f->st->user_insert(f->st, u), GH_OK);
    assert_int_equal(f->st->session_insert(f->st, &s), GH_OK);
}

static gh_status lookup(struct fixture *f, int64_t now, struct session *s, struct user *u)
{
    return f->st->session_lookup(f->st, SESSION_HASH, now, s, u);
}

/* Runs sql on a connection of its own, as the CLI or an operator's sqlite3 would. */
static void exec_elsewhere(struct fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* This program run as EXEC_ELSEWHERE path sql: runs sql on the database at path, as another
 * process. */
#define EXEC_ELSEWHERE "--exec-elsewhere"
static const char *this_program; /* argv[0] */

static int exec_in_this_process(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok ? 0 : 1;
}

/* A lookup answered from the last one must still see what any other connection committed
 * since: a deactivation, a profile change, the session's end. */
static void test_sqlite_session_lookup_sees_other_connections_commits(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    struct session s;
    one_session(f, &u);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(lookup(f, T0, &s, &got), GH_OK);
        assert_true(got.is_active);
        assert_string_equal(got.first_name, "Ada");
        assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
        assert_true(got.is_active);
    }
    exec_elsewhere(f, "UPDATE users SET is_active = 0, first_name = 'Grace'");
    assert_int_equal(lookup(f, T0, &s, &got), GH_OK);
    assert_false(got.is_active);
    assert_string_equal(got.first_name, "Grace");
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_false(got.is_active);
    exec_elsewhere(f, "UPDATE user_profiles SET phone_number = '+4915112345678'");
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.profile.phone_number, "+4915112345678");
    exec_elsewhere(f, "DELETE FROM sessions");
    assert_int_equal(lookup(f, T0, &s, &got), GH_NOT_FOUND);
}

/* ... also when another process commits, through its own mapping of the wal-index, and after
 * the WAL was checkpointed and started again from its beginning. */
static void test_sqlite_session_lookup_sees_other_processes_commits(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    struct session s;
    int status = -1;
    pid_t child = -1;
    char *argv[] = {(char *)this_program, EXEC_ELSEWHERE, f->path, "UPDATE users SET is_active = 0",
                    NULL};
    one_session(f, &u);
    assert_int_equal(lookup(f, T0, &s, &got), GH_OK);
    assert_true(got.is_active);
    assert_int_equal(posix_spawn(&child, this_program, NULL, NULL, argv, environ), 0);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(lookup(f, T0, &s, &got), GH_OK);
    assert_false(got.is_active);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_false(got.is_active);
    exec_elsewhere(f, "PRAGMA wal_checkpoint(TRUNCATE)");
    assert_int_equal(lookup(f, T0, &s, &got), GH_OK);
    assert_false(got.is_active);
    exec_elsewhere(f, "UPDATE users SET is_active = 1, first_name = 'Grace'");
    assert_int_equal(lookup(f, T0, &s, &got), GH_OK);
    assert_true(got.is_active);
    assert_string_equal(got.first_name, "Grace");
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.first_name, "Grace");
}

/* Another connection renames the user again and again, checkpointing the WAL now and then, and
 * tells how far it got after each commit. */
struct renamer {
    const char *path;
    atomic_int committed; /* the number in the last committed name */
    atomic_bool failed;
};

enum { RENAMES = 1000, RENAMES_PER_CHECKPOINT = 250 };

static void *rename_again_and_again(void *arg)
{
    struct renamer *r = arg;
    sqlite3 *db = NULL;
    if (sqlite3_open(r->path, &db) != SQLITE_OK)
        atomic_store(&r->failed, true);
    sqlite3_busy_timeout(db, 5000);
    for (int i = 1; i <= RENAMES && !atomic_load(&r->failed); i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "UPDATE users SET first_name = 'n%d'", i);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
            (i % RENAMES_PER_CHECKPOINT == 0 &&
             sqlite3_exec(db, "PRAGMA wal_checkpoint(RESTART)", NULL, NULL, NULL) != SQLITE_OK))
            atomic_store(&r->failed, true);
        atomic_store(&r->committed, i);
    }
    sqlite3_close(db);
    return NULL;
}

/* Under a stream of other commits, every lookup sees at least what was committed before it
 * began: a remembered answer is never older than the last commit. */
static void test_sqlite_session_lookup_is_never_older_than_a_commit(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    struct session s;
    struct renamer r = {.path = f->path};
    pthread_t t;
    int lookups = 0;
    one_session(f, &u);
    assert_int_equal(pthread_create(&t, NULL, rename_again_and_again, &r), 0);
    for (int before = 0; before < RENAMES && !atomic_load(&r.failed); lookups++) {
        before = atomic_load(&r.committed);
        gh_status status =
            lookups % 2 ? f->st->user_by_id(f->st, u.id, &got) : lookup(f, T0, &s, &got);
        assert_int_equal(status, GH_OK);
        int seen = got.first_name[0] == 'n' ? atoi(got.first_name + 1) : 0;
        if (seen < before)
            fail_msg("lookup %d saw n%d after n%d was committed", lookups, seen, before);
        sched_yield(); /* the renamer's turn, also where threads take turns (valgrind) */
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_false(atomic_load(&r.failed));
    assert_int_equal(lookup(f, T0, &s, &got), GH_OK);
    assert_string_equal(got.first_name, "n1000");
}

/* ... and what this connection committed itself. */
static void test_sqlite_session_lookup_sees_its_own_commits(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    struct session s;
    one_session(f, &u);
    assert_int_equal(lookup(f, T0, &s, &got), GH_OK);
    assert_int_equal(s.last_seen_at, T0);
    assert_int_equal(f->st->session_touch(f->st, SESSION_HASH, T0 + 7), GH_OK);
    assert_int_equal(lookup(f, T0 + 7, &s, &got), GH_OK);
    assert_int_equal(s.last_seen_at, T0 + 7);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_int_equal(f->st->user_set_password(f->st, u.id, "!unusable"), GH_OK);
    assert_int_equal(lookup(f, T0 + 7, &s, &got), GH_OK);
    assert_string_equal(got.password_hash, "!unusable");
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.password_hash, "!unusable");
    assert_int_equal(f->st->session_delete(f->st, SESSION_HASH), GH_OK);
    assert_int_equal(lookup(f, T0 + 7, &s, &got), GH_NOT_FOUND);
}

/* The expiry is checked at every lookup, also one answered from the last; inside a transaction
 * the connection's own uncommitted writes count, and after a rollback they are gone again. */
static void test_sqlite_session_lookup_checks_expiry_and_transactions(void **state)
{
    struct fixture *f = *state;
    struct user u, got;
    struct session s;
    one_session(f, &u);
    assert_int_equal(lookup(f, T0 + 99, &s, &got), GH_OK);
    assert_int_equal(lookup(f, T0 + 100, &s, &got), GH_NOT_FOUND);
    assert_int_equal(lookup(f, T0 + 99, &s, &got), GH_OK);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_int_equal(f->st->begin(f->st), GH_OK);
    assert_int_equal(f->st->session_delete(f->st, SESSION_HASH), GH_OK);
    assert_int_equal(f->st->user_set_password(f->st, u.id, "!unusable"), GH_OK);
    assert_int_equal(lookup(f, T0 + 99, &s, &got), GH_NOT_FOUND);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.password_hash, "!unusable");
    f->st->rollback(f->st);
    assert_int_equal(lookup(f, T0 + 99, &s, &got), GH_OK);
    assert_string_equal(got.password_hash, u.password_hash);
    assert_int_equal(f->st->user_by_id(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.password_hash, u.password_hash);
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], EXEC_ELSEWHERE))
        return exec_in_this_process(argv[2], argv[3]);
    this_program = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_open_bad_path_fails),
        cmocka_unit_test_setup_teardown(test_sqlite_parameter_lists_are_bounded, setup_store,
                                        teardown_store),
        cmocka_unit_test_setup_teardown(test_sqlite_a_write_waits_for_another_connections_lock,
                                        setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_sqlite_session_lookup_sees_other_connections_commits,
                                        setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_sqlite_session_lookup_sees_other_processes_commits,
                                        setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_sqlite_session_lookup_is_never_older_than_a_commit,
                                        setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_sqlite_session_lookup_sees_its_own_commits,
                                        setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_sqlite_session_lookup_checks_expiry_and_transactions,
                                        setup_store, teardown_store),
    };
    return cmocka_run_group_tests_name("store sqlite", tests, NULL, NULL);
}
