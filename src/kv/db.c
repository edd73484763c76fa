/* The kv interface on the database: rate-limit counters in the rate_limits table. */
#include <stdlib.h>

#include "../store/store.h"
#include "kv.h"

static struct store *store_of(struct kv *kv)
{
    return kv->impl;
}

static gh_status db_rate_hit(struct kv *kv, const char *key, int window, int64_t now,
                             int64_t *count, int64_t *window_end)
{
    struct store *st = store_of(kv);
    return st->rate_hit(st, key, window, now, count, window_end);
}

static gh_status db_rate_peek(struct kv *kv, const char *key, int64_t now, int64_t *count,
                              int64_t *window_end)
{
    struct store *st = store_of(kv);
    return st->rate_peek(st, key, now, count, window_end);
}

static gh_status db_rate_clear(struct kv *kv, const char *key)
{
    struct store *st = store_of(kv);
    return st->rate_clear(st, key);
}

static void db_close(struct kv *kv)
{
    free(kv);
}

gh_status kv_db_open(struct store *store, struct kv **out)
{
    struct kv *kv = calloc(1, sizeof *kv);
    if (!kv)
        return GH_NO_MEMORY;
    *kv = (struct kv){.impl = store,
                      .rate_hit = db_rate_hit,
                      .rate_peek = db_rate_peek,
                      .rate_clear = db_rate_clear,
                      .close = db_close};
    *out = kv;
    return GH_OK;
}

gh_status kv_open(const struct config *cfg, struct store *store, struct kv **out)
{
    (void)cfg;
    return kv_db_open(store, out);
}
