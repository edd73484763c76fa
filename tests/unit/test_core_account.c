/* The account flows of core/account.c — register, confirm, login, logout — on the fake store
 * (core_app.h): what each writes and answers, the rate-limit charge of a login, and what a
 * failing database leaves behind. */
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
#include "core/session.h"

#define WRONG_PASSWORD "plum-harbor-lantern-43"

/* ==== register ==== */

static void test_register_creates_an_inactive_user_a_confirm_request_and_an_audit_row(void **state)
{
    struct core_fixture *f = *state;
    char text[80];
    struct user u = register_account(f, ADA, ADA_PASSWORD);
    assert_false(u.is_active);
    assert_false(u.is_staff);
    assert_string_equal(u.first_name, "Ada");
    assert_int_equal(password_verify(ADA_PASSWORD, u.password_hash), GH_OK);
    assert_int_equal(count_rows(f, "users"), 1);
    assert_int_equal(count_rows(f, "mail_outbox"), 1);
    query_text(f, text, sizeof text, "SELECT request || ' ' || recipient FROM mail_outbox");
    assert_string_equal(text, MAIL_REQUEST_CONFIRM " " ADA);
    assert_int_equal(count_rows(f, "audit_log"), 1);
    query_text(f, text, sizeof text, "SELECT user_id FROM audit_log WHERE event = 'register'");
    assert_string_equal(text, u.id);
    query_text(f, text, sizeof text, "SELECT ip FROM audit_log WHERE event = 'register'");
    assert_string_equal(text, CLIENT_IP);
}

static void test_register_stores_the_address_lower_cased(void **state)
{
    struct core_fixture *f = *state;
    struct user u = register_account(f, "Ada@Example.COM", ADA_PASSWORD);
    assert_string_equal(u.email, ADA);
    assert_int_equal(count_rows(f, "users WHERE email = '" ADA "'"), 1);
}

/* A taken address gets the answer of a new one; only its owner learns, by mail. */
static void test_register_taken_address_answers_ok_and_requests_the_registered_mail(void **state)
{
    struct core_fixture *f = *state;
    struct user before = register_account(f, ADA, ADA_PASSWORD);
    struct registration again = {"ADA@example.com", "quiet-meadow-copper-77", "Eve", "Mallory"};
    char text[80];
    assert_int_equal(account_register(&f->app, &again, &f->client), GH_OK);
    assert_int_equal(count_rows(f, "users"), 1);
    assert_int_equal(count_rows(f, "user_profiles"), 1);
    struct user after = user_at(f, ADA);
    assert_string_equal(after.password_hash, before.password_hash);
    assert_string_equal(after.first_name, "Ada");
    assert_int_equal(count_rows(f, "mail_outbox WHERE request = 'registered'"), 1);
    query_text(f, text, sizeof text,
               "SELECT recipient FROM mail_outbox WHERE request = 'registered'");
    assert_string_equal(text, ADA);
    /* Audited without a user: the row is the same whoever owns the address. */
    query_text(f, text, sizeof text,
               "SELECT user_id FROM audit_log WHERE event = 'register_existing'");
    assert_string_equal(text, "(null)");
}

static void test_register_taken_address_is_email_taken_when_revealed(void **state)
{
    struct core_fixture *f = *state;
    register_account(f, ADA, ADA_PASSWORD);
    f->cfg.register_reveals_existing = true;
    struct registration again = {ADA, "quiet-meadow-copper-77", "Eve", "Mallory"};
    assert_int_equal(account_register(&f->app, &again, &f->client), GH_ERR_EMAIL_TAKEN);
    assert_int_equal(count_rows(f, "users"), 1);
    assert_int_equal(count_rows(f, "mail_outbox"), 1); /* the first registration's */
    assert_int_equal(count_rows(f, "audit_log"), 1);
    /* Refused before the transaction: nothing was begun. */
    assert_int_equal(fake_db_calls(f->db, FAKE_MEMBER(begin)), 1);
}

static void test_register_refuses_a_weak_password_and_writes_nothing(void **state)
{
    struct core_fixture *f = *state;
    struct registration r = {ADA, "short", "Ada", "Lovelace"};
    assert_int_equal(account_register(&f->app, &r, &f->client), GH_ERR_PASSWORD_TOO_SHORT);
    r.password = "ada-lovelace@example.com"; /* holds the address's local part */
    assert_int_equal(account_register(&f->app, &r, &f->client), GH_ERR_PASSWORD_CONTAINS_EMAIL);
    r.password = ADA_PASSWORD;
    r.email = "not an address";
    assert_int_equal(account_register(&f->app, &r, &f->client), GH_ERR_INVALID_EMAIL);
    assert_int_equal(count_rows(f, "users"), 0);
    assert_int_equal(count_rows(f, "mail_outbox"), 0);
    assert_int_equal(count_rows(f, "audit_log"), 0);
}

/* The user, its mail request and its audit row commit together or not at all. */
static void test_register_keeps_nothing_when_a_write_fails(void **state)
{
    struct core_fixture *f = *state;
    struct registration r = {ADA, ADA_PASSWORD, "Ada", "Lovelace"};
    fake_db_fail(f->db, FAKE_MEMBER(audit_insert), 0, 1, GH_UNAVAILABLE);
    assert_int_equal(account_register(&f->app, &r, &f->client), GH_UNAVAILABLE);
    assert_int_equal(count_rows(f, "users"), 0);
    assert_int_equal(count_rows(f, "mail_outbox"), 0);
    fake_db_fail(f->db, FAKE_MEMBER(commit), 0, 1, GH_UNAVAILABLE);
    assert_int_equal(account_register(&f->app, &r, &f->client), GH_UNAVAILABLE);
    assert_int_equal(count_rows(f, "users"), 0);
    assert_int_equal(count_rows(f, "audit_log"), 0);
    /* The address is still free. */
    register_account(f, ADA, ADA_PASSWORD);
}

/* ==== confirm ==== */

static void test_confirm_link_of_the_mail_activates_the_account_once(void **state)
{
    struct core_fixture *f = *state;
    struct mail m;
    char token[TOKEN_LEN + 1], text[80];
    struct user u = register_account(f, ADA, ADA_PASSWORD);
    /* The outbox worker turns the request into the mail with the link. */
    assert_int_equal(resolve_next_request(f, &m), GH_OK);
    assert_string_equal(m.recipient, ADA);
    assert_string_equal(m.subject, "Confirm your email address");
    link_token(&m, token);
    mail_clear(&m);
    assert_int_equal(account_confirm(&f->app, token, &f->client), GH_OK);
    assert_true(user_at(f, ADA).is_active);
    query_text(f, text, sizeof text, "SELECT user_id FROM audit_log WHERE event = 'confirm'");
    assert_string_equal(text, u.id);
    assert_int_equal(account_confirm(&f->app, token, &f->client), GH_ERR_INVALID_TOKEN);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'confirm'"), 1);
    assert_int_equal(count_rows(f, "one_time_tokens WHERE used_at IS NULL"), 0);
}

static void test_confirm_refuses_unknown_and_malformed_tokens(void **state)
{
    struct core_fixture *f = *state;
    char token[TOKEN_LEN + 1];
    register_account(f, ADA, ADA_PASSWORD);
    secret_token_new(token);
    assert_int_equal(account_confirm(&f->app, token, &f->client), GH_ERR_INVALID_TOKEN);
    assert_int_equal(account_confirm(&f->app, "not-a-token", &f->client), GH_ERR_INVALID_TOKEN);
    assert_int_equal(account_confirm(&f->app, NULL, &f->client), GH_ERR_INVALID_TOKEN);
    assert_false(user_at(f, ADA).is_active);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'confirm'"), 0);
}

/* A token of another purpose does not confirm. */
static void test_confirm_refuses_a_reset_token(void **state)
{
    struct core_fixture *f = *state;
    char token[TOKEN_LEN + 1];
    struct user u = register_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(onetime_issue(f->app.store, u.id, PURPOSE_RESET, 600, token), GH_OK);
    assert_int_equal(account_confirm(&f->app, token, &f->client), GH_ERR_INVALID_TOKEN);
    assert_false(user_at(f, ADA).is_active);
}

/* ==== login ==== */

static void test_login_opens_a_session_and_audits_it(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    char text[80];
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_OK);
    assert_string_equal(out.user.id, u.id);
    assert_true(session_alive(f, out.session_token));
    query_text(f, text, sizeof text, "SELECT user_id FROM audit_log WHERE event = 'login_success'");
    assert_string_equal(text, u.id);
    /* A right password leaves no failure behind. */
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), 0);
    assert_int_equal(rate_count(f, ADA_CEILING_KEY), 0);
}

static void test_login_wrong_password_counts_one_failure_and_audits_it(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    char text[80];
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(login(f, ADA, WRONG_PASSWORD, NULL, &out), GH_ERR_INVALID_CREDENTIALS);
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), 1);
    assert_int_equal(rate_count(f, ADA_CEILING_KEY), 1);
    assert_int_equal(count_rows(f, "sessions"), 0);
    query_text(f, text, sizeof text,
               "SELECT user_id || ' ' || detail FROM audit_log WHERE event = 'login_failure'");
    char want[80];
    snprintf(want, sizeof want, "%s wrong password", u.id);
    assert_string_equal(text, want);
}

/* An unknown address costs and answers the same as a wrong password. */
static void test_login_unknown_address_fails_like_a_wrong_password(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    char text[80];
    assert_int_equal(login(f, "nobody@example.com", ADA_PASSWORD, NULL, &out),
                     GH_ERR_INVALID_CREDENTIALS);
    assert_int_equal(rate_count(f, "rl:acct:nobody@example.com"), 1);
    query_text(f, text, sizeof text,
               "SELECT detail FROM audit_log WHERE event = 'login_failure' AND user_id IS NULL");
    assert_string_equal(text, "unknown email");
    /* A malformed address is no different, and is not counted anywhere. */
    assert_int_equal(login(f, "not an address", ADA_PASSWORD, NULL, &out),
                     GH_ERR_INVALID_CREDENTIALS);
    assert_int_equal(count_rows(f, "rate_limits"), 2);
}

static void test_login_right_password_takes_its_count_back_and_rotates_the_session(void **state)
{
    struct core_fixture *f = *state;
    struct login_result first, again;
    create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &first), GH_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(login(f, ADA, WRONG_PASSWORD, NULL, &again), GH_ERR_INVALID_CREDENTIALS);
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), 3);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, first.session_token, &again), GH_OK);
    /* This address's failures are forgotten; the ceiling keeps the three but not this one. */
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), 0);
    assert_int_equal(rate_count(f, ADA_CEILING_KEY), 3);
    /* The session the browser had is gone, the new one lives. */
    assert_false(session_alive(f, first.session_token));
    assert_true(session_alive(f, again.session_token));
    assert_int_equal(count_rows(f, "sessions"), 1);
}

static void test_login_unconfirmed_account_is_inactive(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    char text[80];
    register_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_ERR_INACTIVE);
    assert_int_equal(count_rows(f, "sessions"), 0);
    query_text(f, text, sizeof text, "SELECT detail FROM audit_log WHERE event = 'login_failure'");
    assert_string_equal(text, "not confirmed");
    /* The password was right: the attempt does not count. */
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), 0);
    /* A wrong one is an ordinary failure: the account's state is not revealed. */
    assert_int_equal(login(f, ADA, WRONG_PASSWORD, NULL, &out), GH_ERR_INVALID_CREDENTIALS);
}

/* Count first, verify second: past the limit even the right password is refused, and the
 * account is not even looked up. */
static void test_login_counts_the_failure_before_verifying(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    char text[120];
    create_account(f, ADA, ADA_PASSWORD);
    for (int i = 0; i < f->cfg.rate_account_max; i++)
        assert_int_equal(login(f, ADA, WRONG_PASSWORD, NULL, &out), GH_ERR_INVALID_CREDENTIALS);
    unsigned lookups = fake_db_calls(f->db, FAKE_MEMBER(user_by_email));
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_ERR_RATE_LIMITED);
    assert_true(out.retry_after > 0 && out.retry_after <= f->cfg.rate_account_window);
    assert_int_equal(fake_db_calls(f->db, FAKE_MEMBER(user_by_email)), lookups);
    assert_int_equal(count_rows(f, "sessions"), 0);
    /* The refused attempt takes its charge back: the counters stay at the limit. */
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), f->cfg.rate_account_max);
    assert_int_equal(rate_count(f, ADA_CEILING_KEY), f->cfg.rate_account_max);
    query_text(f, text, sizeof text, "SELECT detail FROM audit_log WHERE event = 'rate_limited'");
    assert_string_equal(text, "failed password checks on this account from this address");
}

/* A password that was never judged does not count against the account. */
static void test_login_backend_failure_refunds_the_charge(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(login(f, ADA, WRONG_PASSWORD, NULL, &out), GH_ERR_INVALID_CREDENTIALS);
    fake_db_fail(f->db, FAKE_MEMBER(user_by_email), 0, 1, GH_UNAVAILABLE);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_UNAVAILABLE);
    assert_int_equal(rate_count(f, ADA_ADDRESS_KEY), 1);
    assert_int_equal(rate_count(f, ADA_CEILING_KEY), 1);
    assert_int_equal(count_rows(f, "sessions"), 0);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'login_failure'"), 1);
    /* The store is back: the next attempt goes through. */
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_OK);
}

/* A counter outage must not become a login outage. */
static void test_login_goes_through_when_the_counter_fails(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    create_account(f, ADA, ADA_PASSWORD);
    fake_db_fail(f->db, FAKE_MEMBER(rate_hit), 0, FAKE_ALWAYS, GH_UNAVAILABLE);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_OK);
    assert_true(session_alive(f, out.session_token));
    /* The first failed hit ends the counting for the attempt: one round trip, not two. */
    assert_int_equal(fake_db_calls(f->db, FAKE_MEMBER(rate_hit)), 1);
    assert_int_equal(fake_db_calls(f->db, FAKE_MEMBER(rate_clear)), 0);
}

/* ==== logout ==== */

static void test_logout_ends_the_session_once_and_audits_it(void **state)
{
    struct core_fixture *f = *state;
    struct login_result out;
    struct session s;
    struct user u;
    create_account(f, ADA, ADA_PASSWORD);
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_OK);
    assert_int_equal(session_authenticate(&f->app, out.session_token, &s, &u), GH_OK);
    assert_int_equal(account_logout(&f->app, &s, &u, &f->client), GH_OK);
    assert_false(session_alive(f, out.session_token));
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'logout'"), 1);
    assert_int_equal(account_logout(&f->app, &s, &u, &f->client), GH_ERR_NOT_AUTHENTICATED);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'logout'"), 1);
}

int main(void)
{
#define CORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, core_setup, core_teardown)
    const struct CMUnitTest tests[] = {
        CORE_TEST(test_register_creates_an_inactive_user_a_confirm_request_and_an_audit_row),
        CORE_TEST(test_register_stores_the_address_lower_cased),
        CORE_TEST(test_register_taken_address_answers_ok_and_requests_the_registered_mail),
        CORE_TEST(test_register_taken_address_is_email_taken_when_revealed),
        CORE_TEST(test_register_refuses_a_weak_password_and_writes_nothing),
        CORE_TEST(test_register_keeps_nothing_when_a_write_fails),
        CORE_TEST(test_confirm_link_of_the_mail_activates_the_account_once),
        CORE_TEST(test_confirm_refuses_unknown_and_malformed_tokens),
        CORE_TEST(test_confirm_refuses_a_reset_token),
        CORE_TEST(test_login_opens_a_session_and_audits_it),
        CORE_TEST(test_login_wrong_password_counts_one_failure_and_audits_it),
        CORE_TEST(test_login_unknown_address_fails_like_a_wrong_password),
        CORE_TEST(test_login_right_password_takes_its_count_back_and_rotates_the_session),
        CORE_TEST(test_login_unconfirmed_account_is_inactive),
        CORE_TEST(test_login_counts_the_failure_before_verifying),
        CORE_TEST(test_login_backend_failure_refunds_the_charge),
        CORE_TEST(test_login_goes_through_when_the_counter_fails),
        CORE_TEST(test_logout_ends_the_session_once_and_audits_it),
    };
#undef CORE_TEST
    return cmocka_run_group_tests_name("core accounts", tests, core_group_setup,
                                       core_group_teardown);
}
