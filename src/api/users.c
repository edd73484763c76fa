/* The /users/... account routes: register, confirm, regenerate-token, login, current-user,
 * logout. Each handler decodes its input, calls core/account.c and encodes the answer. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/account.h"
#include "../core/device.h"
#include "../core/session.h"
#include "../http/cookie.h"
#include "../http/json_input.h"
#include "../util/log.h"
#include "../util/url.h"
#include "api.h"

/* ---- POST /users/register/ (CPU pool: it hashes) ---- */

void api_users_register(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct registration, email, true, EMAIL_MAX),
        JSON_FIELD(struct registration, password, true, PASSWORD_INPUT_MAX),
        JSON_FIELD(struct registration, first_name, true, NAME_INPUT_MAX),
        JSON_FIELD(struct registration, last_name, true, NAME_INPUT_MAX),
    };
    struct registration in;
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    gh_status st = account_register(req->app, &in, &req->client);
    if (st != GH_OK) {
        reply_account_error(req, st, "password");
        return;
    }
    /* The same answer whether or not the address already had an account (SPEC §8). */
    reply_message(req, 201, "Registration received. Check your email to continue.");
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

/* ---- POST /users/login/ (CPU pool: it verifies a hash) ---- */

void api_users_login(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct login_input, email, true, EMAIL_MAX),
        JSON_FIELD(struct login_input, password, true, PASSWORD_INPUT_MAX),
    };
    struct login_input in = {0};
    struct login_result out;
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    in.device_cookie = request_cookie(req, DEVICE_COOKIE_NAME);
    in.old_session_token = request_session_token(req);
    gh_status st = account_login(req->app, &in, &req->client, &out);
    req->retry_after = out.retry_after;
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_set_session_cookie(req, out.session_token);
    reply_user(req, 200, &out.user);
    sodium_memzero(&out, sizeof out);
}

/* ---- GET /users/current-user/ ---- */

/* Adds the Set-Cookie of the device cookie with value to the answer about to be sent. */
static void set_device_cookie(struct request *req, const char *value)
{
    cookie_format_device(req->app->cfg, DEVICE_COOKIE_NAME, value, DEVICE_COOKIE_LIFETIME,
                         req->cookie, sizeof req->cookie);
}

/* A browser without a valid device cookie for this user gets one here: the login answer may
 * carry only the session cookie (SPEC §2.2), and this is the call a frontend makes right after
 * a login. Checking and signing are an HMAC each, never a write. */
void api_users_current_user(struct request *req)
{
    char device[DEVICE_COOKIE_MAX];
    /* A device cookie names a browser that signed in with a session, its nonce derived from the
     * session; a Bearer caller has none, and may be another site's page or a stolen token. */
    if (req->principal.kind == PRINCIPAL_SESSION &&
        device_cookie_refresh(req->app, req->principal.user.email, req->principal.session.id,
                              request_cookie(req, DEVICE_COOKIE_NAME), device))
        set_device_cookie(req, device);
    reply_user(req, 200, &req->principal.user);
}

/* ---- POST /users/logout/ ---- */

void api_users_logout(struct request *req)
{
    gh_status st =
        account_logout(req->app, &req->principal.session, &req->principal.user, &req->client);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_clear_session_cookie(req);
    reply_message(req, 200, "You have been logged out.");
}
