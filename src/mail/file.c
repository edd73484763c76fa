/* The file transport: one .eml file per message in a directory, written atomically
 * (temporary name, then rename) so a reader never sees half a message. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/fs.h"
#include "../util/timeutil.h"
#include "mail.h"

struct file_transport {
    struct mail_transport base;
    char dir[CONFIG_URL_MAX];
};

static gh_status write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return GH_UNAVAILABLE;
        data += n;
        len -= (size_t)n;
    }
    return GH_OK;
}

static gh_status file_send(struct mail_transport *t, const char *from, const struct mail *m,
                           char *err, size_t errlen)
{
    struct file_transport *ft = (struct file_transport *)t;
    struct buf msg = {0};
    char tmp[CONFIG_URL_MAX + 64], final[CONFIG_URL_MAX + 64];
    int fd = -1;
    gh_status st = mail_format(from, m, &msg);
    if (st != GH_OK)
        goto out;
    if (fs_mkdir_p(ft->dir) != GH_OK) {
        snprintf(err, errlen, "cannot create the mail directory: %s", strerror(errno));
        st = GH_UNAVAILABLE;
        goto out;
    }
    long long ms = (long long)time_now() * 1000 + time_mono_ms() % 1000;
    snprintf(tmp, sizeof tmp, "%s/.%lld-%lld.tmp", ft->dir, ms, (long long)m->id);
    snprintf(final, sizeof final, "%s/%lld-%lld.eml", ft->dir, ms, (long long)m->id);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, msg.data, msg.len) != GH_OK || fsync(fd) || close(fd)) {
        snprintf(err, errlen, "cannot write the mail file: %s", strerror(errno));
        if (fd >= 0)
            unlink(tmp);
        fd = -1;
        st = GH_UNAVAILABLE;
        goto out;
    }
    fd = -1;
    if (rename(tmp, final)) {
        snprintf(err, errlen, "cannot rename the mail file: %s", strerror(errno));
        unlink(tmp);
        st = GH_UNAVAILABLE;
    }
out:
    buf_free(&msg);
    return st;
}

static void file_close(struct mail_transport *t)
{
    free(t);
}

gh_status mail_file_open(const char *dir, struct mail_transport **out)
{
    struct file_transport *ft = calloc(1, sizeof *ft);
    if (!ft)
        return GH_NO_MEMORY;
    if (strlen(dir) >= sizeof ft->dir) {
        free(ft);
        return GH_INTERNAL;
    }
    strcpy(ft->dir, dir);
    ft->base.send = file_send;
    ft->base.close = file_close;
    *out = &ft->base;
    return GH_OK;
}

gh_status mail_transport_open(const struct config *cfg, struct mail_transport **out)
{
    if (!strncmp(cfg->mail_url, "file:", 5))
        return mail_file_open(cfg->mail_url + 5, out);
    return mail_smtp_open(cfg->mail_url, out);
}
