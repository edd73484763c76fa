/* What other services and clients read to trust gatehouse's tokens: the JWKS (the public
 * signing keys) and the OAuth 2.0 / OpenID Connect metadata (RFC 8414, OIDC Discovery). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/jwt.h"
#include "../core/keys.h"
#include "api.h"

/* ---- GET /.well-known/jwks.json ---- */

void api_wellknown_jwks(struct request *req)
{
    char *json = NULL;
    gh_status st = keys_jwks(req->app, &json);
    if (st != GH_OK) {
        reply_error(req, st, NULL);
        return;
    }
    /* Verifiers may cache it briefly: a new key is published before it signs. */
    reply_cacheable(req, 200, json, strlen(json), "application/json; charset=utf-8",
                    "public, max-age=60");
}

/* The metadata both documents share. New reference. */
static json_t *metadata(struct request *req)
{
    const struct config *cfg = req->app->cfg;
    char jwks[CONFIG_URL_MAX + 32], token[CONFIG_URL_MAX + 32], introspect[CONFIG_URL_MAX + 32],
        revoke[CONFIG_URL_MAX + 32];
    snprintf(jwks, sizeof jwks, "%s/.well-known/jwks.json", cfg->public_url);
    snprintf(token, sizeof token, "%s/oauth/token", cfg->public_url);
    snprintf(introspect, sizeof introspect, "%s/oauth/introspect", cfg->public_url);
    snprintf(revoke, sizeof revoke, "%s/oauth/revoke", cfg->public_url);
    const char *alg = jwt_alg_name((enum jwt_alg)cfg->jwt_alg);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:[ss], s:[sss], s:[ss], s:[s], s:[s], s:[s], "
        "s:[s], s:[s]}",
        "issuer", cfg->issuer, "jwks_uri", jwks, "token_endpoint", token, "introspection_endpoint",
        introspect, "revocation_endpoint", revoke, "grant_types_supported", "refresh_token",
        "client_credentials", "token_endpoint_auth_methods_supported", "client_secret_basic",
        "client_secret_post", "none", "introspection_endpoint_auth_methods_supported",
        "client_secret_basic", "client_secret_post",
        "token_endpoint_auth_signing_alg_values_supported", alg,
        "id_token_signing_alg_values_supported", alg, "subject_types_supported", "public",
        "response_types_supported", "token", "access_token_signing_alg_values_supported", alg);
}

/* ---- GET /.well-known/openid-configuration, /.well-known/oauth-authorization-server ---- */

void api_wellknown_metadata(struct request *req)
{
    json_t *doc = metadata(req);
    char *json = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!json) {
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    reply_cacheable(req, 200, json, strlen(json), "application/json; charset=utf-8",
                    "public, max-age=3600");
}
