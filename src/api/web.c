/* GET / , /auth/... and /static/...: the built-in web UI. Pages are static; they call the
 * JSON API from the browser, so they carry no user data and can be cached with revalidation. */
#include <stdio.h>
#include <string.h>

#include "../web/web.h"
#include "api.h"

/* Scripts and styles only from this server, never inline; images also from the S3 public URL
 * (avatars) and data:/blob: URLs (the preview of a picture about to be uploaded). */
static void page_policy(const struct config *cfg, char *out, size_t cap)
{
    /* Avatars come from the media store's public base: the public URL for the file store
     * (which may differ from the host the page was opened on), the S3 public URL otherwise. */
    const char *media = !strncmp(cfg->media_url, "s3://", 5) ? cfg->s3_public_url : cfg->public_url;
    const char *host = strstr(media, "://");
    const char *slash = host ? strchr(host + 3, '/') : NULL;
    int n = (int)(slash ? (size_t)(slash - media) : strlen(media));
    snprintf(out, cap,
             "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: "
             "blob: %.*s; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action "
             "'self'; frame-ancestors 'none'",
             n, media);
}

void api_web_get(struct request *req)
{
    const struct web_file *f = web_find(req->path);
    char policy[CONFIG_URL_MAX + 256];
    if (!f) {
        reply_error(req, GH_ERR_NOT_FOUND_ROUTE, NULL);
        return;
    }
    page_policy(req->app->cfg, policy, sizeof policy);
    reply_static(req, f->start, (size_t)(f->end - f->start), web_content_type(f->path), "no-cache",
                 policy);
}
