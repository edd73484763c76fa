/* The route table of gatehouse: every path, method and the checks the HTTP layer runs first. */
#include "../http/router.h"
#include "api.h"

#define JSON_IN (ROUTE_JSON_BODY | ROUTE_ORIGIN_CHECK)

const struct route routes[] = {
    {"GET", "/health-check", api_health_check, 0},
    {"POST", "/users/register", api_users_register, JSON_IN},
    {"GET", "/users/register/confirm", api_users_confirm, 0},
    {"POST", "/users/regenerate-token", api_users_regenerate_token, JSON_IN},
    {"POST", "/users/login", api_users_login, JSON_IN},
    {"GET", "/users/current-user", api_users_current_user, 0},
    {"POST", "/users/logout", api_users_logout, ROUTE_IGNORE_BODY | ROUTE_ORIGIN_CHECK},
};

const size_t route_count = sizeof routes / sizeof routes[0];
