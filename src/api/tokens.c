/* The /api/token/... routes, shaped like Django REST framework SimpleJWT's so clients written for
 * it keep working: obtain a pair, refresh (rotating), verify, blacklist/revoke. Their errors
 * carry SimpleJWT's "detail" and "code" beside gatehouse's own "error". */
#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "../core/account.h"
#include "../core/device.h"
#include "../core/login_pad.h"
#include "../core/tokens.h"
#include "../http/errors.h"
#include "../http/json_input.h"
#include "../util/timeutil.h"
#include "api.h"

/* Answers a failure of a token route. A bad token or bad credentials get SimpleJWT's 401 with
 * "detail" and its "code" ("token_not_valid", "no_active_account") beside "error"; anything
 * else (a malformed body, a limit, an outage) gets gatehouse's usual answer. */
static void reply_token_error(struct request *req, gh_status st)
{
    if (st == GH_ERR_INACTIVE)
        st = GH_ERR_INVALID_CREDENTIALS; /* SimpleJWT tells no inactive account apart */
    bool bad_token = st == GH_ERR_INVALID_GRANT || st == GH_ERR_INVALID_TOKEN;
    if (!bad_token && st != GH_ERR_INVALID_CREDENTIALS) {
        reply_error(req, st, NULL);
        return;
    }
    const char *text = bad_token ? "Token is invalid or expired." : error_lookup(st)->message;
    reply_json(req, 401,
               json_pack("{s:s, s:s, s:s}", "error", text, "detail", text, "code",
                         bad_token ? "token_not_valid" : "no_active_account"));
}

/* Answers a token pair as SimpleJWT does, plus what OAuth clients expect. */
static void reply_pair(struct request *req, const struct token_pair *p)
{
    reply_json(req, 200,
               json_pack("{s:s, s:s, s:s, s:i}", "access", p->access, "refresh", p->refresh,
                         "token_type", "Bearer", "expires_in", p->expires_in));
}

/* ---- POST /api/token/ (CPU pool: it verifies a hash) ---- */

void api_token_obtain(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct login_input, email, true, EMAIL_MAX),
        JSON_FIELD(struct login_input, password, true, PASSWORD_INPUT_MAX),
    };
    struct login_input in = {0};
    struct user u;
    struct token_pair pair = {0};
    int64_t started = time_mono_us();
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    in.device_cookie = request_cookie(req, DEVICE_COOKIE_NAME);
    gh_status st = account_check_password(req->app, &in, &req->client, &u, &req->retry_after);
    /* whatever the outcome, not before the pad's floor */
    reply_hold_until(req, login_pad_until(req->app, started));
    if (st == GH_OK)
        st = tokens_issue(req->app, &u, "", "", &req->client, &pair);
    if (st == GH_OK)
        reply_pair(req, &pair);
    else
        reply_token_error(req, st);
    token_pair_clear(&pair);
    sodium_memzero(&u, sizeof u);
}

/* ---- POST /api/token/refresh/ ---- */

struct refresh_input {
    const char *refresh;
};

void api_token_refresh(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct refresh_input, refresh, true, 256),
    };
    struct refresh_input in;
    struct token_pair pair = {0};
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    gh_status st = tokens_refresh(req->app, in.refresh, "", &req->client, &pair);
    if (st == GH_OK)
        reply_pair(req, &pair);
    else
        reply_token_error(req, st);
    token_pair_clear(&pair);
}

/* ---- POST /api/token/verify/ ---- */

struct verify_input {
    const char *token;
};

void api_token_verify(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct verify_input, token, true, JWT_TOKEN_MAX),
    };
    struct verify_input in;
    struct access_claims claims;
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    gh_status st = tokens_verify_access(req->app, in.token, &claims);
    if (st == GH_OK)
        reply_json(req, 200, json_object());
    else
        reply_token_error(req, st);
}

/* ---- POST /api/token/blacklist/ and /api/token/revoke/ ---- */

void api_token_revoke(struct request *req)
{
    static const struct json_field fields[] = {
        JSON_FIELD(struct refresh_input, refresh, true, 256),
    };
    struct refresh_input in;
    if (!api_decode(req, fields, sizeof fields / sizeof fields[0], &in))
        return;
    gh_status st = tokens_revoke(req->app, in.refresh, "", &req->client);
    if (st == GH_OK)
        reply_json(req, 200, json_object());
    else
        reply_token_error(req, st);
}
