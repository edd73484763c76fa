/* The OAuth 2.0 endpoints for clients and services: POST /oauth/token (RFC 6749: refresh_token
 * and client_credentials grants), /oauth/introspect (RFC 7662) and /oauth/revoke (RFC 7009).
 * Form-encoded bodies; errors in the RFC's shape, {"error": code, "error_description": text}. */
#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "../core/clients.h"
#include "../core/ratelimit.h"
#include "../core/tokens.h"
#include "../http/errors.h"
#include "../util/url.h"
#include "api.h"

#define CLIENT_ID_MAX     64
#define CLIENT_SECRET_MAX 128

/* Answers an OAuth error (RFC 6749 §5.2). A client that authenticated with HTTP Basic and
 * failed is asked to again (401 + WWW-Authenticate). Limits and outages keep gatehouse's
 * answer, which carries Retry-After. */
static void reply_oauth_error(struct request *req, gh_status st)
{
    const struct error_info *info = error_lookup(st);
    if (st == GH_ERR_RATE_LIMITED || info->http_status >= 500) {
        reply_error(req, st, NULL);
        return;
    }
    char text[256];
    const char *code = info->code;
    if (st == GH_ERR_MISSING_FIELD || st == GH_ERR_WRONG_TYPE || st == GH_ERR_TOO_LONG ||
        st == GH_ERR_INVALID_FORM || st == GH_ERR_DUPLICATE_FIELD ||
        st == GH_ERR_INVALID_CHARACTERS)
        code = "invalid_request";
    snprintf(text, sizeof text, info->message, info->field ? info->field : "given");
    reply_json_status(req, info->http_status,
                      json_pack("{s:s, s:s}", "error", code, "error_description", text),
                      st == GH_ERR_INVALID_CLIENT && request_header(req, "Authorization")
                          ? "Basic realm=\"gatehouse\""
                          : NULL);
}

/* The text of form field name, NULL when absent. */
static const char *form_text(struct request *req, const char *name)
{
    const struct form_field *f = request_form_field(req, name);
    if (!f || f->is_file || f->too_large)
        return NULL;
    return f->value.data ? f->value.data : "";
}

/* Reads the client's credentials: HTTP Basic (RFC 6749 §2.3.1: form-encoded id and secret) or
 * the client_id and client_secret fields, never both. */
static gh_status read_client_credentials(struct request *req, char id[CLIENT_ID_MAX],
                                         char secret[CLIENT_SECRET_MAX], bool *has_secret)
{
    const char *auth = request_header(req, "Authorization");
    const char *form_id = form_text(req, "client_id");
    const char *form_secret = form_text(req, "client_secret");
    *has_secret = false;
    if (auth) {
        unsigned char raw[CLIENT_ID_MAX + CLIENT_SECRET_MAX + 8];
        size_t n = 0;
        if (strncasecmp(auth, "Basic ", 6) || form_secret ||
            sodium_base642bin(raw, sizeof raw - 1, auth + 6, strlen(auth + 6), NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return GH_ERR_INVALID_CLIENT;
        const unsigned char *colon = memchr(raw, ':', n);
        if (!colon ||
            !url_form_decode((const char *)raw, (size_t)(colon - raw), id, CLIENT_ID_MAX) ||
            !url_form_decode((const char *)colon + 1, n - (size_t)(colon - raw) - 1, secret,
                             CLIENT_SECRET_MAX))
            return GH_ERR_INVALID_CLIENT;
        sodium_memzero(raw, sizeof raw);
        *has_secret = true;
        return form_id && strcmp(form_id, id) ? GH_ERR_INVALID_CLIENT : GH_OK;
    }
    if (!form_id || str_copy(id, CLIENT_ID_MAX, form_id) != GH_OK)
        return GH_ERR_INVALID_CLIENT;
    if (form_secret) {
        if (str_copy(secret, CLIENT_SECRET_MAX, form_secret) != GH_OK)
            return GH_ERR_INVALID_CLIENT;
        *has_secret = true;
    }
    return GH_OK;
}

/* Authenticates the calling client; confidential_only refuses public clients. */
static gh_status authenticate_client(struct request *req, bool confidential_only,
                                     struct oauth_client *c)
{
    char id[CLIENT_ID_MAX], secret[CLIENT_SECRET_MAX];
    bool has_secret = false;
    gh_status st = read_client_credentials(req, id, secret, &has_secret);
    if (st == GH_OK)
        st = client_authenticate(req->app, id, has_secret ? secret : NULL, c);
    if (st == GH_OK && confidential_only && !c->confidential)
        st = GH_ERR_INVALID_CLIENT;
    sodium_memzero(secret, sizeof secret);
    return st;
}

/* Answers a token response (RFC 6749 §5.1). */
static void reply_token_response(struct request *req, const struct token_pair *p)
{
    json_t *body = json_pack("{s:s, s:s, s:i}", "access_token", p->access, "token_type", "Bearer",
                             "expires_in", p->expires_in);
    if (body && p->refresh[0])
        json_object_set_new(body, "refresh_token", json_string(p->refresh));
    reply_json(req, 200, body);
}

/* ---- POST /oauth/token ---- */

void api_oauth_token(struct request *req)
{
    struct oauth_client c;
    struct token_pair pair = {0};
    const char *grant = form_text(req, "grant_type");
    gh_status st = authenticate_client(req, false, &c);
    if (st == GH_OK)
        st = ratelimit_hit(req->app, RATE_CLIENT, c.id, &req->retry_after);
    if (st != GH_OK)
        goto out;
    if (!grant) {
        st = GH_ERR_INVALID_REQUEST;
    } else if (!strcmp(grant, "refresh_token")) {
        const char *refresh = form_text(req, "refresh_token");
        if (!(c.grants & CLIENT_GRANT_REFRESH_TOKEN))
            st = GH_ERR_UNAUTHORIZED_CLIENT;
        else
            st = refresh ? tokens_refresh(req->app, refresh, c.id, &req->client, &pair)
                         : GH_ERR_INVALID_REQUEST;
    } else if (!strcmp(grant, "client_credentials")) {
        if (!c.confidential || !(c.grants & CLIENT_GRANT_CLIENT_CREDENTIALS))
            st = GH_ERR_UNAUTHORIZED_CLIENT;
        else
            st = tokens_issue_client(req->app, &c, &pair);
    } else {
        st = GH_ERR_UNSUPPORTED_GRANT_TYPE;
    }
out:
    if (st == GH_OK)
        reply_token_response(req, &pair);
    else
        reply_oauth_error(req, st);
    token_pair_clear(&pair);
}

/* ---- POST /oauth/introspect ---- */

void api_oauth_introspect(struct request *req)
{
    struct oauth_client c;
    struct access_claims claims;
    bool active = false;
    const char *token = form_text(req, "token");
    gh_status st = authenticate_client(req, true, &c);
    if (st == GH_OK && !token)
        st = GH_ERR_INVALID_REQUEST;
    if (st == GH_OK)
        st = tokens_introspect(req->app, token, c.id, &active, &claims);
    if (st != GH_OK) {
        reply_oauth_error(req, st);
        return;
    }
    if (!active) {
        /* Revoked, expired, unknown and foreign tokens look alike (RFC 7662 §2.2). */
        reply_json(req, 200, json_pack("{s:b}", "active", 0));
        return;
    }
    json_t *body = json_pack("{s:b, s:s, s:I, s:I, s:s, s:s}", "active", 1, "sub", claims.sub,
                             "iat", (json_int_t)claims.iat, "exp", (json_int_t)claims.exp, "iss",
                             req->app->cfg->issuer, "token_type",
                             claims.jti[0] ? "access_token" : "refresh_token");
    if (body && claims.client_id[0])
        json_object_set_new(body, "client_id", json_string(claims.client_id));
    if (body && claims.jti[0]) {
        json_object_set_new(body, "jti", json_string(claims.jti));
        json_object_set_new(body, "aud", json_string(req->app->cfg->token_audience));
    }
    reply_json(req, 200, body);
}

/* ---- POST /oauth/revoke ---- */

void api_oauth_revoke(struct request *req)
{
    struct oauth_client c;
    const char *token = form_text(req, "token");
    gh_status st = authenticate_client(req, false, &c);
    if (st == GH_OK && !token)
        st = GH_ERR_INVALID_REQUEST;
    /* An access token cannot be revoked (it is verified without a call back) and an unknown
     * token is no error: both answer 200 (RFC 7009 §2.2). */
    if (st == GH_OK)
        st = tokens_revoke(req->app, token, c.id, &req->client);
    if (st == GH_OK)
        reply_json(req, 200, json_object());
    else
        reply_oauth_error(req, st);
}
