/* The small JSON writer. */
#include "jsonw.h"

#include <stdio.h>
#include <string.h>

gh_status jsonw_string(struct buf *b, const char *s)
{
    gh_status st = buf_append(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; st == GH_OK && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        st = buf_append(b, run, (size_t)(p - run));
        if (st != GH_OK)
            break;
        char esc[8];
        switch (c) {
        case '"':
            st = buf_append(b, "\\\"", 2);
            break;
        case '\\':
            st = buf_append(b, "\\\\", 2);
            break;
        case '\n':
            st = buf_append(b, "\\n", 2);
            break;
        case '\r':
            st = buf_append(b, "\\r", 2);
            break;
        case '\t':
            st = buf_append(b, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            st = buf_append(b, esc, 6);
        }
        run = p + 1;
    }
    if (st == GH_OK)
        st = buf_append_str(b, run);
    if (st == GH_OK)
        st = buf_append(b, "\"", 1);
    return st;
}

gh_status jsonw_string_or_null(struct buf *b, const char *s)
{
    return s[0] ? jsonw_string(b, s) : buf_append(b, "null", 4);
}

gh_status jsonw_key(struct buf *b, const char *key, bool first)
{
    gh_status st = first ? GH_OK : buf_append(b, ",", 1);
    if (st == GH_OK)
        st = jsonw_string(b, key);
    if (st == GH_OK)
        st = buf_append(b, ":", 1);
    return st;
}
