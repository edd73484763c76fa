/* The token rules of core/tokens.c — a new family per issue, rotation on every refresh, a retry
 * within the grace window that gets the same successor, a reuse after it that revokes the
 * family, revocation by the holder, and the ends of families with the password and the session —
 * on the fake store (core_app.h): what each answers, stores and audits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core_app.h"
#include "core/onetime.h"
#include "core/password_change.h"
#include "core/session.h"

#define BOB          "bob@example.com"
#define NEW_PASSWORD "quiet-meadow-copper-77"
#define WEB_APP      "web-app"

/* ---- helpers ---- */

static gh_status issue(struct core_fixture *f, const struct user *u, const char *client_id,
                       const char *session_hash, struct token_pair *out)
{
    return tokens_issue(&f->app, u, client_id, session_hash, &f->client, out);
}

static gh_status refresh(struct core_fixture *f, const char *token, const char *client_id,
                         struct token_pair *out)
{
    return tokens_refresh(&f->app, token, client_id, &f->client, out);
}

/* The stored row of the refresh token value. */
static struct refresh_token stored(struct core_fixture *f, const char *token)
{
    struct refresh_token t;
    char hash[TOKEN_HASH_LEN + 1];
    secret_token_hash(token, hash);
    assert_int_equal(f->app.store->refresh_get(f->app.store, hash, &t), GH_OK);
    return t;
}

/* The number of rows of refresh_tokens in the family, with the extra condition cond ("" for
 * none). */
static int64_t family_rows(struct core_fixture *f, const char *family_id, const char *cond)
{
    return count_rows(f, "refresh_tokens WHERE family_id = '%s'%s%s", family_id,
                      cond[0] ? " AND " : "", cond);
}

/* True when the refresh token value still rotates for client_id. The successor is dropped. */
static bool refreshes(struct core_fixture *f, const char *token, const char *client_id)
{
    struct token_pair next;
    gh_status st = refresh(f, token, client_id, &next);
    token_pair_clear(&next);
    assert_true(st == GH_OK || st == GH_ERR_INVALID_GRANT);
    return st == GH_OK;
}

/* Waits until the clock has passed second t. */
static void wait_past(int64_t t)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    while (time_now() <= t)
        nanosleep(&pause, NULL);
}

/* ==== issue ==== */

static void test_issue_starts_a_family_with_a_verifiable_access_token(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD), who;
    struct token_pair pair, again;
    struct access_claims claims;
    char jti[UUID_LEN + 1], text[80];
    assert_int_equal(issue(f, &u, "", "", &pair), GH_OK);
    assert_true(secret_token_is_wellformed(pair.refresh));
    assert_non_null(pair.access);
    assert_int_equal(pair.expires_in, f->cfg.access_token_ttl);
    /* The refresh token is stored by its hash, live, in a family of its own. */
    struct refresh_token t = stored(f, pair.refresh);
    assert_string_equal(t.user_id, u.id);
    assert_string_equal(t.client_id, "");
    assert_string_equal(t.session_hash, "");
    assert_int_equal(t.rotated_at, 0);
    assert_int_equal(t.revoked_at, 0);
    assert_int_equal(t.expires_at - t.created_at, f->cfg.refresh_token_ttl);
    assert_int_equal(count_rows(f, "refresh_tokens"), 1);
    assert_int_equal(count_rows(f, "refresh_tokens WHERE token_hash = '%s'", t.token_hash), 1);
    /* The access token names the user and authenticates as the user. */
    assert_int_equal(tokens_verify_access(&f->app, pair.access, &claims), GH_OK);
    assert_string_equal(claims.sub, u.id);
    assert_false(claims.for_client);
    assert_int_equal(claims.exp - claims.iat, f->cfg.access_token_ttl);
    assert_int_equal(tokens_authenticate(&f->app, pair.access, &who, jti), GH_OK);
    assert_string_equal(who.id, u.id);
    assert_string_equal(jti, claims.jti);
    query_text(f, text, sizeof text, "SELECT user_id FROM audit_log WHERE event = 'token_issued'");
    assert_string_equal(text, u.id);
    /* Each issue is a family of its own. */
    assert_int_equal(issue(f, &u, WEB_APP, "", &again), GH_OK);
    assert_string_not_equal(again.refresh, pair.refresh);
    struct refresh_token t2 = stored(f, again.refresh);
    assert_string_not_equal(t2.family_id, t.family_id);
    assert_string_equal(t2.client_id, WEB_APP);
    query_text(f, text, sizeof text,
               "SELECT detail FROM audit_log WHERE event = 'token_issued' AND detail IS NOT NULL");
    assert_string_equal(text, WEB_APP);
    token_pair_clear(&pair);
    token_pair_clear(&again);
}

/* A token verified once is answered from a per-thread cache after that: the cache vouches for
 * that exact token, never for one that differs from it anywhere, nor for another user's. */
static void test_a_verified_token_vouches_for_itself_only(void **state)
{
    struct core_fixture *f = *state;
    struct user ada = create_account(f, ADA, ADA_PASSWORD),
                bob = create_account(f, BOB, NEW_PASSWORD);
    struct token_pair pair, other;
    struct access_claims claims;
    assert_int_equal(issue(f, &ada, "", "", &pair), GH_OK);
    assert_int_equal(issue(f, &bob, "", "", &other), GH_OK);
    assert_int_equal(tokens_verify_access(&f->app, pair.access, &claims), GH_OK);
    assert_int_equal(tokens_verify_access(&f->app, pair.access, &claims), GH_OK);
    assert_string_equal(claims.sub, ada.id);
    size_t len = strlen(pair.access);
    const char *payload = strchr(pair.access, '.') + 1;
    size_t changes[] = {(size_t)(payload - pair.access) + 5, len - 10, 0};
    char changed[JWT_TOKEN_MAX + 2];
    for (size_t i = 0; i < sizeof changes / sizeof *changes; i++) {
        strcpy(changed, pair.access);
        changed[changes[i]] = changed[changes[i]] == 'A' ? 'B' : 'A';
        assert_int_equal(tokens_verify_access(&f->app, changed, &claims), GH_ERR_INVALID_TOKEN);
    }
    strcpy(changed, pair.access);
    changed[len - 1] = '\0';
    assert_int_equal(tokens_verify_access(&f->app, changed, &claims), GH_ERR_INVALID_TOKEN);
    strcpy(changed, pair.access);
    strcat(changed, "A");
    assert_int_equal(tokens_verify_access(&f->app, changed, &claims), GH_ERR_INVALID_TOKEN);
    assert_int_equal(tokens_verify_access(&f->app, other.access, &claims), GH_OK);
    assert_string_equal(claims.sub, bob.id);
    assert_int_equal(tokens_verify_access(&f->app, pair.access, &claims), GH_OK);
    assert_string_equal(claims.sub, ada.id);
    token_pair_clear(&pair);
    token_pair_clear(&other);
}

/* ==== refresh ==== */

static void test_refresh_rotates_the_token_to_a_successor_in_its_family(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair first, second, third;
    struct access_claims claims;
    assert_int_equal(issue(f, &u, "", "", &first), GH_OK);
    struct refresh_token root = stored(f, first.refresh);
    assert_int_equal(refresh(f, first.refresh, "", &second), GH_OK);
    assert_true(secret_token_is_wellformed(second.refresh));
    assert_string_not_equal(second.refresh, first.refresh);
    /* The token used is rotated; its successor is live in the same family. */
    assert_int_not_equal(stored(f, first.refresh).rotated_at, 0);
    struct refresh_token next = stored(f, second.refresh);
    assert_string_equal(next.family_id, root.family_id);
    assert_string_equal(next.user_id, u.id);
    assert_int_equal(next.rotated_at, 0);
    assert_int_equal(next.revoked_at, 0);
    assert_int_equal(family_rows(f, root.family_id, ""), 2);
    assert_int_equal(tokens_verify_access(&f->app, second.access, &claims), GH_OK);
    assert_string_equal(claims.sub, u.id);
    /* The successor rotates in turn, and the chain stays one family. */
    assert_int_equal(refresh(f, second.refresh, "", &third), GH_OK);
    assert_int_equal(family_rows(f, root.family_id, ""), 3);
    assert_int_equal(family_rows(f, root.family_id, "rotated_at IS NULL"), 1);
    assert_int_equal(family_rows(f, root.family_id, "revoked_at IS NOT NULL"), 0);
    token_pair_clear(&first);
    token_pair_clear(&second);
    token_pair_clear(&third);
}

/* A client that lost the answer and retries within the grace window gets the very same
 * successor (no second branch), and a new access token. */
static void test_refresh_retried_within_the_grace_window_gets_the_same_successor(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair first, second, retry;
    struct access_claims a, b;
    assert_int_equal(issue(f, &u, WEB_APP, "", &first), GH_OK);
    struct refresh_token root = stored(f, first.refresh);
    const char *family_id = root.family_id;
    assert_int_equal(refresh(f, first.refresh, WEB_APP, &second), GH_OK);
    assert_int_equal(refresh(f, first.refresh, WEB_APP, &retry), GH_OK);
    assert_string_equal(retry.refresh, second.refresh);
    assert_int_equal(tokens_verify_access(&f->app, second.access, &a), GH_OK);
    assert_int_equal(tokens_verify_access(&f->app, retry.access, &b), GH_OK);
    assert_string_not_equal(a.jti, b.jti);
    /* Stored once, nothing revoked, and the successor still rotates. */
    assert_int_equal(family_rows(f, family_id, ""), 2);
    assert_int_equal(family_rows(f, family_id, "revoked_at IS NOT NULL"), 0);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'refresh_token_reuse'"), 0);
    assert_true(refreshes(f, second.refresh, WEB_APP));
    token_pair_clear(&first);
    token_pair_clear(&second);
    token_pair_clear(&retry);
}

/* The successor could not be stored: the token is rotated all the same, and a retry within the
 * grace window stores the same successor then. */
static void test_refresh_retried_after_a_failed_write_gets_the_successor(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair first, failed, retry;
    assert_int_equal(issue(f, &u, "", "", &first), GH_OK);
    fake_db_fail(f->db, FAKE_MEMBER(refresh_insert), 0, 1, GH_UNAVAILABLE);
    assert_int_equal(refresh(f, first.refresh, "", &failed), GH_UNAVAILABLE);
    assert_null(failed.access);
    assert_string_equal(failed.refresh, "");
    assert_int_equal(count_rows(f, "refresh_tokens"), 1);
    assert_int_equal(refresh(f, first.refresh, "", &retry), GH_OK);
    assert_int_equal(count_rows(f, "refresh_tokens"), 2);
    assert_int_equal(stored(f, retry.refresh).rotated_at, 0);
    assert_true(refreshes(f, retry.refresh, ""));
    token_pair_clear(&first);
    token_pair_clear(&retry);
}

/* With no grace, a rotated token used a second later was copied: the whole family ends — the
 * thief's branch and the owner's alike — and the reuse is audited. The user's other families
 * stay. */
static int grace_0_setup(void **state)
{
    static const struct setting no_grace[] = {{"GATEHOUSE_REFRESH_GRACE_SECONDS", "0"},
                                              {NULL, NULL}};
    return core_setup_with(state, no_grace);
}

static void test_reuse_after_the_grace_window_revokes_the_family(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair first, second, other, stolen;
    char family_id[UUID_LEN + 1], text[80];
    assert_int_equal(f->cfg.refresh_grace, 0);
    assert_int_equal(issue(f, &u, "", "", &first), GH_OK);
    assert_int_equal(issue(f, &u, "", "", &other), GH_OK);
    strcpy(family_id, stored(f, first.refresh).family_id);
    assert_int_equal(refresh(f, first.refresh, "", &second), GH_OK);
    wait_past(stored(f, first.refresh).rotated_at);
    assert_int_equal(refresh(f, first.refresh, "", &stolen), GH_ERR_INVALID_GRANT);
    assert_null(stolen.access);
    assert_int_equal(family_rows(f, family_id, ""), 2);
    assert_int_equal(family_rows(f, family_id, "revoked_at IS NOT NULL"), 2);
    assert_false(refreshes(f, second.refresh, ""));
    assert_false(refreshes(f, first.refresh, ""));
    query_text(f, text, sizeof text,
               "SELECT user_id FROM audit_log WHERE event = 'refresh_token_reuse'");
    assert_string_equal(text, u.id);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'refresh_token_reuse'"), 1);
    /* The other family is another login: it goes on. */
    assert_true(refreshes(f, other.refresh, ""));
    token_pair_clear(&first);
    token_pair_clear(&second);
    token_pair_clear(&other);
}

/* Malformed, unknown, expired and revoked tokens are refused alike, and change nothing. */
static void test_refresh_refuses_malformed_unknown_expired_and_revoked_tokens(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair pair, out;
    struct refresh_token t = {0};
    char unknown[TOKEN_LEN + 1], expired[TOKEN_LEN + 1];
    assert_int_equal(refresh(f, NULL, "", &out), GH_ERR_INVALID_GRANT);
    assert_int_equal(refresh(f, "", "", &out), GH_ERR_INVALID_GRANT);
    assert_int_equal(refresh(f, "not a token", "", &out), GH_ERR_INVALID_GRANT);
    secret_token_new(unknown);
    assert_int_equal(refresh(f, unknown, "", &out), GH_ERR_INVALID_GRANT);
    /* Expired a second ago. */
    secret_token_new(expired);
    secret_token_hash(expired, t.token_hash);
    secret_uuid_new(t.family_id);
    strcpy(t.user_id, u.id);
    t.created_at = time_now() - 100;
    t.expires_at = time_now() - 1;
    assert_int_equal(f->app.store->refresh_insert(f->app.store, &t), GH_OK);
    assert_int_equal(refresh(f, expired, "", &out), GH_ERR_INVALID_GRANT);
    assert_int_equal(stored(f, expired).rotated_at, 0);
    /* Revoked. */
    assert_int_equal(issue(f, &u, "", "", &pair), GH_OK);
    assert_int_equal(tokens_revoke(&f->app, pair.refresh, "", &f->client), GH_OK);
    assert_int_equal(refresh(f, pair.refresh, "", &out), GH_ERR_INVALID_GRANT);
    assert_null(out.access);
    assert_int_equal(count_rows(f, "refresh_tokens"), 2);
    assert_int_equal(count_rows(f, "refresh_tokens WHERE rotated_at IS NOT NULL"), 0);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'refresh_token_reuse'"), 0);
    token_pair_clear(&pair);
}

/* A client uses its own families and the ones no client owns, never another client's. */
static void test_refresh_refuses_another_clients_token(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair mine, shared, out;
    assert_int_equal(issue(f, &u, WEB_APP, "", &mine), GH_OK);
    assert_int_equal(issue(f, &u, "", "", &shared), GH_OK);
    assert_int_equal(refresh(f, mine.refresh, "other-app", &out), GH_ERR_INVALID_GRANT);
    assert_int_equal(refresh(f, mine.refresh, "", &out), GH_ERR_INVALID_GRANT);
    assert_null(out.access);
    assert_true(refreshes(f, shared.refresh, WEB_APP));
    token_pair_clear(&mine);
    token_pair_clear(&shared);
}

/* An account that is not active (here: never confirmed) gets no new tokens: the family ends. */
static void test_refresh_for_an_inactive_account_revokes_the_family(void **state)
{
    struct core_fixture *f = *state;
    struct user u = register_account(f, ADA, ADA_PASSWORD);
    struct token_pair pair, out;
    assert_false(u.is_active);
    assert_int_equal(issue(f, &u, "", "", &pair), GH_OK);
    assert_int_equal(refresh(f, pair.refresh, "", &out), GH_ERR_INVALID_GRANT);
    assert_int_not_equal(stored(f, pair.refresh).revoked_at, 0);
    assert_int_equal(count_rows(f, "refresh_tokens"), 1);
    token_pair_clear(&pair);
}

/* ==== revoke ==== */

static void test_revoke_ends_the_family_of_the_token_only(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair first, second, other;
    char family_id[UUID_LEN + 1], text[80];
    assert_int_equal(issue(f, &u, "", "", &first), GH_OK);
    assert_int_equal(issue(f, &u, "", "", &other), GH_OK);
    strcpy(family_id, stored(f, first.refresh).family_id);
    assert_int_equal(refresh(f, first.refresh, "", &second), GH_OK);
    /* Revoking by the latest token ends its ancestors too. */
    assert_int_equal(tokens_revoke(&f->app, second.refresh, "", &f->client), GH_OK);
    assert_int_equal(family_rows(f, family_id, "revoked_at IS NOT NULL"), 2);
    assert_false(refreshes(f, second.refresh, ""));
    assert_false(refreshes(f, first.refresh, ""));
    query_text(f, text, sizeof text, "SELECT user_id FROM audit_log WHERE event = 'token_revoked'");
    assert_string_equal(text, u.id);
    assert_true(refreshes(f, other.refresh, ""));
    token_pair_clear(&first);
    token_pair_clear(&second);
    token_pair_clear(&other);
}

/* Unknown, malformed and another client's tokens answer GH_OK (the caller cannot tell) and
 * revoke nothing. */
static void test_revoke_of_unknown_or_foreign_tokens_changes_nothing(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair mine;
    char unknown[TOKEN_LEN + 1];
    assert_int_equal(issue(f, &u, WEB_APP, "", &mine), GH_OK);
    secret_token_new(unknown);
    assert_int_equal(tokens_revoke(&f->app, unknown, WEB_APP, &f->client), GH_OK);
    assert_int_equal(tokens_revoke(&f->app, "not a token", WEB_APP, &f->client), GH_OK);
    assert_int_equal(tokens_revoke(&f->app, NULL, WEB_APP, &f->client), GH_OK);
    assert_int_equal(tokens_revoke(&f->app, mine.refresh, "other-app", &f->client), GH_OK);
    assert_int_equal(count_rows(f, "refresh_tokens WHERE revoked_at IS NOT NULL"), 0);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'token_revoked'"), 0);
    assert_true(refreshes(f, mine.refresh, WEB_APP));
    token_pair_clear(&mine);
}

/* ==== the ends of families with the password and the session ==== */

/* Logs in to ADA: the session's principal and the SHA-256 of its cookie. */
static void session_of(struct core_fixture *f, struct principal *p, char hash[TOKEN_HASH_LEN + 1])
{
    struct login_result out;
    assert_int_equal(login(f, ADA, ADA_PASSWORD, NULL, &out), GH_OK);
    memset(p, 0, sizeof *p);
    p->kind = PRINCIPAL_SESSION;
    assert_int_equal(session_authenticate(&f->app, out.session_token, &p->session, &p->user),
                     GH_OK);
    secret_token_hash(out.session_token, hash);
}

/* Every token family ends with the old password, whatever made it; other users' stay. */
static void test_password_change_revokes_every_family_of_the_user(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct user bob = create_account(f, BOB, ADA_PASSWORD);
    struct principal p;
    struct token_pair from_session, from_client, rotated, bobs;
    struct password_change_input in = {.current_password = ADA_PASSWORD,
                                       .new_password = NEW_PASSWORD};
    char session_hash[TOKEN_HASH_LEN + 1];
    int retry_after = 0;
    session_of(f, &p, session_hash);
    assert_int_equal(issue(f, &u, "", session_hash, &from_session), GH_OK);
    assert_int_equal(issue(f, &u, WEB_APP, "", &from_client), GH_OK);
    assert_int_equal(refresh(f, from_client.refresh, WEB_APP, &rotated), GH_OK);
    assert_int_equal(issue(f, &bob, "", "", &bobs), GH_OK);
    assert_int_equal(password_change(&f->app, &p, &in, &f->client, &retry_after), GH_OK);
    assert_int_equal(
        count_rows(f, "refresh_tokens WHERE user_id = '%s' AND revoked_at IS NULL", u.id), 0);
    assert_false(refreshes(f, from_session.refresh, ""));
    assert_false(refreshes(f, rotated.refresh, WEB_APP));
    assert_true(refreshes(f, bobs.refresh, ""));
    token_pair_clear(&from_session);
    token_pair_clear(&from_client);
    token_pair_clear(&rotated);
    token_pair_clear(&bobs);
}

/* A reset by mail ends them too: whoever knew the old password may hold a token. */
static void test_password_reset_revokes_every_family_of_the_user(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct token_pair pair;
    char link[TOKEN_LEN + 1], token[TOKEN_LEN + 1];
    assert_int_equal(issue(f, &u, "", "", &pair), GH_OK);
    assert_int_equal(onetime_issue(f->app.store, u.id, PURPOSE_RESET, 600, link), GH_OK);
    assert_int_equal(reset_exchange_token(&f->app, link, &f->client, token), GH_OK);
    assert_int_equal(password_reset(&f->app, token, NEW_PASSWORD, &f->client), GH_OK);
    assert_false(refreshes(f, pair.refresh, ""));
    token_pair_clear(&pair);
}

/* A logout ends the families its session started, and only those. */
static void test_logout_revokes_the_families_of_its_session(void **state)
{
    struct core_fixture *f = *state;
    struct user u = create_account(f, ADA, ADA_PASSWORD);
    struct principal p, other;
    struct token_pair mine, theirs, none;
    char hash[TOKEN_HASH_LEN + 1], other_hash[TOKEN_HASH_LEN + 1];
    session_of(f, &p, hash);
    session_of(f, &other, other_hash);
    assert_int_equal(issue(f, &u, "", hash, &mine), GH_OK);
    assert_int_equal(issue(f, &u, "", other_hash, &theirs), GH_OK);
    assert_int_equal(issue(f, &u, "", "", &none), GH_OK);
    assert_int_equal(account_logout(&f->app, &p.session, &p.user, &f->client), GH_OK);
    assert_false(refreshes(f, mine.refresh, ""));
    assert_true(refreshes(f, theirs.refresh, ""));
    assert_true(refreshes(f, none.refresh, ""));
    token_pair_clear(&mine);
    token_pair_clear(&theirs);
    token_pair_clear(&none);
}

int main(void)
{
#define CORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, core_setup, core_teardown)
    const struct CMUnitTest tests[] = {
        CORE_TEST(test_issue_starts_a_family_with_a_verifiable_access_token),
        CORE_TEST(test_a_verified_token_vouches_for_itself_only),
        CORE_TEST(test_refresh_rotates_the_token_to_a_successor_in_its_family),
        CORE_TEST(test_refresh_retried_within_the_grace_window_gets_the_same_successor),
        CORE_TEST(test_refresh_retried_after_a_failed_write_gets_the_successor),
        cmocka_unit_test_setup_teardown(test_reuse_after_the_grace_window_revokes_the_family,
                                        grace_0_setup, core_teardown),
        CORE_TEST(test_refresh_refuses_malformed_unknown_expired_and_revoked_tokens),
        CORE_TEST(test_refresh_refuses_another_clients_token),
        CORE_TEST(test_refresh_for_an_inactive_account_revokes_the_family),
        CORE_TEST(test_revoke_ends_the_family_of_the_token_only),
        CORE_TEST(test_revoke_of_unknown_or_foreign_tokens_changes_nothing),
        CORE_TEST(test_password_change_revokes_every_family_of_the_user),
        CORE_TEST(test_password_reset_revokes_every_family_of_the_user),
        CORE_TEST(test_logout_revokes_the_families_of_its_session),
    };
#undef CORE_TEST
    return cmocka_run_group_tests_name("core tokens", tests, core_group_setup, core_group_teardown);
}
