/* Looking up the embedded files of the built-in web UI. */
#include "web.h"

#include <stdio.h>
#include <string.h>

static const struct web_file *find_exact(const char *rel)
{
    for (size_t i = 0; i < web_file_count; i++)
        if (!strcmp(web_files[i].path, rel))
            return &web_files[i];
    return NULL;
}

const struct web_file *web_find(const char *request_path)
{
    char rel[256];
    if (!strcmp(request_path, "/"))
        return find_exact("index.html");
    if (!strncmp(request_path, "/static/", 8))
        return find_exact(request_path + 1);
    if (!strncmp(request_path, "/auth/", 6) && !strchr(request_path, '.') &&
        (size_t)snprintf(rel, sizeof rel, "%s.html", request_path + 1) < sizeof rel)
        return find_exact(rel);
    return NULL;
}

const char *web_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}
