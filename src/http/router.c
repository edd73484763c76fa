/* Matching of method and path against the route table. */
#include "router.h"

#include <string.h>

/* Matches path against a pattern whose "*" stands for one non-empty segment. */
static bool path_matches(const char *pattern, const char *path, char *param, size_t param_cap)
{
    while (*pattern && *path) {
        if (pattern[0] == '*' && pattern[1] == '*' && pattern[2] == '\0') {
            size_t n = strlen(path);
            if (n >= param_cap)
                return false;
            memcpy(param, path, n + 1);
            return true;
        }
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= param_cap)
                return false;
            memcpy(param, path, n);
            param[n] = '\0';
            path += n;
            pattern++;
            continue;
        }
        if (*pattern++ != *path++)
            return false;
    }
    return *pattern == '\0' && *path == '\0';
}

enum route_match router_find(const struct route *routes, size_t count, const char *method,
                             const char *path, const struct route **out, char *param,
                             size_t param_cap, char *allow, size_t allow_cap)
{
    bool path_known = false;
    bool is_head = !strcmp(method, "HEAD");
    allow[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        const struct route *r = &routes[i];
        if (!path_matches(r->path, path, param, param_cap))
            continue;
        if (!strcmp(r->method, method) || (is_head && !strcmp(r->method, "GET"))) {
            *out = r;
            return ROUTE_FOUND;
        }
        if (!path_known)
            *out = r;
        size_t used = strlen(allow);
        if (used + strlen(r->method) + 3 < allow_cap) {
            if (path_known)
                strcat(allow, ", ");
            strcat(allow, r->method);
        }
        path_known = true;
    }
    return path_known ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}
