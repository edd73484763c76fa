/* Small file-system helpers. */
#ifndef GH_FS_H
#define GH_FS_H

#include <stddef.h>

#include "status.h"

/* Creates dir and its missing parents with mode 0700 (like mkdir -p). */
GH_MUST_CHECK gh_status fs_mkdir_p(const char *dir);

/* Writes len bytes of data into the open file fd, retrying short writes; GH_UNAVAILABLE (errno
 * set) when a write fails. */
GH_MUST_CHECK gh_status fs_write_all(int fd, const void *data, size_t len);

/* Flushes dir itself to disk, so that a file just created or renamed in it survives a crash. */
GH_MUST_CHECK gh_status fs_sync_dir(const char *dir);

#endif
