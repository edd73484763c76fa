/* The file media store: files under a directory, written atomically, served at /media/. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/fs.h"
#include "../util/log.h"
#include "media.h"

struct file_media {
    struct media base;
    char dir[CONFIG_URL_MAX];
    const char *public_url; /* the config's: it follows the port bound at start */
};

static gh_status write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return GH_UNAVAILABLE;
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return GH_UNAVAILABLE;
        }
        p += n;
        len -= (size_t)n;
    }
    return (fsync(fd) | close(fd)) ? GH_UNAVAILABLE : GH_OK;
}

static gh_status file_put(struct media *m, const char *key, const void *data, size_t len,
                          const char *content_type)
{
    struct file_media *fm = (struct file_media *)m;
    char path[CONFIG_URL_MAX + 256], tmp[CONFIG_URL_MAX + 300], dir[CONFIG_URL_MAX + 256];
    (void)content_type;
    if (!media_key_is_safe(key))
        return GH_INTERNAL;
    snprintf(path, sizeof path, "%s/%s", fm->dir, key);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    gh_status st = fs_mkdir_p(dir);
    if (st == GH_OK)
        st = write_file(tmp, data, len);
    if (st == GH_OK && rename(tmp, path))
        st = GH_UNAVAILABLE;
    if (st != GH_OK) {
        log_msg(LOG_ERROR, "media file %s could not be written: %s", key, strerror(errno));
        unlink(tmp);
    }
    return st;
}

static gh_status file_remove(struct media *m, const char *key)
{
    struct file_media *fm = (struct file_media *)m;
    char path[CONFIG_URL_MAX + 256];
    if (!media_key_is_safe(key))
        return GH_INTERNAL;
    snprintf(path, sizeof path, "%s/%s", fm->dir, key);
    if (unlink(path) && errno != ENOENT)
        return GH_UNAVAILABLE;
    return GH_OK;
}

static void file_url(struct media *m, const char *key, char *out, size_t cap)
{
    struct file_media *fm = (struct file_media *)m;
    snprintf(out, cap, "%s/media/%s", fm->public_url, key);
}

/* The directory accepts files when a small one can be created, written, synced and removed: a
 * full or read-only disk fails here before it fails an upload. */
static gh_status file_ready(struct media *m)
{
    struct file_media *fm = (struct file_media *)m;
    gh_status st = fs_probe_dir(fm->dir);
    if (st != GH_OK)
        log_msg(LOG_WARN, "the media directory does not accept files: %s", strerror(errno));
    return st;
}

static void file_close(struct media *m)
{
    free(m);
}

gh_status media_file_open(const char *dir, const char *public_url, struct media **out)
{
    struct file_media *fm = calloc(1, sizeof *fm);
    if (!fm)
        return GH_NO_MEMORY;
    if (strlen(dir) >= sizeof fm->dir) {
        free(fm);
        return GH_INTERNAL;
    }
    strcpy(fm->dir, dir);
    fm->public_url = public_url;
    fm->base = (struct media){.put = file_put,
                              .remove = file_remove,
                              .url = file_url,
                              .ready = file_ready,
                              .close = file_close,
                              .local_dir = fm->dir};
    *out = &fm->base;
    return GH_OK;
}
