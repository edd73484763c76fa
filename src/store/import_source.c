/* Choosing the reader of an import's source database by its URL. */
#include "import_source.h"

#include <stdio.h>
#include <string.h>

gh_status import_source_open(enum import_kind kind, const char *url, struct import_source **out,
                             char *err, size_t errlen)
{
    if (!url || !url[0]) {
        snprintf(err, errlen, "--from needs a database URL");
        return GH_ERR_CONFIG;
    }
    if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
        return import_source_postgres(kind, url, out, err, errlen);
    const char *path = NULL;
    if (!strncmp(url, "sqlite://", 9))
        path = url + 9; /* sqlite:///abs/path: the path keeps its slash */
    else if (!strncmp(url, "sqlite:", 7))
        path = url + 7;
    else if (!strstr(url, "://"))
        path = url; /* a plain file path */
    if (!path || !path[0]) {
        snprintf(err, errlen,
                 "--from must be a postgres:// URL, a sqlite:///path URL or a file path");
        return GH_ERR_CONFIG;
    }
    if (kind == IMPORT_RUST_AUTH) {
        snprintf(err, errlen, "a rust-auth source is read from PostgreSQL (a postgres:// URL)");
        return GH_ERR_CONFIG;
    }
    return import_source_sqlite(path, out, err, errlen);
}
