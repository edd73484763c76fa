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

/* Proves that dir accepts a new file: creates it (and dir, when missing), writes a few bytes,
 * fsyncs, closes and removes it. The file is named ".ready-<uuid>.tmp", a name neither the mail
 * reader nor the media server treats as content. GH_UNAVAILABLE with errno set otherwise. */
GH_MUST_CHECK gh_status fs_probe_dir(const char *dir);

#endif
