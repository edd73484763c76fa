/* One-time tokens on the SQLite store (core/onetime.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/onetime.h"
#include "util/timeutil.h"

struct fixture {
    char dir[64];
    char path[128];
    struct store *st;
    struct user user;
};

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

static int setup_store(void **state)
{
    if (sodium_init() < 0)
        return -1;
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/gh-onetime-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/gatehouse.db", f->dir);
    make_user(&f->user, "ada@example.com");
    if (store_sqlite_open(f->path, &f->st) != GH_OK || f->st->migrate(f->st) != GH_OK ||
        f->st->user_insert(f->st, &f->user) != GH_OK) {
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

/* Reads the stored rows of one_time_tokens: count and the first token_hash / expires_at. */
static int count_rows(struct fixture *f, char hash[TOKEN_HASH_LEN + 1], int64_t *expires,
                      int64_t *created)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int n = 0;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT token_hash, expires_at, created_at FROM "
                                        "one_time_tokens ORDER BY rowid",
                                        -1, &s, NULL),
                     SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n++ == 0) {
            snprintf(hash, TOKEN_HASH_LEN + 1, "%s", (const char *)sqlite3_column_text(s, 0));
            *expires = sqlite3_column_int64(s, 1);
            *created = sqlite3_column_int64(s, 2);
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void test_onetime_issue_gives_wellformed_token(void **state)
{
    struct fixture *f = *state;
    char token[TOKEN_LEN + 1];
    assert_int_equal(onetime_issue(f->st, f->user.id, PURPOSE_CONFIRM, 1800, token), GH_OK);
    assert_int_equal(strlen(token), TOKEN_LEN);
    assert_true(secret_token_is_wellformed(token));
}

static void test_onetime_token_is_stored_hashed(void **state)
{
    struct fixture *f = *state;
    char token[TOKEN_LEN + 1], stored[TOKEN_HASH_LEN + 1], want[TOKEN_HASH_LEN + 1];
    int64_t expires = 0, created = 0;
    assert_int_equal(onetime_issue(f->st, f->user.id, PURPOSE_CONFIRM, 1800, token), GH_OK);
    assert_int_equal(count_rows(f, stored, &expires, &created), 1);
    assert_string_not_equal(stored, token);
    assert_null(strstr(stored, token));
    secret_token_hash(token, want);
    assert_string_equal(stored, want);
    assert_int_equal(expires - created, 1800);
    int64_t now = time_now();
    assert_true(created >= now - 5 && created <= now);
}

static void test_onetime_consume_returns_user_once(void **state)
{
    struct fixture *f = *state;
    char token[TOKEN_LEN + 1], uid[UUID_LEN + 1] = "";
    assert_int_equal(onetime_issue(f->st, f->user.id, PURPOSE_CONFIRM, 1800, token), GH_OK);
    assert_int_equal(onetime_consume(f->st, token, PURPOSE_CONFIRM, uid), GH_OK);
    assert_string_equal(uid, f->user.id);
    assert_int_equal(onetime_consume(f->st, token, PURPOSE_CONFIRM, uid), GH_ERR_INVALID_TOKEN);
}

static void test_onetime_consume_revokes_other_tokens_of_same_purpose(void **state)
{
    struct fixture *f = *state;
    char t1[TOKEN_LEN + 1], t2[TOKEN_LEN + 1], t3[TOKEN_LEN + 1], other[TOKEN_LEN + 1];
    char uid[UUID_LEN + 1];
    struct user bob;
    make_user(&bob, "bob@example.com");
    assert_int_equal(f->st->user_insert(f->st, &bob), GH_OK);
    assert_int_equal(onetime_issue(f->st, f->user.id, PURPOSE_CONFIRM, 1800, t1), GH_OK);
    assert_int_equal(onetime_issue(f->st, f->user.id, PURPOSE_CONFIRM, 1800, t2), GH_OK);
    assert_int_equal(onetime_issue(f->st, f->user.id, "reset", 1800, t3), GH_OK);
    assert_int_equal(onetime_issue(f->st, bob.id, PURPOSE_CONFIRM, 1800, other), GH_OK);
    assert_int_equal(onetime_consume(f->st, t2, PURPOSE_CONFIRM, uid), GH_OK);
    assert_int_equal(onetime_consume(f->st, t1, PURPOSE_CONFIRM, uid), GH_ERR_INVALID_TOKEN);
    /* Another purpose and another user's tokens are untouched. */
    assert_int_equal(onetime_consume(f->st, t3, "reset", uid), GH_OK);
    assert_string_equal(uid, f->user.id);
    assert_int_equal(onetime_consume(f->st, other, PURPOSE_CONFIRM, uid), GH_OK);
    assert_string_equal(uid, bob.id);
}

static void test_onetime_wrong_purpose_is_invalid(void **state)
{
    struct fixture *f = *state;
    char token[TOKEN_LEN + 1], uid[UUID_LEN + 1];
    assert_int_equal(onetime_issue(f->st, f->user.id, PURPOSE_CONFIRM, 1800, token), GH_OK);
    assert_int_equal(onetime_consume(f->st, token, "reset", uid), GH_ERR_INVALID_TOKEN);
    assert_int_equal(onetime_consume(f->st, token, PURPOSE_CONFIRM, uid), GH_OK);
}

static void test_onetime_expired_is_invalid(void **state)
{
    struct fixture *f = *state;
    char token[TOKEN_LEN + 1], uid[UUID_LEN + 1];
    /* A negative lifetime makes a token that expired already. */
    assert_int_equal(onetime_issue(f->st, f->user.id, PURPOSE_CONFIRM, -10, token), GH_OK);
    assert_int_equal(onetime_consume(f->st, token, PURPOSE_CONFIRM, uid), GH_ERR_INVALID_TOKEN);
}

static void test_onetime_malformed_or_unknown_is_invalid(void **state)
{
    struct fixture *f = *state;
    char uid[UUID_LEN + 1], unknown[TOKEN_LEN + 1];
    assert_int_equal(onetime_consume(f->st, NULL, PURPOSE_CONFIRM, uid), GH_ERR_INVALID_TOKEN);
    assert_int_equal(onetime_consume(f->st, "", PURPOSE_CONFIRM, uid), GH_ERR_INVALID_TOKEN);
    assert_int_equal(onetime_consume(f->st, "short", PURPOSE_CONFIRM, uid), GH_ERR_INVALID_TOKEN);
    assert_int_equal(onetime_consume(f->st, "' OR 1=1 --aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                     PURPOSE_CONFIRM, uid),
                     GH_ERR_INVALID_TOKEN);
    secret_token_new(unknown);
    assert_int_equal(onetime_consume(f->st, unknown, PURPOSE_CONFIRM, uid), GH_ERR_INVALID_TOKEN);
}

static void test_onetime_stored_hash_is_not_a_token(void **state)
{
    struct fixture *f = *state;
    char token[TOKEN_LEN + 1], stored[TOKEN_HASH_LEN + 1], uid[UUID_LEN + 1];
    int64_t expires, created;
    assert_int_equal(onetime_issue(f->st, f->user.id, PURPOSE_CONFIRM, 1800, token), GH_OK);
    assert_int_equal(count_rows(f, stored, &expires, &created), 1);
    /* Someone who reads the database cannot use what is stored there. */
    assert_int_equal(onetime_consume(f->st, stored, PURPOSE_CONFIRM, uid), GH_ERR_INVALID_TOKEN);
}

#define STORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_store, teardown_store)

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_onetime_issue_gives_wellformed_token),
        STORE_TEST(test_onetime_token_is_stored_hashed),
        STORE_TEST(test_onetime_consume_returns_user_once),
        STORE_TEST(test_onetime_consume_revokes_other_tokens_of_same_purpose),
        STORE_TEST(test_onetime_wrong_purpose_is_invalid),
        STORE_TEST(test_onetime_expired_is_invalid),
        STORE_TEST(test_onetime_malformed_or_unknown_is_invalid),
        STORE_TEST(test_onetime_stored_hash_is_not_a_token),
    };
    return cmocka_run_group_tests_name("onetime", tests, NULL, NULL);
}
