/* Small file-system helpers. */
#include "fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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
