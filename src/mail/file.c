/* The file transport: one .eml file per outbox row in a directory, written atomically
 * (temporary name, then rename) so a reader never sees half a message. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/fs.h"
#include "../util/log.h"
#include "mail.h"

/* Room for the directory, a slash, the file name and the temporary name's decorations. */
#define MAIL_PATH_MAX (CONFIG_URL_MAX + 160)

struct file_transport {
    struct mail_transport base;
    char dir[CONFIG_URL_MAX];
};

/* The file name of a mail: the outbox row id, zero-padded to the 19 digits of the largest
 * int64 so that names sort in the order the mails were queued, then the row's creation time, so
 * that a new database that starts its ids again does not overwrite an old database's mails.
 * The name depends on the row alone: a mail sent again after a crash (the file was written but
 * the row not yet marked sent) replaces its own file instead of adding a second one. */
static void mail_file_name(const struct mail *m, char *out, size_t cap)
{
    snprintf(out, cap, "%019lld-%lld.eml", (long long)m->id, (long long)m->created_at);
}

/* Writes msg into dir/.NAME.<random>.tmp and renames it to dir/NAME, then syncs the directory
 * so the file is on disk before the caller marks the row sent. The random part keeps two
 * writers of one row (a lease that ran out) from writing into the same temporary file. */
static gh_status write_mail_file(const char *dir, const char *name, const struct buf *msg,
                                 char *err, size_t errlen)
{
    char tmp[MAIL_PATH_MAX], final[MAIL_PATH_MAX], tag[UUID_LEN + 1];
    int fd = -1;
    gh_status st = GH_OK;
    secret_uuid_new(tag);
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.%s.tmp", dir, name, tag);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || fs_write_all(fd, msg->data, msg->len) != GH_OK || fsync(fd)) {
        snprintf(err, errlen, "cannot write the mail file: %s", strerror(errno));
        st = GH_UNAVAILABLE;
        goto out;
    }
    if (close(fd)) {
        fd = -1;
        snprintf(err, errlen, "cannot write the mail file: %s", strerror(errno));
        st = GH_UNAVAILABLE;
        goto out;
    }
    fd = -1;
    if (rename(tmp, final)) {
        snprintf(err, errlen, "cannot rename the mail file: %s", strerror(errno));
        st = GH_UNAVAILABLE;
        goto out;
    }
    if (fs_sync_dir(dir) != GH_OK) {
        snprintf(err, errlen, "cannot sync the mail directory: %s", strerror(errno));
        st = GH_UNAVAILABLE;
    }
out:
    if (fd >= 0)
        close(fd);
    if (st != GH_OK)
        unlink(tmp); /* gone already after a successful rename */
    return st;
}

static gh_status file_send(struct mail_transport *t, const char *from, const struct mail *m,
                           char *err, size_t errlen)
{
    struct file_transport *ft = (struct file_transport *)t;
    struct buf msg = {0};
    char name[64];
    gh_status st = mail_format(from, m, &msg);
    if (st != GH_OK)
        goto out;
    if (fs_mkdir_p(ft->dir) != GH_OK) {
        snprintf(err, errlen, "cannot create the mail directory: %s", strerror(errno));
        st = GH_UNAVAILABLE;
        goto out;
    }
    mail_file_name(m, name, sizeof name);
    st = write_mail_file(ft->dir, name, &msg, err, errlen);
out:
    if (msg.data)
        sodium_memzero(msg.data, msg.len); /* the body holds a live link */
    buf_free(&msg);
    return st;
}

/* A mail directory accepts files when a small one can be created, written, synced and
 * removed: a full or read-only disk fails here before it fails a mail. */
static gh_status file_ready(struct mail_transport *t)
{
    struct file_transport *ft = (struct file_transport *)t;
    gh_status st = fs_probe_dir(ft->dir);
    if (st != GH_OK)
        log_msg(LOG_WARN, "the mail directory does not accept files: %s", strerror(errno));
    return st;
}

static void file_close(struct mail_transport *t)
{
    free(t);
}

/* Removes the temporary files (".*.tmp") a process killed while writing left in dir. Another
 * instance writing into the same directory at this moment loses its temporary file too; its
 * rename then fails and the mail is sent again at its next attempt, so nothing is lost. */
static void remove_stale_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return; /* not created yet: nothing left behind */
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] != '.' || n < 5 || strcmp(e->d_name + n - 4, ".tmp"))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            removed++;
        else
            log_msg(LOG_WARN, "stale mail file %s could not be removed: %s", e->d_name,
                    strerror(errno));
    }
    closedir(d);
    if (removed)
        log_msg(LOG_INFO, "removed %d unfinished mail file(s) left by an earlier run", removed);
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
    ft->base.ready = file_ready;
    ft->base.close = file_close;
    remove_stale_temporaries(ft->dir);
    *out = &ft->base;
    return GH_OK;
}

gh_status mail_transport_open(const struct config *cfg, struct mail_transport **out)
{
    if (!strncmp(cfg->mail_url, "file:", 5))
        return mail_file_open(cfg->mail_url + 5, out);
    return mail_smtp_open(cfg->mail_url, out);
}
