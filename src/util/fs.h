/* Small file-system helpers. */
#ifndef GH_FS_H
#define GH_FS_H

#include "status.h"

/* Creates dir and its missing parents with mode 0700 (like mkdir -p). */
GH_MUST_CHECK gh_status fs_mkdir_p(const char *dir);

#endif
