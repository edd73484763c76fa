/* Small file-system helpers. */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
