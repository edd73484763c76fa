/* Password reset by email (request, link, new password) and password change while logged in. */
#include <stdlib.h>
#include <string.h>

#include "../core/device.h"
#include "../core/password_change.h"
#include "../http/json_input.h"
#include "api.h"

/* ---- POST /users/password-change/request-password-change/ ---- */

struct email_input {
    const char *email;
};

void api_password_request_reset(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct email_input, email, true, EMAIL_MAX),
    };
    struct email_input in;
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    gh_status st = reset_request(req->app, in.email, &req->client, &req->retry_after);
    if (st != GH_OK) {
        reply_account_error(req, st, "password");
        return;
    }
    reply_message(req, 200,
                  "If an account uses this address, a link to choose a new password is on its "
                  "way.");
}

/* ---- GET /users/password-change/confirm/change-password/?token= ---- */

void api_password_confirm_reset(struct request *req)
{
    char change_token[TOKEN_LEN + 1], page[64 + TOKEN_LEN];
    gh_status st =
        reset_exchange_token(req->app, request_query(req, "token"), &req->client, change_token);
    if (st == GH_OK) {
        strcpy(page, "/auth/password/change-password?token=");
        strcat(page, change_token);
        redirect_to_frontend(req, page, REASON_NONE);
    } else if (st == GH_ERR_INVALID_TOKEN) {
        redirect_to_frontend(req, "/auth/error", REASON_RESET_INVALID);
    } else {
        redirect_to_frontend(req, "/auth/error", REASON_RESET_FAILED);
    }
}

/* ---- POST /users/password-change/change-user-password/ ---- */

struct reset_input {
    const char *token;
    const char *password;
};

static void reset_hashed(struct request *req)
{
    const struct reset_input *in = req->state;
    if (req->job.result != GH_OK) {
        reply_error(req, req->job.result, NULL);
        return;
    }
    gh_status st = reset_finish(req->app, in->token, req->job.hash, &req->client);
    if (st != GH_OK) {
        reply_error(req, st, st == GH_ERR_INVALID_TOKEN ? "token" : NULL);
        return;
    }
    reply_message(req, 200, "Your password has been changed. You can now log in with it.");
}

void api_password_reset(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct reset_input, token, true, 64),
        JSON_FIELD(struct reset_input, password, true, PASSWORD_INPUT_MAX),
    };
    struct reset_input *in =
        api_state_decode(req, sizeof *in, fields, sizeof fields / sizeof fields[0]);
    if (!in)
        return;
    gh_status st = reset_check(req->app, in->token, in->password);
    if (st == GH_ERR_INVALID_TOKEN) {
        reply_error(req, st, "token");
        return;
    }
    if (st != GH_OK) {
        reply_account_error(req, st, "password");
        return;
    }
    http_run_hash_job(req, HASH_JOB_HASH, in->password, NULL, reset_hashed);
}

/* ---- POST /users/change-password/ ---- */

struct change_input {
    const char *current_password;
    const char *new_password;
    struct password_change_attempt attempt;
};

static void change_hashed(struct request *req)
{
    if (req->job.result != GH_OK) {
        reply_error(req, req->job.result, NULL);
        return;
    }
    gh_status st = password_change_finish(req->app, &req->user, req->job.hash,
                                          req->session.token_hash, &req->client);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_message(req, 200, "Your password has been changed. Your other sessions were signed out.");
}

static void change_verified(struct request *req)
{
    const struct change_input *in = req->state;
    gh_status st =
        password_change_verified(req->app, &req->user, &in->attempt, req->job.result, &req->client);
    if (st != GH_OK) {
        reply_error(req, st, st == GH_ERR_WRONG_PASSWORD ? "current_password" : NULL);
        return;
    }
    http_run_hash_job(req, HASH_JOB_HASH, in->new_password, NULL, change_hashed);
}

void api_password_change(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct change_input, current_password, true, PASSWORD_INPUT_MAX),
        JSON_FIELD(struct change_input, new_password, true, PASSWORD_INPUT_MAX),
    };
    struct change_input *in =
        api_state_decode(req, sizeof *in, fields, sizeof fields / sizeof fields[0]);
    if (!in)
        return;
    gh_status st = password_change_check(req->app, &req->user, in->new_password,
                                         request_cookie(req, DEVICE_COOKIE_NAME), &req->client,
                                         &in->attempt, &req->retry_after);
    if (st != GH_OK) {
        reply_account_error(req, st, "new_password");
        return;
    }
    if (!http_try_hash_job(req, HASH_JOB_VERIFY, in->current_password, req->user.password_hash,
                           change_verified)) {
        password_change_abandon(req->app, &in->attempt);
        reply_error(req, GH_BUSY, NULL);
    }
}
