/* GET /media/...: the files of the file media store. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../media/media.h"
#include "api.h"

void api_media_get(struct request *req)
{
    struct media *m = req->app->media;
    const char *type = media_content_type(req->param);
    char path[CONFIG_URL_MAX + 300];
    struct stat sb;
    if (!m->local_dir || !type || !media_key_is_safe(req->param)) {
        reply_error(req, GH_ERR_NOT_FOUND_ROUTE, NULL);
        return;
    }
    snprintf(path, sizeof path, "%s/%s", m->local_dir, req->param);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        reply_error(req, GH_ERR_NOT_FOUND_ROUTE, NULL);
        return;
    }
    /* Names are generated and never reused, so a file can be cached for good. */
    reply_file(req, fd, (uint64_t)sb.st_size, type, "public, max-age=31536000, immutable");
}
