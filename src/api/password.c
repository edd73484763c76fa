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

/* ---- POST /users/password-change/change-user-password/ (CPU pool: it hashes) ---- */

struct reset_input {
    const char *token;
    const char *password;
};

void api_password_reset(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct reset_input, token, true, 64),
        JSON_FIELD(struct reset_input, password, true, PASSWORD_INPUT_MAX),
    };
    struct reset_input in;
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    gh_status st = password_reset(req->app, in.token, in.password, &req->client);
    if (st == GH_ERR_INVALID_TOKEN) {
        reply_error(req, st, "token");
        return;
    }
    if (st != GH_OK) {
        reply_account_error(req, st, "password");
        return;
    }
    reply_message(req, 200, "Your password has been changed. You can now log in with it.");
}

/* ---- POST /users/change-password/ (CPU pool: it verifies and hashes) ---- */

void api_password_change(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct password_change_input, current_password, true, PASSWORD_INPUT_MAX),
        JSON_FIELD(struct password_change_input, new_password, true, PASSWORD_INPUT_MAX),
    };
    struct password_change_input in = {0};
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    in.device_cookie = request_cookie(req, DEVICE_COOKIE_NAME);
    gh_status st = password_change(req->app, &req->principal, &in, &req->client, &req->retry_after);
    if (st == GH_ERR_WRONG_PASSWORD) {
        reply_error(req, st, "current_password");
        return;
    }
    if (st != GH_OK) {
        reply_account_error(req, st, "new_password");
        return;
    }
    reply_message(req, 200, "Your password has been changed. Your other sessions were signed out.");
}
