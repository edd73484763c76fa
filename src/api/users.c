/* The /users/... account routes: register, confirm, regenerate-token, login, current-user,
 * logout. Each handler decodes its input, calls core/account.c and encodes the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/account.h"
#include "../core/session.h"
#include "../http/json_input.h"
#include "../util/url.h"
#include "api.h"

/* Decode limits: generous, so the rules in core/ give the precise error (e.g. a 129-character
 * password is "too long" by the password policy, not by the decoder). */
#define PASSWORD_INPUT_MAX 1024
#define NAME_INPUT_MAX     1024

/* Decodes req->json into out with fields; answers the 400 and returns false on failure. */
static bool decode(struct request *req, const struct json_field *fields, size_t n, void *out)
{
    const char *bad = NULL;
    gh_status st = json_input_decode(req->json, fields, n, out, &bad);
    if (st != GH_OK) {
        reply_error(req, st, bad);
        return false;
    }
    return true;
}

/* The field a core status is about, for the "field" key of the error. */
static const char *field_of(gh_status st)
{
    switch (st) {
    case GH_ERR_INVALID_EMAIL:
    case GH_ERR_EMAIL_TAKEN:
        return "email";
    case GH_ERR_INVALID_FIRST_NAME:
        return "first_name";
    case GH_ERR_INVALID_LAST_NAME:
        return "last_name";
    case GH_ERR_PASSWORD_TOO_SHORT:
    case GH_ERR_PASSWORD_TOO_LONG:
    case GH_ERR_PASSWORD_COMMON:
    case GH_ERR_PASSWORD_CONTAINS_EMAIL:
        return "password";
    default:
        return NULL;
    }
}

static void reply_account_error(struct request *req, gh_status st)
{
    if (st == GH_ERR_PASSWORD_TOO_SHORT) {
        char text[96];
        snprintf(text, sizeof text, "The password must have at least %d characters.",
                 req->app->cfg->password_min_length);
        reply_error_text(req, st, "password", text);
        return;
    }
    reply_error(req, st, field_of(st));
}

/* 303 to {FRONTEND_URL}{page}, with ?reason=<text> when reason is not NULL. */
static void redirect_to_frontend(struct request *req, const char *page, const char *reason)
{
    char location[CONFIG_URL_MAX + 512], encoded[400];
    if (reason) {
        url_percent_encode(reason, encoded, sizeof encoded);
        snprintf(location, sizeof location, "%s%s?reason=%s", req->app->cfg->frontend_url, page,
                 encoded);
    } else {
        snprintf(location, sizeof location, "%s%s", req->app->cfg->frontend_url, page);
    }
    reply_redirect(req, location);
}

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
        reply_account_error(req, st);
        return;
    }
    reply_message(req, 201,
                  "Registration successful. Check your email for a link to confirm your account.");
}

void api_users_register(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct registration, email, true, EMAIL_MAX),
        JSON_FIELD(struct registration, password, true, PASSWORD_INPUT_MAX),
        JSON_FIELD(struct registration, first_name, true, NAME_INPUT_MAX),
        JSON_FIELD(struct registration, last_name, true, NAME_INPUT_MAX),
    };
    struct registration *r = calloc(1, sizeof *r);
    if (!r) {
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    req->state = r;
    req->state_free = free;
    if (!decode(req, fields, sizeof fields / sizeof fields[0], r))
        return;
    gh_status st = account_register_check(req->app, r);
    if (st != GH_OK) {
        reply_account_error(req, st);
        return;
    }
    http_run_hash_job(req, HASH_JOB_HASH, r->password, NULL, register_hashed);
}

/* ---- GET /users/register/confirm/?token= ---- */

void api_users_confirm(struct request *req)
{
    gh_status st = account_confirm(req->app, request_query(req, "token"), &req->client);
    if (st == GH_OK)
        redirect_to_frontend(req, "/auth/confirmed", NULL);
    else if (st == GH_ERR_INVALID_TOKEN)
        redirect_to_frontend(req, "/auth/regenerate-token",
                             "This confirmation link is invalid, expired or already used. "
                             "Request a new one below.");
    else
        redirect_to_frontend(req, "/auth/error",
                             "Something went wrong while confirming your email. Please try "
                             "the link again in a moment.");
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
    if (!decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    gh_status st = account_regenerate_confirmation(req->app, in.email, &req->client);
    if (st != GH_OK) {
        reply_account_error(req, st);
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

static void login_verified(struct request *req)
{
    struct login_attempt *a = req->state;
    char token[TOKEN_LEN + 1];
    gh_status st = account_login_complete(req->app, a, req->job.result, request_session_token(req),
                                          &req->client, token);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_set_session_cookie(req, token);
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
    if (!decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    struct login_attempt *a = calloc(1, sizeof *a);
    if (!a) {
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    req->state = a;
    req->state_free = free;
    gh_status st = account_login_prepare(req->app, in.email, a, hash);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    http_run_hash_job(req, HASH_JOB_VERIFY, in.password, hash, login_verified);
}

/* ---- GET /users/current-user/ ---- */

void api_users_current_user(struct request *req)
{
    struct session s;
    struct user u;
    gh_status st = session_authenticate(req->app, request_session_token(req), &s, &u);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_user(req, 200, &u);
}

/* ---- POST /users/logout/ ---- */

void api_users_logout(struct request *req)
{
    gh_status st = account_logout(req->app, request_session_token(req), &req->client);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_clear_session_cookie(req);
    reply_message(req, 200, "You have been logged out.");
}
