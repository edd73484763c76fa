/* Fixed-window rate limits on the kv backend. */
#include "ratelimit.h"

#include <stdio.h>
#include <string.h>

#include "../kv/kv.h"
#include "audit.h"
#include "device.h"
#include "../util/log.h"
#include "../util/timeutil.h"

/* Longest kv key: "rl:", a prefix, ':' and the subject. */
#define RATE_KEY_MAX (RATE_SUBJECT_MAX + 16)

static const char *const kind_prefix[] = {
    [RATE_IP] = "ip",
    [RATE_ACCOUNT] = "acip",
    [RATE_ACCOUNT_DEVICE] = "acdv",
    [RATE_ACCOUNT_CEILING] = "acct",
    [RATE_EMAIL] = "mail",
    [RATE_CLIENT] = "clnt",
};

/* How a refusal by each kind is named in the audit log. */
static const char *const kind_refusal[] = {
    [RATE_IP] = "requests from this address",
    [RATE_ACCOUNT] = "failed password checks on this account from this address",
    [RATE_ACCOUNT_DEVICE] = "failed password checks on this account from this device",
    [RATE_ACCOUNT_CEILING] = "failed password checks on this account",
    [RATE_EMAIL] = "mails to this address",
    [RATE_CLIENT] = "token requests of this client",
};

static void limit_of(const struct config *cfg, enum rate_kind kind, int *max, int *window)
{
    switch (kind) {
    case RATE_IP:
        *max = cfg->rate_ip_max;
        *window = cfg->rate_ip_window;
        break;
    case RATE_ACCOUNT:
    case RATE_ACCOUNT_DEVICE:
        *max = cfg->rate_account_max;
        *window = cfg->rate_account_window;
        break;
    case RATE_ACCOUNT_CEILING:
        *max = cfg->rate_account_ceiling;
        *window = cfg->rate_account_ceiling_window;
        break;
    case RATE_CLIENT:
        *max = cfg->rate_client_max;
        *window = cfg->rate_client_window;
        break;
    default: /* RATE_EMAIL */
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

/* Counts one hit: GH_OK, GH_ERR_RATE_LIMITED, or GH_UNAVAILABLE when the kv backend could not
 * count it. */
static gh_status hit(struct app *app, enum rate_kind kind, const char *subject, int *retry_after)
{
    char key[RATE_KEY_MAX];
    int max, window;
    int64_t count = 0, end = 0, now = time_now();
    limit_of(app->cfg, kind, &max, &window);
    make_key(kind, subject, key, sizeof key);
    if (app->kv->rate_hit(app->kv, key, window, now, &count, &end) != GH_OK)
        return GH_UNAVAILABLE;
    return verdict(count, max, end, now, retry_after);
}

gh_status ratelimit_hit(struct app *app, enum rate_kind kind, const char *subject, int *retry_after)
{
    gh_status st = hit(app, kind, subject, retry_after);
    if (st == GH_UNAVAILABLE) {
        log_msg(LOG_WARN, "rate limit counter unavailable; request let through");
        return GH_OK;
    }
    return st;
}

/* Takes one hit back; a failure only costs the client one attempt of its budget. */
static void refund(struct app *app, enum rate_kind kind, const char *subject)
{
    char key[RATE_KEY_MAX];
    make_key(kind, subject, key, sizeof key);
    if (app->kv->rate_refund(app->kv, key, time_now()) != GH_OK)
        log_msg(LOG_WARN, "rate limit counter could not be refunded");
}

static void clear(struct app *app, enum rate_kind kind, const char *subject)
{
    char key[RATE_KEY_MAX];
    make_key(kind, subject, key, sizeof key);
    if (app->kv->rate_clear(app->kv, key) != GH_OK)
        log_msg(LOG_WARN, "rate limit counter could not be cleared");
}

/* Charges one counter; on a refusal the whole charge so far is taken back. Once the kv
 * backend has failed for this attempt, the attempt is let through without further round trips
 * (each would wait for the same timeout) and the charge is never settled. */
static gh_status charge_one(struct app *app, struct rate_charge *c, enum rate_kind kind,
                            const char *subject, int *retry_after)
{
    if (c->unavailable)
        return GH_OK;
    if (c->count >= RATE_CHARGE_MAX ||
        str_copy(c->subjects[c->count], RATE_SUBJECT_MAX, subject) != GH_OK)
        return GH_INTERNAL;
    gh_status st = hit(app, kind, subject, retry_after);
    if (st == GH_UNAVAILABLE) {
        log_msg(LOG_WARN, "rate limit counter unavailable; password check let through");
        c->unavailable = true;
        return GH_OK;
    }
    c->kinds[c->count++] = kind;
    if (st != GH_OK) {
        ratelimit_charge_refund(app, c);
        c->count = 0;
        c->refused_by = kind_refusal[kind];
    }
    return st;
}

gh_status ratelimit_charge_password_check(struct app *app, const char *account,
                                          const struct client_info *client,
                                          const char *device_nonce, struct rate_charge *charge,
                                          int *retry_after)
{
    char subject[RATE_SUBJECT_MAX];
    memset(charge, 0, sizeof *charge);
    /* The address or nonce comes first: neither holds '|', so the subject is unambiguous. */
    if (device_nonce) {
        snprintf(subject, sizeof subject, "%s|%s", device_nonce, account);
        return charge_one(app, charge, RATE_ACCOUNT_DEVICE, subject, retry_after);
    }
    /* A relaying frontend's address is every one of its users': counting per address there
     * would be counting per account, and hand out the lockout the ceiling avoids. */
    gh_status st = GH_OK;
    if (!config_frontend_relaying(app->cfg, client->ip)) {
        snprintf(subject, sizeof subject, "%s|%s", client->ip, account);
        st = charge_one(app, charge, RATE_ACCOUNT, subject, retry_after);
    }
    if (st == GH_OK)
        st = charge_one(app, charge, RATE_ACCOUNT_CEILING, account, retry_after);
    return st;
}

void ratelimit_charge_succeeded(struct app *app, const struct rate_charge *charge)
{
    for (int i = 0; !charge->unavailable && i < charge->count; i++) {
        if (charge->kinds[i] == RATE_ACCOUNT_CEILING)
            refund(app, charge->kinds[i], charge->subjects[i]);
        else
            clear(app, charge->kinds[i], charge->subjects[i]);
    }
}

void ratelimit_charge_refund(struct app *app, const struct rate_charge *charge)
{
    for (int i = 0; !charge->unavailable && i < charge->count; i++)
        refund(app, charge->kinds[i], charge->subjects[i]);
}

gh_status ratelimit_charge_attempt(struct app *app, const char *account, const char *user_id,
                                   const char *device_cookie, const struct client_info *client,
                                   struct rate_charge *charge, int *retry_after)
{
    char nonce[DEVICE_NONCE_LEN + 1];
    bool known_device = device_cookie_verify(app, account, device_cookie, time_now(), nonce);
    gh_status st = ratelimit_charge_password_check(
        app, account, client, known_device ? nonce : NULL, charge, retry_after);
    if (st == GH_ERR_RATE_LIMITED)
        audit_record(app, "rate_limited", user_id, account, client, charge->refused_by);
    return st;
}
