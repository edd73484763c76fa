/* The Set-Cookie values of the session cookie and the other cookies gatehouse sets. */
#include "cookie.h"

#include <stdio.h>

void cookie_format_session(const struct config *cfg, const char *token, char *out, size_t cap)
{
    snprintf(out, cap, "%s=%s;%s HttpOnly; SameSite=Lax; Path=/%s", cfg->cookie_name,
             token ? token : "", token ? "" : " Max-Age=0;",
             config_cookie_secure(cfg) ? "; Secure" : "");
}

void cookie_format_device(const struct config *cfg, const char *name, const char *value,
                          int max_age, char *out, size_t cap)
{
    cookie_format_scoped(cfg, name, value, max_age, "/", out, cap);
}

void cookie_format_scoped(const struct config *cfg, const char *name, const char *value,
                          int max_age, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s=%s; Max-Age=%d; HttpOnly; SameSite=Lax; Path=%s%s", name, value, max_age,
             path, config_cookie_secure(cfg) ? "; Secure" : "");
}
