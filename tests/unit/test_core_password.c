/* The password flows of core/password_change.c — change while logged in, reset by mail (the
 * request, the link's token exchanged for a change token, the new password) — on the fake store
 * (core_app.h): hashes, sessions, tokens, notices and audit rows, and what a failing database
 * leaves behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core_app.h"
#include "core/onetime.h"
#include "core/password_change.h"
#include "core/session.h"

#define NEW_PASSWORD   "quiet-meadow-copper-77"
#define WRONG_PASSWORD "plum-harbor-lantern-43"

/* An active account for ADA, logged in twice (two browsers): the principal of the first
 * session, and the second session's token. */
static void two_sessions(struct core_fixture *f, struct principal *p, char other[TOKEN_LEN + 1])
{
    struct login_result first, second;
    create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &first), GH_OK);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &second), GH_OK);
    memset(p, 0, sizeof *p);
    p->kind = PRINCIPAL_SESSION;
    assert_int_equal(session_authenticate(&f->app, first.session_token, &p->session, &p->user),
                     GH_OK);
    strcpy(other, second.session_token);
}

static gh_status change(struct core_fixture *f, const struct principal *p, const char *current,
                        const char *next)
{
    struct password_change_input in = {.current_password = current, .new_password = next};
    int retry_after = 0;
    return password_change(&f->app, p, &in, &f->client, &retry_after);
}

/* A live password-change token for ADA, as the reset link's page gets it. */
static void change_token(struct core_fixture *f, const struct user *u, char token[TOKEN_LEN + 1])
{
    char link[TOKEN_LEN + 1];
    assert_int_equal(onetime_issue(f->app.store, u->id, PURPOSE_RESET, 600, link), GH_OK);
    assert_int_equal(reset_exchange_token(&f->app, link, &f->client, token), GH_OK);
}

/* True when the store has a live token of purpose for the raw token. */
static bool token_alive(struct core_fixture *f, const char *token, const char *purpose)
{
    char hash[TOKEN_HASH_LEN + 1], user_id[UUID_LEN + 1];
    secret_token_hash(token, hash);
    gh_status st = f->app.store->onetime_peek(f->app.store, hash, purpose, time_now(), user_id);
    assert_true(st == GH_OK || st == GH_NOT_FOUND);
    return st == GH_OK;
}

/* The notice that the password changed, queued for ADA. */
static int64_t notices(struct core_fixture *f)
{
    return count_rows(f, "mail_outbox WHERE recipient = '" ADA
                         "' AND subject = 'Your password was changed'");
}

/* ==== change while logged in ==== */

static void test_change_with_a_wrong_current_password_keeps_the_hash(void **state)
{
    struct core_fixture *f = *state;
    struct principal p;
    char other[TOKEN_LEN + 1], text[80];
    two_sessions(f, &p, other);
    assert_int_equal(change(f, &p, WRONG_PASSWORD, NEW_PASSWORD), GH_ERR_WRONG_PASSWORD);
    assert_string_equal(user_at(f, ADA).password_hash, p.user.password_hash);
    assert_true(session_alive(f, other));
    assert_int_equal(notices(f), 0);
    /* Counted as a failed login is. */
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), 1);
    query_text(f, text, sizeof text,
               "SELECT detail FROM audit_log WHERE event = 'password_change_failure'");
    assert_string_equal(text, "wrong password");
}

static void test_change_stores_the_new_hash_and_ends_the_other_sessions(void **state)
{
    struct core_fixture *f = *state;
    struct principal p;
    struct login_result out;
    char other[TOKEN_LEN + 1], reset[TOKEN_LEN + 1], text[80];
    two_sessions(f, &p, other);
    assert_int_equal(onetime_issue(f->app.store, p.user.id, PURPOSE_RESET, 600, reset), GH_OK);
    assert_int_equal(change(f, &p, ADA_PASSWORD, NEW_PASSWORD), GH_OK);
    struct user u = user_at(f, ADA);
    assert_int_equal(password_verify(NEW_PASSWORD, u.password_hash), GH_OK);
    assert_int_equal(password_verify(ADA_PASSWORD, u.password_hash), GH_ERR_INVALID_CREDENTIALS);
    /* The caller's session stays; every other one ends, and so does a pending reset link. */
    assert_false(session_alive(f, other));
    assert_int_equal(count_rows(f, "sessions"), 1);
    query_text(f, text, sizeof text, "SELECT token_hash FROM sessions");
    assert_string_equal(text, p.session.token_hash);
    assert_false(token_alive(f, reset, PURPOSE_RESET));
    assert_int_equal(notices(f), 1);
    query_text(f, text, sizeof text,
               "SELECT user_id FROM audit_log WHERE event = 'password_change'");
    assert_string_equal(text, u.id);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_ERR_INVALID_CREDENTIALS);
    assert_int_equal(login(f, ADA, NEW_PASSWORD, NULL, &out), GH_OK);
}

static void test_change_refuses_a_weak_new_password_before_counting(void **state)
{
    struct core_fixture *f = *state;
    struct principal p;
    char other[TOKEN_LEN + 1];
    two_sessions(f, &p, other);
    assert_int_equal(change(f, &p, WRONG_PASSWORD, "short"), GH_ERR_PASSWORD_TOO_SHORT);
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), 0);
    assert_string_equal(user_at(f, ADA).password_hash, p.user.password_hash);
    assert_true(session_alive(f, other));
}

/* The new hash, the revoked tokens, the notice and the audit row commit together or not at
 * all. */
static void test_change_keeps_the_old_password_when_a_write_fails(void **state)
{
    struct core_fixture *f = *state;
    struct principal p;
    char other[TOKEN_LEN + 1], reset[TOKEN_LEN + 1];
    two_sessions(f, &p, other);
    assert_int_equal(onetime_issue(f->app.store, p.user.id, PURPOSE_RESET, 600, reset), GH_OK);
    fake_db_fail(f->db, FAKE_MEMBER(outbox_insert), 0, 1, GH_UNAVAILABLE);
    assert_int_equal(change(f, &p, ADA_PASSWORD, NEW_PASSWORD), GH_UNAVAILABLE);
    assert_string_equal(user_at(f, ADA).password_hash, p.user.password_hash);
    assert_true(token_alive(f, reset, PURPOSE_RESET));
    assert_int_equal(notices(f), 0);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'password_change'"), 0);
    /* The other sessions were ended before the attempt and stay ended. */
    assert_false(session_alive(f, other));
}

/* ==== reset by mail ==== */

/* The same request and audit row for every address; the outbox worker mails a link only to an
 * active account. */
static void test_reset_request_does_the_same_for_every_address(void **state)
{
    struct core_fixture *f = *state;
    int retry_after = 0;
    struct mail m;
    char text[80];
    create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(reset_request(&f->app, ADA, &f->client, &retry_after), GH_OK);
    assert_int_equal(reset_request(&f->app, "nobody@example.com", &f->client, &retry_after), GH_OK);
    assert_int_equal(count_rows(f, "mail_outbox WHERE request = 'reset'"), 2);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'password_reset_request' AND "
                                   "user_id IS NULL"),
                     2);
    query_text(f, text, sizeof text,
               "SELECT email FROM audit_log WHERE event = 'password_reset_request'");
    assert_string_equal(text, ADA);
    assert_int_equal(resolve_next_request(f, &m), GH_OK);
    assert_string_equal(m.recipient, ADA);
    assert_string_equal(m.subject, "Reset your password");
    mail_clear(&m);
    assert_int_equal(resolve_next_request(f, &m), GH_NOT_FOUND);
    assert_int_equal(count_rows(f, "mail_outbox"), 1); /* the unknown address's is dropped */
}

static void test_reset_request_is_limited_per_address(void **state)
{
    struct core_fixture *f = *state;
    int retry_after = 0;
    for (int i = 0; i < f->cfg.rate_email_max; i++)
        assert_int_equal(reset_request(&f->app, ADA, &f->client, &retry_after), GH_OK);
    assert_int_equal(reset_request(&f->app, ADA, &f->client, &retry_after), GH_ERR_RATE_LIMITED);
    assert_true(retry_after > 0);
    assert_int_equal(count_rows(f, "mail_outbox"), f->cfg.rate_email_max);
    assert_int_equal(reset_request(&f->app, "bob@example.com", &f->client, &retry_after), GH_OK);
}

static void test_reset_exchange_consumes_the_link_token_once(void **state)
{
    struct core_fixture *f = *state;
    char link[TOKEN_LEN + 1], token[TOKEN_LEN + 1], again[TOKEN_LEN + 1];
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(onetime_issue(f->app.store, u.id, PURPOSE_RESET, 600, link), GH_OK);
    assert_int_equal(reset_exchange_token(&f->app, link, &f->client, token), GH_OK);
    assert_true(token_alive(f, token, PURPOSE_PASSWORD_CHANGE));
    assert_false(token_alive(f, link, PURPOSE_RESET));
    assert_int_equal(reset_exchange_token(&f->app, link, &f->client, again), GH_ERR_INVALID_TOKEN);
    /* A confirmation token is not a reset link. */
    assert_int_equal(onetime_issue(f->app.store, u.id, PURPOSE_CONFIRM, 600, link), GH_OK);
    assert_int_equal(reset_exchange_token(&f->app, link, &f->client, again), GH_ERR_INVALID_TOKEN);
}

static void test_reset_sets_the_password_and_consumes_the_token_once(void **state)
{
    struct core_fixture *f = *state;
    struct principal p;
    struct login_result out;
    char other[TOKEN_LEN + 1], token[TOKEN_LEN + 1], text[80];
    two_sessions(f, &p, other);
    change_token(f, &p.user, token);
    assert_int_equal(password_reset(&f->app, token, NEW_PASSWORD, &f->client), GH_OK);
    assert_int_equal(password_verify(NEW_PASSWORD, user_at(f, ADA).password_hash), GH_OK);
    assert_int_equal(count_rows(f, "sessions"), 0); /* every session ends */
    assert_int_equal(notices(f), 1);
    query_text(f, text, sizeof text,
               "SELECT user_id FROM audit_log WHERE event = 'password_reset'");
    assert_string_equal(text, p.user.id);
    assert_int_equal(password_reset(&f->app, token, "another-long-secret-99", &f->client),
                     GH_ERR_INVALID_TOKEN);
    assert_int_equal(password_verify(NEW_PASSWORD, user_at(f, ADA).password_hash), GH_OK);
    assert_int_equal(login(f, ADA, NEW_PASSWORD, NULL, &out), GH_OK);
}

/* The token is only looked at until the password passes the policy: a weak one burns nothing. */
static void test_reset_with_a_weak_password_keeps_the_token(void **state)
{
    struct core_fixture *f = *state;
    char token[TOKEN_LEN + 1];
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    change_token(f, &u, token);
    assert_int_equal(password_reset(&f->app, token, "short", &f->client),
                     GH_ERR_PASSWORD_TOO_SHORT);
    assert_int_equal(password_reset(&f->app, token, "ada-was-here-2024", &f->client),
                     GH_ERR_PASSWORD_CONTAINS_EMAIL);
    assert_true(token_alive(f, token, PURPOSE_PASSWORD_CHANGE));
    assert_string_equal(user_at(f, ADA).password_hash, u.password_hash);
    assert_int_equal(password_reset(&f->app, token, NEW_PASSWORD, &f->client), GH_OK);
}

static void test_reset_refuses_unknown_and_malformed_tokens(void **state)
{
    struct core_fixture *f = *state;
    char token[TOKEN_LEN + 1];
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    secret_token_new(token);
    assert_int_equal(password_reset(&f->app, token, NEW_PASSWORD, &f->client),
                     GH_ERR_INVALID_TOKEN);
    assert_int_equal(password_reset(&f->app, "garbage", NEW_PASSWORD, &f->client),
                     GH_ERR_INVALID_TOKEN);
    assert_int_equal(password_reset(&f->app, NULL, NEW_PASSWORD, &f->client), GH_ERR_INVALID_TOKEN);
    /* The reset link itself is not a change token. */
    assert_int_equal(onetime_issue(f->app.store, u.id, PURPOSE_RESET, 600, token), GH_OK);
    assert_int_equal(password_reset(&f->app, token, NEW_PASSWORD, &f->client),
                     GH_ERR_INVALID_TOKEN);
    assert_string_equal(user_at(f, ADA).password_hash, u.password_hash);
}

/* A failed commit keeps the token, so the page can post again. */
static void test_reset_keeps_the_token_when_the_commit_fails(void **state)
{
    struct core_fixture *f = *state;
    char token[TOKEN_LEN + 1];
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    change_token(f, &u, token);
    fake_db_fail(f->db, FAKE_MEMBER(commit), 0, 1, GH_UNAVAILABLE);
    assert_int_equal(password_reset(&f->app, token, NEW_PASSWORD, &f->client), GH_UNAVAILABLE);
    assert_true(token_alive(f, token, PURPOSE_PASSWORD_CHANGE));
    assert_string_equal(user_at(f, ADA).password_hash, u.password_hash);
    assert_int_equal(notices(f), 0);
    assert_int_equal(password_reset(&f->app, token, NEW_PASSWORD, &f->client), GH_OK);
}

/* The whole way: request, the mailed link, the change page's token, the new password. */
static void test_reset_link_from_the_mail_leads_to_a_new_password(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    struct mail m;
    int retry_after = 0;
    char link[TOKEN_LEN + 1], token[TOKEN_LEN + 1];
    create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(reset_request(&f->app, ADA, &f->client, &retry_after), GH_OK);
    assert_int_equal(resolve_next_request(f, &m), GH_OK);
    link_token(&m, link);
    mail_clear(&m);
    assert_int_equal(reset_exchange_token(&f->app, link, &f->client, token), GH_OK);
    assert_int_equal(password_reset(&f->app, token, NEW_PASSWORD, &f->client), GH_OK);
    assert_int_equal(login(f, ADA, NEW_PASSWORD, NULL, &out), GH_OK);
}

int main(void)
{
#define CORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, core_setup, core_teardown)
    const struct CMUnitTest tests[] = {
        CORE_TEST(test_change_with_a_wrong_current_password_keeps_the_hash),
        CORE_TEST(test_change_stores_the_new_hash_and_ends_the_other_sessions),
        CORE_TEST(test_change_refuses_a_weak_new_password_before_counting),
        CORE_TEST(test_change_keeps_the_old_password_when_a_write_fails),
        CORE_TEST(test_reset_request_does_the_same_for_every_address),
        CORE_TEST(test_reset_request_is_limited_per_address),
        CORE_TEST(test_reset_exchange_consumes_the_link_token_once),
        CORE_TEST(test_reset_sets_the_password_and_consumes_the_token_once),
        CORE_TEST(test_reset_with_a_weak_password_keeps_the_token),
        CORE_TEST(test_reset_refuses_unknown_and_malformed_tokens),
        CORE_TEST(test_reset_keeps_the_token_when_the_commit_fails),
        CORE_TEST(test_reset_link_from_the_mail_leads_to_a_new_password),
    };
#undef CORE_TEST
    return cmocka_run_group_tests_name("core passwords", tests, core_group_setup,
                                       core_group_teardown);
}
