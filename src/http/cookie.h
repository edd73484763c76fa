/* The Set-Cookie values of the session cookie (SPEC §2.2) and the device cookie. */
#ifndef GH_COOKIE_H
#define GH_COOKIE_H

#include <stddef.h>

#include "../config.h"

/* Writes "NAME=TOKEN; HttpOnly; SameSite=Lax; Path=/" (plus "; Secure" when configured) into
 * out; with token NULL, the removal cookie "NAME=; Max-Age=0; HttpOnly; ...". */
void cookie_format_session(const struct config *cfg, const char *token, char *out, size_t cap);

/* Writes "NAME=VALUE; Max-Age=SECONDS; HttpOnly; SameSite=Lax; Path=/" (plus "; Secure" like
 * the session cookie) into out: the long-lived device cookie of core/device.h. */
void cookie_format_device(const struct config *cfg, const char *name, const char *value,
                          int max_age, char *out, size_t cap);

/* Like cookie_format_device, for the cookie path path (a login in progress at an OpenID Connect
 * provider binds its browser with a cookie on /oauth/ only). */
void cookie_format_scoped(const struct config *cfg, const char *name, const char *value,
                          int max_age, const char *path, char *out, size_t cap);

#endif
