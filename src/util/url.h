/* URL text helpers. */
#ifndef GH_URL_H
#define GH_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Writes s percent-encoded into out (cap bytes, always terminated): RFC 3986 unreserved
 * characters stay, everything else, space included, becomes %XX. Stops early rather than
 * writing half an escape when out is too small. */
void url_percent_encode(const char *s, char *out, size_t cap);

/* Decodes the n bytes at s (application/x-www-form-urlencoded: %XX and '+' for space) into out
 * (cap bytes, terminated). False for a malformed escape, a NUL, or when out is too small. */
bool url_form_decode(const char *s, size_t n, char *out, size_t cap);

#endif
