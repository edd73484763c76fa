/* The kv interface on the database: sessions in the sessions table (looked up together with
 * their user in one query), rate-limit counters in rate_limits. */
#include <stdlib.h>

#include "../config.h"
#include "../store/store.h"
#include "kv.h"

static gh_status db_ping(struct kv *kv)
{
    return kv->store->ping(kv->store);
}

static gh_status db_session_insert(struct kv *kv, const struct session *s)
{
    return kv->store->session_insert(kv->store, s);
}

static gh_status db_session_lookup(struct kv *kv, const char *token_hash, int64_t now,
                                   struct session *s, struct user *u)
{
    return kv->store->session_lookup(kv->store, token_hash, now, s, u);
}

static gh_status db_session_touch(struct kv *kv, const char *token_hash, int64_t now)
{
    return kv->store->session_touch(kv->store, token_hash, now);
}

static gh_status db_session_delete(struct kv *kv, const char *token_hash)
{
    return kv->store->session_delete(kv->store, token_hash);
}

static gh_status db_session_list(struct kv *kv, const char *user_id, int64_t now,
                                 struct session *out, size_t cap, size_t *count)
{
    return kv->store->session_list(kv->store, user_id, now, out, cap, count);
}

static gh_status db_session_delete_all(struct kv *kv, const char *user_id, const char *keep)
{
    return kv->store->session_delete_all(kv->store, user_id, keep);
}

static gh_status db_rate_hit(struct kv *kv, const char *key, int window, int64_t now,
                             int64_t *count, int64_t *window_end)
{
    return kv->store->rate_hit(kv->store, key, window, now, count, window_end);
}

static gh_status db_rate_refund(struct kv *kv, const char *key, int64_t now)
{
    return kv->store->rate_refund(kv->store, key, now);
}

static gh_status db_rate_clear(struct kv *kv, const char *key)
{
    return kv->store->rate_clear(kv->store, key);
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
    *kv = (struct kv){.store = store,
                      .ping = db_ping,
                      .session_insert = db_session_insert,
                      .session_lookup = db_session_lookup,
                      .session_touch = db_session_touch,
                      .session_delete = db_session_delete,
                      .session_list = db_session_list,
                      .session_delete_all = db_session_delete_all,
                      .rate_hit = db_rate_hit,
                      .rate_refund = db_rate_refund,
                      .rate_clear = db_rate_clear,
                      .close = db_close};
    *out = kv;
    return GH_OK;
}

gh_status kv_open(const struct config *cfg, struct store *store, struct kv **out)
{
    if (cfg->redis_url[0])
        return kv_redis_open(cfg->redis_url, store, out);
    return kv_db_open(store, out);
}
