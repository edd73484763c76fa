/* The /users/... account routes: register, confirm, regenerate-token, login, current-user,
 * logout. Each handler decodes its input, calls core/account.c and encodes the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/account.h"
#include "../core/device.h"
#include "../core/session.h"
#include "../http/json_input.h"
#include "../util/log.h"
#include "../util/url.h"
#include "api.h"

/* ---- POST /users/register/ ---- */

static void register_hashed(struct request *req)
{
    struct registration *r = req->state;
    if (req->job.result != GH_OK) {
        reply_error(req, req->job.result, NULL);
        return;
    }
    gh_status st = account_register_finish(req->app, r, req->job.hash, &req->client);
    if (st != GH_OK) {
        reply_account_error(req, st, "password");
        return;
    }
    /* The same answer whether or not the address already had an account (SPEC §8). */
    reply_message(req, 201, "Registration received. Check your email to continue.");
}

void api_users_register(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct registration, email, true, EMAIL_MAX),
        JSON_FIELD(struct registration, password, true, PASSWORD_INPUT_MAX),
        JSON_FIELD(struct registration, first_name, true, NAME_INPUT_MAX),
        JSON_FIELD(struct registration, last_name, true, NAME_INPUT_MAX),
    };
    struct registration *r =
        api_state_decode(req, sizeof *r, fields, sizeof fields / sizeof fields[0]);
    if (!r)
        return;
    gh_status st = account_register_check(req->app, r);
    if (st != GH_OK) {
        reply_account_error(req, st, "password");
        return;
    }
    http_run_hash_job(req, HASH_JOB_HASH, r->password, NULL, register_hashed);
}

/* ---- GET /users/register/confirm/?token= ---- */

void api_users_confirm(struct request *req)
{
    gh_status st = account_confirm(req->app, request_query(req, "token"), &req->client);
    if (st == GH_OK)
        redirect_to_frontend(req, "/auth/confirmed", REASON_NONE);
    else if (st == GH_ERR_INVALID_TOKEN)
        redirect_to_frontend(req, "/auth/regenerate-token", REASON_CONFIRM_INVALID);
    else
        redirect_to_frontend(req, "/auth/error", REASON_CONFIRM_FAILED);
}

/* ---- POST /users/regenerate-token/ ---- */

struct email_input {
    const char *email;
};

void api_users_regenerate_token(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct email_input, email, true, EMAIL_MAX),
    };
    struct email_input in;
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    gh_status st =
        account_regenerate_confirmation(req->app, in.email, &req->client, &req->retry_after);
    if (st != GH_OK) {
        reply_account_error(req, st, "password");
        return;
    }
    reply_message(req, 200,
                  "If an unconfirmed account uses this address, a new confirmation link is on "
                  "its way.");
}

/* ---- POST /users/login/ ---- */

struct login_input {
    const char *email;
    const char *password;
};

/* After a successful login whose hash had older parameters: store the new hash, answer. */
static void login_rehashed(struct request *req)
{
    struct login_attempt *a = req->state;
    if (req->job.result != GH_OK ||
        account_upgrade_hash(req->app, a->user.id, req->job.hash) != GH_OK)
        log_msg(LOG_WARN, "password hash upgrade failed; kept the old hash");
    reply_user(req, 200, &a->user);
}

static void login_verified(struct request *req)
{
    struct login_attempt *a = req->state;
    char token[TOKEN_LEN + 1];
    bool needs_rehash = req->job.needs_rehash;
    gh_status st = account_login_complete(req->app, a, req->job.result, request_session_token(req),
                                          &req->client, token);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_set_session_cookie(req, token);
    /* The upgrade is best effort: with the pool full the login still succeeds now. */
    if (needs_rehash && http_try_hash_job(req, HASH_JOB_HASH, a->password, NULL, login_rehashed))
        return;
    reply_user(req, 200, &a->user);
}

void api_users_login(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct login_input, email, true, EMAIL_MAX),
        JSON_FIELD(struct login_input, password, true, PASSWORD_INPUT_MAX),
    };
    struct login_input in;
    char hash[PASSWORD_HASH_MAX];
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    struct login_attempt *a = api_state_decode(req, sizeof *a, NULL, 0);
    if (!a)
        return;
    gh_status st =
        account_login_prepare(req->app, in.email, request_cookie(req, DEVICE_COOKIE_NAME), a, hash,
                              &req->client, &req->retry_after);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    a->password = in.password;
    if (!http_try_hash_job(req, HASH_JOB_VERIFY, in.password, hash, login_verified)) {
        account_login_abandon(req->app, a);
        reply_error(req, GH_BUSY, NULL);
    }
}

/* ---- GET /users/current-user/ ---- */

/* A browser without a valid device cookie for this user gets one here: the login answer may
 * carry only the session cookie (SPEC §2.2), and this is the call a frontend makes right after
 * a login. Checking and signing are an HMAC each, never a write. */
void api_users_current_user(struct request *req)
{
    char device[DEVICE_COOKIE_MAX];
    if (device_cookie_refresh(req->app, req->user.email, req->session.id,
                              request_cookie(req, DEVICE_COOKIE_NAME), device))
        reply_set_device_cookie(req, device);
    reply_user(req, 200, &req->user);
}

/* ---- POST /users/logout/ ---- */

void api_users_logout(struct request *req)
{
    gh_status st = account_logout(req->app, &req->session, &req->user, &req->client);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_clear_session_cookie(req);
    reply_message(req, 200, "You have been logged out.");
}
