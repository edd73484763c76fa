/* Media store selection and the checks shared by the stores. */
#include "media.h"

#include <string.h>

gh_status media_open(const struct config *cfg, struct media **out)
{
    if (!strncmp(cfg->media_url, "s3://", 5))
        return media_s3_open(cfg, out);
    return media_file_open(cfg->media_url + 5, cfg->public_url, out);
}

bool media_key_is_safe(const char *key)
{
    size_t seg_len = 0;
    if (!*key || strlen(key) > 200)
        return false;
    for (const char *p = key;; p++) {
        if (*p == '/' || *p == '\0') {
            if (seg_len == 0)
                return false;
            if (!*p)
                return true;
            seg_len = 0;
            continue;
        }
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok || (seg_len == 0 && c == '.'))
            return false;
        seg_len++;
    }
}

const char *media_content_type(const char *key)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".png", "image/png"},
                 {".jpg", "image/jpeg"},
                 {".webp", "image/webp"},
                 {".gif", "image/gif"}};
    const char *dot = strrchr(key, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL;
}
