/* A small JSON writer for the hot answers (the user object): appends to a struct buf without
 * building a tree first. Strings must be valid UTF-8 (they come from the database, which only
 * holds what the JSON decoder accepted). */
#ifndef GH_JSONW_H
#define GH_JSONW_H

#include <stdbool.h>

#include "buf.h"

/* Appends "s" with JSON escaping. */
GH_MUST_CHECK gh_status jsonw_string(struct buf *b, const char *s);
/* Appends "s", or null when s is empty. */
GH_MUST_CHECK gh_status jsonw_string_or_null(struct buf *b, const char *s);
/* Appends "key": (with a leading comma unless first). */
GH_MUST_CHECK gh_status jsonw_key(struct buf *b, const char *key, bool first);

#endif
