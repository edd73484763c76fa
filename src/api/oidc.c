/* Sign in with a provider: the routes a browser follows (login, callback), the list of
 * providers the UI shows, and unlinking. Login and callback call the provider, so they run on
 * the I/O pool. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../core/oidc.h"
#include "../http/cookie.h"
#include "api.h"

/* ---- GET /oauth/providers ---- */

void api_oidc_providers(struct request *req)
{
    const struct config *cfg = req->app->cfg;
    json_t *list = json_array();
    for (size_t i = 0; list && i < cfg->provider_count; i++) {
        char login[CONFIG_URL_MAX + 64];
        snprintf(login, sizeof login, "%s/oauth/%s/login/", cfg->public_url,
                 cfg->providers[i].name);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", cfg->providers[i].name,
                                              "display_name", cfg->providers[i].display_name,
                                              "login_url", login));
    }
    reply_json(req, 200, list ? json_pack("{s:o}", "providers", list) : NULL);
}

/* ---- GET /oauth/{provider}/login/?next=/path ---- */

void api_oidc_login(struct request *req)
{
    struct oidc_start start;
    gh_status st = oidc_login_start(req->app, req->param, request_query(req, "next"), &start);
    if (st == GH_NOT_FOUND) {
        reply_error(req, GH_ERR_NOT_FOUND_ROUTE, NULL);
        return;
    }
    if (st != GH_OK) {
        redirect_to_frontend(req, "/auth/error", REASON_SOCIAL_PROVIDER);
        return;
    }
    /* The cookie that binds this login to this browser: sent back only to /oauth/ */
    cookie_format_scoped(req->app->cfg, OIDC_BINDING_COOKIE, start.binding, OIDC_STATE_LIFETIME,
                         "/oauth/", req->cookie, sizeof req->cookie);
    reply_redirect(req, start.location);
    sodium_memzero(&start, sizeof start);
}

/* ---- GET /oauth/{provider}/callback/?code&state ---- */

static enum redirect_reason reason_of(enum oidc_failure why)
{
    switch (why) {
    case OIDC_FAILED_STATE:
        return REASON_SOCIAL_STATE;
    case OIDC_FAILED_DENIED:
        return REASON_SOCIAL_DENIED;
    case OIDC_FAILED_PROVIDER:
        return REASON_SOCIAL_PROVIDER;
    case OIDC_FAILED_TOKEN:
        return REASON_SOCIAL_TOKEN;
    case OIDC_FAILED_EMAIL:
        return REASON_SOCIAL_EMAIL;
    default:
        return REASON_SOCIAL_FAILED;
    }
}

void api_oidc_callback(struct request *req)
{
    struct oidc_callback in = {
        .provider = req->param,
        .code = request_query(req, "code"),
        .state = request_query(req, "state"),
        .error = request_query(req, "error"),
        .binding = request_cookie(req, OIDC_BINDING_COOKIE),
        .old_session_token = request_session_token(req),
    };
    struct oidc_login out;
    enum oidc_failure why = OIDC_FAILED_INTERNAL;
    char location[CONFIG_URL_MAX + NEXT_PATH_MAX];
    gh_status st = oidc_login_finish(req->app, &in, &req->client, &out, &why);
    if (st == GH_NOT_FOUND && !config_provider(req->app->cfg, req->param)) {
        reply_error(req, GH_ERR_NOT_FOUND_ROUTE, NULL);
    } else if (st != GH_OK) {
        redirect_to_frontend(req, "/auth/error", reason_of(why));
    } else {
        reply_set_session_cookie(req, out.session_token);
        snprintf(location, sizeof location, "%s%s", req->app->cfg->frontend_url, out.next);
        reply_redirect(req, location);
    }
    sodium_memzero(&out, sizeof out);
}

/* ---- DELETE /users/providers/{provider}/ ---- */

void api_oidc_unlink(struct request *req)
{
    gh_status st = oidc_unlink(req->app, &req->principal.user, req->param, &req->client);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    reply_message(req, 200, "The provider is no longer linked to your account.");
}
