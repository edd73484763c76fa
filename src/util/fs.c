/* Small file-system helpers. */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

gh_status fs_mkdir_p(const char *dir)
{
    char path[1024];
    if (strlen(dir) >= sizeof path)
        return GH_INTERNAL;
    strcpy(path, dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) && errno != EEXIST)
            return GH_UNAVAILABLE;
        *p = '/';
    }
    return (mkdir(path, 0700) && errno != EEXIST) ? GH_UNAVAILABLE : GH_OK;
}

gh_status fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return GH_UNAVAILABLE;
        if (n == 0) {
            errno = EIO;
            return GH_UNAVAILABLE;
        }
        p += n;
        len -= (size_t)n;
    }
    return GH_OK;
}

gh_status fs_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return GH_UNAVAILABLE;
    gh_status st = fsync(fd) ? GH_UNAVAILABLE : GH_OK;
    int saved = errno;
    close(fd);
    errno = saved;
    return st;
}

gh_status fs_probe_dir(const char *dir)
{
    static const char probe[] = "gatehouse readiness probe\n";
    char path[1100], id[UUID_LEN + 1];
    int fd = -1, saved = 0;
    gh_status st = fs_mkdir_p(dir);
    if (st != GH_OK)
        goto out;
    secret_uuid_new(id);
    if (snprintf(path, sizeof path, "%s/.ready-%s.tmp", dir, id) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        st = GH_INTERNAL;
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = GH_UNAVAILABLE;
        goto out;
    }
    st = fs_write_all(fd, probe, sizeof probe - 1);
    if (st == GH_OK && fsync(fd))
        st = GH_UNAVAILABLE;
out:
    saved = errno;
    if (fd >= 0) {
        if (close(fd) && st == GH_OK) {
            st = GH_UNAVAILABLE;
            saved = errno;
        }
        unlink(path);
    }
    errno = saved;
    return st;
}
