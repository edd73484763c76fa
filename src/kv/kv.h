/* The key-value interface for short-lived shared state: sessions and rate-limit counters.
 * kv/db.c keeps them in the database (the default); kv/redis.c in Redis when REDIS_URL is
 * set, so many instances share them and the database only holds accounts. */
#ifndef GH_KV_H
#define GH_KV_H

#include <stddef.h>
#include <stdint.h>

#include "../records.h"
#include "../util/status.h"

struct store;
struct config;

struct kv {
    void *impl;
    struct store *store; /* for the user rows that go with a session */

    /* Round trip proving the backend answers. */
    gh_status (*ping)(struct kv *kv);

    /* Sessions, found by the SHA-256 of their token. */
    gh_status (*session_insert)(struct kv *kv, const struct session *s);
    /* A live session (not expired at now) and its user; GH_NOT_FOUND otherwise. */
    gh_status (*session_lookup)(struct kv *kv, const char *token_hash, int64_t now,
                                struct session *s, struct user *u);
    gh_status (*session_touch)(struct kv *kv, const char *token_hash, int64_t now);
    /* GH_NOT_FOUND when there was no such session. */
    gh_status (*session_delete)(struct kv *kv, const char *token_hash);
    /* The user's live sessions, newest first, at most cap. */
    gh_status (*session_list)(struct kv *kv, const char *user_id, int64_t now, struct session *out,
                              size_t cap, size_t *count);
    /* Deletes every session of the user except the one whose hash is keep (NULL: all). */
    gh_status (*session_delete_all)(struct kv *kv, const char *user_id, const char *keep);

    /* Counts one hit on the fixed-window counter key (window seconds, starting at the first
     * hit); returns the count in the current window and when the window ends. Atomic. */
    gh_status (*rate_hit)(struct kv *kv, const char *key, int window, int64_t now, int64_t *count,
                          int64_t *window_end);
    /* Takes one hit back from the live window of key, atomically and never below zero: an
     * attempt counted before it was made that turned out not to count (a right password, a
     * request refused by another limit). A window that has ended is left alone. */
    gh_status (*rate_refund)(struct kv *kv, const char *key, int64_t now);
    gh_status (*rate_clear)(struct kv *kv, const char *key);

    void (*close)(struct kv *kv);
};

/* Opens the kv backend the settings name: Redis with REDIS_URL, else the database. */
GH_MUST_CHECK gh_status kv_open(const struct config *cfg, struct store *store, struct kv **out);
GH_MUST_CHECK gh_status kv_db_open(struct store *store, struct kv **out);
GH_MUST_CHECK gh_status kv_redis_open(const char *url, struct store *store, struct kv **out);

#endif
