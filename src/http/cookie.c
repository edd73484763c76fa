/* The Set-Cookie values of the session and device cookies. */
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
    snprintf(out, cap, "%s=%s; Max-Age=%d; HttpOnly; SameSite=Lax; Path=/%s", name, value, max_age,
             config_cookie_secure(cfg) ? "; Secure" : "");
}
