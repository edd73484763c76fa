/* The route table of gatehouse: every path, method and the checks the HTTP layer runs first. */
#include "../http/router.h"
#include "api.h"

/* A JSON request that spends a credential check or sends mail. */
#define CREDENTIALS (ROUTE_JSON_BODY | ROUTE_ORIGIN_CHECK | ROUTE_RATE_IP)

const struct route routes[] = {
    {"GET", "/health-check", api_health_check, 0},
    {"GET", "/ready", api_ready, 0},
    {"GET", "/metrics", api_metrics, 0},
    {"POST", "/users/register", api_users_register, CREDENTIALS},
    {"GET", "/users/register/confirm", api_users_confirm, 0},
    {"POST", "/users/regenerate-token", api_users_regenerate_token, CREDENTIALS},
    {"POST", "/users/login", api_users_login, CREDENTIALS},
    {"GET", "/users/current-user", api_users_current_user, ROUTE_SESSION},
    {"PATCH", "/users/update-user", api_users_update_user,
     ROUTE_FORM_BODY | ROUTE_ORIGIN_CHECK | ROUTE_SESSION | ROUTE_ON_IO_POOL},
    {"POST", "/users/logout", api_users_logout,
     ROUTE_IGNORE_BODY | ROUTE_ORIGIN_CHECK | ROUTE_SESSION},
    {"POST", "/users/password-change/request-password-change", api_password_request_reset,
     CREDENTIALS},
    {"GET", "/users/password-change/confirm/change-password", api_password_confirm_reset, 0},
    {"POST", "/users/password-change/change-user-password", api_password_reset, CREDENTIALS},
    {"POST", "/users/change-password", api_password_change, CREDENTIALS | ROUTE_SESSION},
    {"GET", "/users/sessions", api_sessions_list, ROUTE_SESSION},
    {"DELETE", "/users/sessions/*", api_sessions_delete, ROUTE_ORIGIN_CHECK | ROUTE_SESSION},
    {"GET", "/media/**", api_media_get, 0},
    {"GET", "/", api_web_get, 0},
    {"GET", "/auth/**", api_web_get, 0},
    {"GET", "/static/**", api_web_get, 0},
};

const size_t route_count = sizeof routes / sizeof routes[0];
