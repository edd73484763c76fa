/* What the HTTP layer asks of the API before a handler runs: who is calling (the principal of
 * the credentials a route accepts) and whether the client is within its request limit. */
#include <string.h>
#include <strings.h>

#include "../core/audit.h"
#include "../core/ratelimit.h"
#include "../core/session.h"
#include "../core/tokens.h"
#include "api.h"

/* The token of an "Authorization: Bearer <token>" header, NULL without one. */
static const char *bearer_token(struct request *req)
{
    const char *auth = request_header(req, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7))
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return auth;
}

static gh_status api_authenticate(struct request *req, unsigned accepted, struct principal *out)
{
    gh_status st = GH_ERR_NOT_AUTHENTICATED;
    const char *bearer = (accepted & AUTH_BEARER) ? bearer_token(req) : NULL;
    memset(out, 0, sizeof *out);
    /* A request with a Bearer token is judged by it alone, never by a cookie sent along. */
    if (bearer) {
        st = tokens_authenticate(req->app, bearer, &out->user, out->token_id);
        if (st == GH_OK)
            out->kind = PRINCIPAL_BEARER;
    } else if (accepted & AUTH_SESSION) {
        st = session_authenticate(req->app, request_session_token(req), &out->session, &out->user);
        if (st == GH_OK)
            out->kind = PRINCIPAL_SESSION;
    }
    if (st == GH_OK && (accepted & AUTH_STAFF) && !out->user.is_staff)
        st = GH_ERR_FORBIDDEN;
    return st;
}

static gh_status api_admit(struct request *req)
{
    /* A relaying frontend's address is shared by all its users: not limited per IP. */
    if (config_frontend_relaying(req->app->cfg, req->client.ip))
        return GH_OK;
    gh_status st = ratelimit_hit(req->app, RATE_IP, req->client.ip, &req->retry_after);
    if (st == GH_ERR_RATE_LIMITED)
        audit_record(req->app, "rate_limited", NULL, NULL, &req->client, req->path);
    return st;
}

void api_http_setup(struct app *app, struct http_setup *out)
{
    *out = (struct http_setup){
        .app = app,
        .routes = api_routes,
        .route_count = api_route_count,
        .cpu_pool = app->cpu_pool,
        .io_pool = app->io_pool,
        .hooks = {.authenticate = api_authenticate, .admit = api_admit},
    };
}
