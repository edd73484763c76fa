/* Rate limits (SPEC §8): fixed windows per client IP, per account and per email address,
 * kept in the kv backend so every instance shares them. Windows expire, so nobody is locked
 * out for good. */
#ifndef GH_RATELIMIT_H
#define GH_RATELIMIT_H

#include "../app.h"

enum rate_kind {
    RATE_IP,      /* credential and email requests per client IP */
    RATE_ACCOUNT, /* failed password checks per account (email) */
    RATE_EMAIL,   /* email-sending requests per address */
};

/* Counts one request; GH_ERR_RATE_LIMITED (with *retry_after seconds) when it is over the
 * limit. A kv failure lets the request through (logged): rate limits must not turn a Redis
 * hiccup into an outage of logins. */
GH_MUST_CHECK gh_status ratelimit_hit(struct app *app, enum rate_kind kind, const char *subject,
                                      int *retry_after);

/* Like ratelimit_hit without counting: GH_ERR_RATE_LIMITED when the limit is already reached.
 * For failure counters that are checked before and counted after an attempt. */
GH_MUST_CHECK gh_status ratelimit_check(struct app *app, enum rate_kind kind, const char *subject,
                                        int *retry_after);

/* Counts one event (a failed attempt) without a verdict: paired with ratelimit_check. */
void ratelimit_count(struct app *app, enum rate_kind kind, const char *subject);

/* Forgets the counter (a successful login clears the account's failures). */
void ratelimit_clear(struct app *app, enum rate_kind kind, const char *subject);

#endif
