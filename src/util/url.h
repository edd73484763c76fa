/* URL text helpers. */
#ifndef GH_URL_H
#define GH_URL_H

#include <stddef.h>

/* Writes s percent-encoded into out (cap bytes, always terminated): RFC 3986 unreserved
 * characters stay, everything else, space included, becomes %XX. Stops early rather than
 * writing half an escape when out is too small. */
void url_percent_encode(const char *s, char *out, size_t cap);

#endif
