/* The built-in web UI, embedded into the binary from web/ at build time
 * (scripts/embed-web.sh). */
#ifndef GH_WEB_H
#define GH_WEB_H

#include <stddef.h>

struct web_file {
    const char *path;  /* relative to web/, e.g. "auth/login.html" */
    const char *start; /* the bytes, followed by a NUL */
    const char *end;
};

extern const struct web_file web_files[];
extern const size_t web_file_count;

/* The embedded file for a request path ("/" → index.html, "/auth/login" → auth/login.html,
 * "/static/app.css" → static/app.css), or NULL. */
const struct web_file *web_find(const char *request_path);

/* The Content-Type for a file of the UI, from its extension. */
const char *web_content_type(const char *path);

#endif
