/* The growable byte buffer declared in buf.h. */
#include "buf.h"

#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gh_status buf_reserve(struct buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return GH_NO_MEMORY;
    size_t need = b->len + extra + 1;
    if (b->limit && b->len + extra > b->limit)
        return GH_ERR_TOO_LARGE;
    if (need <= b->cap)
        return GH_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* A new block instead of realloc, so the old one can be wiped: bodies hold passwords. */
    char *p = malloc(cap);
    if (!p)
        return GH_NO_MEMORY;
    if (b->data) {
        memcpy(p, b->data, b->len + 1);
        sodium_memzero(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return GH_OK;
}

gh_status buf_append(struct buf *b, const void *data, size_t n)
{
    gh_status st = buf_reserve(b, n);
    if (st != GH_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return GH_OK;
}

gh_status buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

gh_status buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return GH_INTERNAL;
    gh_status st = buf_reserve(b, (size_t)n);
    if (st != GH_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return GH_OK;
}

void buf_free(struct buf *b)
{
    if (!b)
        return;
    if (b->data)
        sodium_memzero(b->data, b->cap);
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
