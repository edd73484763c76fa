/* The route table of gatehouse: every path and method, where its handler runs, who may call it
 * and the checks the HTTP layer runs first. */
#include "../http/router.h"
#include "api.h"

/* A JSON request that spends a credential check or sends mail. */
#define CREDENTIALS (ROUTE_JSON_BODY | ROUTE_ORIGIN_CHECK | ROUTE_RATE_IP)
/* Its handler hashes a password: it runs on the CPU pool. */
#define HASHES ROUTE_ON_CPU_POOL
/* A signed-in user's request: the session cookie. */
#define SIGNED_IN AUTH_SESSION

const struct route api_routes[] = {
    /* method, path, handler, flags, who may call */
    {"GET", "/health-check", api_health_check, 0, 0},
    {"GET", "/ready", api_ready, 0, 0},
    {"GET", "/metrics", api_metrics, 0, 0},
    {"POST", "/users/register", api_users_register, CREDENTIALS | HASHES, 0},
    {"GET", "/users/register/confirm", api_users_confirm, 0, 0},
    {"POST", "/users/regenerate-token", api_users_regenerate_token, CREDENTIALS, 0},
    {"POST", "/users/login", api_users_login, CREDENTIALS | HASHES, 0},
    {"GET", "/users/current-user", api_users_current_user, 0, SIGNED_IN},
    {"PATCH", "/users/update-user", api_users_update_user,
     ROUTE_FORM_BODY | ROUTE_ORIGIN_CHECK | ROUTE_ON_IO_POOL, SIGNED_IN},
    {"POST", "/users/logout", api_users_logout, ROUTE_IGNORE_BODY | ROUTE_ORIGIN_CHECK, SIGNED_IN},
    {"POST", "/users/password-change/request-password-change", api_password_request_reset,
     CREDENTIALS, 0},
    {"GET", "/users/password-change/confirm/change-password", api_password_confirm_reset, 0, 0},
    {"POST", "/users/password-change/change-user-password", api_password_reset,
     CREDENTIALS | HASHES, 0},
    {"POST", "/users/change-password", api_password_change, CREDENTIALS | HASHES, SIGNED_IN},
    {"GET", "/users/sessions", api_sessions_list, 0, SIGNED_IN},
    {"DELETE", "/users/sessions/*", api_sessions_delete, ROUTE_ORIGIN_CHECK, SIGNED_IN},
    {"GET", "/media/**", api_media_get, 0, 0},
    {"GET", "/", api_web_get, 0, 0},
    {"GET", "/auth/**", api_web_get, 0, 0},
    {"GET", "/static/**", api_web_get, 0, 0},
};

const size_t api_route_count = sizeof api_routes / sizeof api_routes[0];
