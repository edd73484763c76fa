/* Fixed-window rate limits on the kv backend. */
#include "ratelimit.h"

#include <stdio.h>

#include "../kv/kv.h"
#include "../util/log.h"
#include "../util/timeutil.h"

static const char *const kind_prefix[] = {
    [RATE_IP] = "ip",
    [RATE_ACCOUNT] = "acct",
    [RATE_EMAIL] = "mail",
};

static void limit_of(const struct config *cfg, enum rate_kind kind, int *max, int *window)
{
    switch (kind) {
    case RATE_IP:
        *max = cfg->rate_ip_max;
        *window = cfg->rate_ip_window;
        break;
    case RATE_ACCOUNT:
        *max = cfg->rate_account_max;
        *window = cfg->rate_account_window;
        break;
    default:
        *max = cfg->rate_email_max;
        *window = cfg->rate_email_window;
    }
}

static void make_key(enum rate_kind kind, const char *subject, char *key, size_t cap)
{
    snprintf(key, cap, "rl:%s:%s", kind_prefix[kind], subject);
}

/* Turns a counter into the verdict: over max → GH_ERR_RATE_LIMITED with the seconds left. */
static gh_status verdict(int64_t count, int64_t max, int64_t window_end, int64_t now,
                         int *retry_after)
{
    if (count <= max)
        return GH_OK;
    int64_t left = window_end - now;
    *retry_after = (int)(left > 0 ? left : 1);
    return GH_ERR_RATE_LIMITED;
}

gh_status ratelimit_hit(struct app *app, enum rate_kind kind, const char *subject, int *retry_after)
{
    char key[320];
    int max, window;
    int64_t count = 0, end = 0, now = time_now();
    limit_of(app->cfg, kind, &max, &window);
    make_key(kind, subject, key, sizeof key);
    if (app->kv->rate_hit(app->kv, key, window, now, &count, &end) != GH_OK) {
        log_msg(LOG_WARN, "rate limit counter unavailable; request let through");
        return GH_OK;
    }
    return verdict(count, max, end, now, retry_after);
}

gh_status ratelimit_check(struct app *app, enum rate_kind kind, const char *subject,
                          int *retry_after)
{
    char key[320];
    int max, window;
    int64_t count = 0, end = 0, now = time_now();
    limit_of(app->cfg, kind, &max, &window);
    make_key(kind, subject, key, sizeof key);
    if (app->kv->rate_peek(app->kv, key, now, &count, &end) != GH_OK) {
        log_msg(LOG_WARN, "rate limit counter unavailable; request let through");
        return GH_OK;
    }
    /* The limit is reached when count == max: one more attempt would be over it. */
    return verdict(count + 1, max, end, now, retry_after);
}

void ratelimit_count(struct app *app, enum rate_kind kind, const char *subject)
{
    int ignored;
    if (ratelimit_hit(app, kind, subject, &ignored) != GH_OK)
        return; /* over the limit already: the next check refuses */
}

void ratelimit_clear(struct app *app, enum rate_kind kind, const char *subject)
{
    char key[320];
    make_key(kind, subject, key, sizeof key);
    if (app->kv->rate_clear(app->kv, key) != GH_OK)
        log_msg(LOG_WARN, "rate limit counter could not be cleared");
}
