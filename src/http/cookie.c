/* The session cookie's Set-Cookie value. */
#include "cookie.h"

#include <stdio.h>

void cookie_format_session(const struct config *cfg, const char *token, char *out, size_t cap)
{
    snprintf(out, cap, "%s=%s;%s HttpOnly; SameSite=Lax; Path=/%s", cfg->cookie_name,
             token ? token : "", token ? "" : " Max-Age=0;",
             config_cookie_secure(cfg) ? "; Secure" : "");
}
