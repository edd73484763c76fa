/* Backend selection by URL scheme and the retrying transaction helper. */
#include "store.h"

#include <string.h>
#include <time.h>

#include "../util/log.h"

gh_status store_open(const char *url, struct store **out)
{
    if (!strncmp(url, "sqlite:", 7))
        return store_sqlite_open(url + 7, out);
    if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
        return store_postgres_open(url, out);
    log_msg(LOG_ERROR, "unsupported DATABASE_URL scheme");
    return GH_INTERNAL;
}

gh_status store_transaction(struct store *st, store_tx_fn fn, void *ctx)
{
    gh_status status = GH_BUSY;
    for (int attempt = 0; attempt < 5 && status == GH_BUSY; attempt++) {
        if (attempt) {
            struct timespec pause = {0, 10000000L * attempt};
            nanosleep(&pause, NULL);
        }
        status = st->begin(st);
        if (status != GH_OK)
            continue;
        status = fn(st, ctx);
        if (status == GH_OK)
            status = st->commit(st);
        if (status != GH_OK)
            st->rollback(st);
    }
    return status;
}
