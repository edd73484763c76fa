/* The route table of gatehouse: every path and method, where its handler runs, who may call it
 * and the checks the HTTP layer runs first. */
#include "../http/router.h"
#include "api.h"

/* A JSON request that spends a credential check or sends mail. */
#define CREDENTIALS (ROUTE_JSON_BODY | ROUTE_ORIGIN_CHECK | ROUTE_RATE_IP)
/* Its handler hashes a password: it runs on the CPU pool. */
#define HASHES ROUTE_ON_CPU_POOL
/* A signed-in user's request: the session cookie or a Bearer access token, from this site or
 * from a token client's origin. */
#define SIGNED_IN     (AUTH_SESSION | AUTH_BEARER)
#define TOKEN_CLIENTS ROUTE_CORS

const struct route api_routes[] = {
    /* method, path, handler, flags, who may call */
    {"GET", "/health-check", api_health_check, 0, 0},
    {"GET", "/ready", api_ready, 0, 0},
    {"GET", "/metrics", api_metrics, 0, 0},
    {"POST", "/users/register", api_users_register, CREDENTIALS | HASHES, 0},
    {"GET", "/users/register/confirm", api_users_confirm, 0, 0},
    {"POST", "/users/regenerate-token", api_users_regenerate_token, CREDENTIALS, 0},
    {"POST", "/users/login", api_users_login, CREDENTIALS | HASHES, 0},
    {"GET", "/users/current-user", api_users_current_user, TOKEN_CLIENTS, SIGNED_IN},
    {"PATCH", "/users/update-user", api_users_update_user,
     ROUTE_FORM_BODY | ROUTE_ORIGIN_CHECK | ROUTE_ON_IO_POOL | TOKEN_CLIENTS, SIGNED_IN},
    {"POST", "/users/logout", api_users_logout, ROUTE_IGNORE_BODY | ROUTE_ORIGIN_CHECK, SIGNED_IN},
    {"POST", "/users/password-change/request-password-change", api_password_request_reset,
     CREDENTIALS, 0},
    {"GET", "/users/password-change/confirm/change-password", api_password_confirm_reset, 0, 0},
    {"POST", "/users/password-change/change-user-password", api_password_reset,
     CREDENTIALS | HASHES, 0},
    {"POST", "/users/change-password", api_password_change, CREDENTIALS | HASHES | TOKEN_CLIENTS,
     SIGNED_IN},
    {"GET", "/users/sessions", api_sessions_list, TOKEN_CLIENTS, SIGNED_IN},
    {"DELETE", "/users/sessions/*", api_sessions_delete, ROUTE_ORIGIN_CHECK | TOKEN_CLIENTS,
     SIGNED_IN},
    {"POST", "/api/token", api_token_obtain, CREDENTIALS | HASHES | TOKEN_CLIENTS, 0},
    {"POST", "/api/token/refresh", api_token_refresh, ROUTE_JSON_BODY | TOKEN_CLIENTS, 0},
    {"POST", "/api/token/verify", api_token_verify, ROUTE_JSON_BODY | TOKEN_CLIENTS, 0},
    {"POST", "/api/token/blacklist", api_token_revoke, ROUTE_JSON_BODY | TOKEN_CLIENTS, 0},
    {"POST", "/api/token/revoke", api_token_revoke, ROUTE_JSON_BODY | TOKEN_CLIENTS, 0},
    {"POST", "/oauth/token", api_oauth_token, ROUTE_FORM_BODY | TOKEN_CLIENTS, 0},
    {"POST", "/oauth/introspect", api_oauth_introspect, ROUTE_FORM_BODY, 0},
    {"POST", "/oauth/revoke", api_oauth_revoke, ROUTE_FORM_BODY | TOKEN_CLIENTS, 0},
    {"GET", "/oauth/providers", api_oidc_providers, 0, 0},
    {"GET", "/oauth/*/login", api_oidc_login, ROUTE_ON_IO_POOL, 0},
    {"GET", "/oauth/*/callback", api_oidc_callback, ROUTE_ON_IO_POOL, 0},
    {"DELETE", "/users/providers/*", api_oidc_unlink, ROUTE_ORIGIN_CHECK | TOKEN_CLIENTS,
     SIGNED_IN},
    {"GET", "/.well-known/jwks.json", api_wellknown_jwks, TOKEN_CLIENTS, 0},
    {"GET", "/.well-known/openid-configuration", api_wellknown_metadata, TOKEN_CLIENTS, 0},
    {"GET", "/.well-known/oauth-authorization-server", api_wellknown_metadata, TOKEN_CLIENTS, 0},
    {"GET", "/media/**", api_media_get, 0, 0},
    {"GET", "/openapi.yaml", api_openapi_get, TOKEN_CLIENTS, 0},
    {"GET", "/", api_web_get, 0, 0},
    {"GET", "/auth/**", api_web_get, 0, 0},
    {"GET", "/static/**", api_web_get, 0, 0},
};

const size_t api_route_count = sizeof api_routes / sizeof api_routes[0];
