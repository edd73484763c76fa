/* A growable byte buffer, always NUL-terminated, with an optional size cap.
 * The one dynamic-buffer type of gatehouse: request bodies, mail messages, SQL scripts.
 * Memory it lets go of (when growing or freed) is wiped first: request bodies hold passwords. */
#ifndef GH_BUF_H
#define GH_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "status.h"

struct buf {
    char *data; /* NULL until the first append; always NUL-terminated after */
    size_t len; /* bytes used, not counting the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t
        limit; /* appends that would grow len past this fail with GH_ERR_TOO_LARGE; 0 = no limit */
};

/* Appends n bytes; GH_ERR_TOO_LARGE when the limit would be passed, GH_NO_MEMORY on allocation
 * failure. */
GH_MUST_CHECK gh_status buf_append(struct buf *b, const void *data, size_t n);
GH_MUST_CHECK gh_status buf_append_str(struct buf *b, const char *s);
GH_MUST_CHECK gh_status buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Makes room for extra more bytes at once (every append does this first), for a caller that
 * knows about how much it will append: one allocation instead of a few growing ones. The
 * limit applies as to an append. */
GH_MUST_CHECK gh_status buf_reserve(struct buf *b, size_t extra);
/* Wipes and frees the storage and resets the buffer (the limit is kept). NULL-safe. */
void buf_free(struct buf *b);

#endif
