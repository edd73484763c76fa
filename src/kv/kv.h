/* The key-value interface for short-lived shared state: rate-limit counters. Backed by the
 * database by default (kv/db.c); a Redis implementation is one more file. */
#ifndef GH_KV_H
#define GH_KV_H

#include <stdint.h>

#include "../util/status.h"

struct store;
struct config;

struct kv {
    void *impl;
    /* Counts one hit on the fixed-window counter key (window seconds, starting at the first
     * hit); returns the count in the current window and when the window ends. Atomic. */
    gh_status (*rate_hit)(struct kv *kv, const char *key, int window, int64_t now, int64_t *count,
                          int64_t *window_end);
    /* The counter without counting: 0 and now when there is no live window. */
    gh_status (*rate_peek)(struct kv *kv, const char *key, int64_t now, int64_t *count,
                           int64_t *window_end);
    gh_status (*rate_clear)(struct kv *kv, const char *key);
    void (*close)(struct kv *kv);
};

/* Opens the kv backend the settings name (the database when no other is configured). */
GH_MUST_CHECK gh_status kv_open(const struct config *cfg, struct store *store, struct kv **out);
GH_MUST_CHECK gh_status kv_db_open(struct store *store, struct kv **out);

#endif
