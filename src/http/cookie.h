/* The Set-Cookie value of the session cookie (SPEC §2.2). */
#ifndef GH_COOKIE_H
#define GH_COOKIE_H

#include <stddef.h>

#include "../config.h"

/* Writes "NAME=TOKEN; HttpOnly; SameSite=Lax; Path=/" (plus "; Secure" when configured) into
 * out; with token NULL, the removal cookie "NAME=; Max-Age=0; HttpOnly; ...". */
void cookie_format_session(const struct config *cfg, const char *token, char *out, size_t cap);

#endif
