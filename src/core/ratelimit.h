/* Rate limits (SPEC §8): fixed windows per client IP, per account and per email address,
 * kept in the kv backend so every instance shares them. Windows expire, so nobody is locked
 * out for good. */
#ifndef GH_RATELIMIT_H
#define GH_RATELIMIT_H

#include <stdbool.h>

#include "../app.h"
#include "../records.h"

enum rate_kind {
    RATE_IP,              /* credential and email requests per client IP */
    RATE_ACCOUNT,         /* failed password checks per account and client address */
    RATE_ACCOUNT_DEVICE,  /* failed password checks per account and device cookie */
    RATE_ACCOUNT_CEILING, /* failed password checks per account without a device cookie */
    RATE_EMAIL,           /* email-sending requests per address */
    RATE_CLIENT,          /* /oauth/token requests per OAuth client */
};

/* Longest subject of a counter (an email address and what goes with it). */
#define RATE_SUBJECT_MAX 320
/* Most counters one password check is charged to. */
#define RATE_CHARGE_MAX 2

/* The failure counters a password check was charged to before it was made, kept so that the
 * charge can be settled once the outcome is known. */
struct rate_charge {
    int count;
    enum rate_kind kinds[RATE_CHARGE_MAX];
    char subjects[RATE_CHARGE_MAX][RATE_SUBJECT_MAX];
    const char *refused_by; /* after GH_ERR_RATE_LIMITED: which limit, for the audit log */
    bool unavailable;       /* the kv backend failed: let through, nothing to settle */
};

/* Counts one request; GH_ERR_RATE_LIMITED (with *retry_after seconds) when it is over the
 * limit. A kv failure lets the request through (logged): rate limits must not turn a Redis
 * hiccup into an outage of logins. */
GH_MUST_CHECK gh_status ratelimit_hit(struct app *app, enum rate_kind kind, const char *subject,
                                      int *retry_after);

/* Charges one password check of account (a normalised email) to its failure counters before
 * the password is verified: each counter is one atomic increment, so of many concurrent
 * attempts only as many as the limit allows go on to be verified.
 *
 * Which counters: with device_nonce (the nonce of a valid device cookie for this account, else
 * NULL) the count per account and device; without, the count per account and client address
 * (skipped for a relaying frontend, whose address all its users share) and the account's
 * ceiling, which attempts from every address share. So an attacker who exhausts the ceiling
 * locks out only browsers that never logged in to the account.
 *
 * GH_ERR_RATE_LIMITED (with *retry_after and charge->refused_by) when a counter is over its
 * limit; nothing stays charged then. On GH_OK the caller settles the charge with
 * ratelimit_charge_succeeded or ratelimit_charge_refund, or leaves it when the password was
 * wrong. */
GH_MUST_CHECK gh_status ratelimit_charge_password_check(struct app *app, const char *account,
                                                        const struct client_info *client,
                                                        const char *device_nonce,
                                                        struct rate_charge *charge,
                                                        int *retry_after);

/* ratelimit_charge_password_check for a login or a password change, with what the request
 * carries: the device cookie (NULL when none) is verified for account first, and a refusal is
 * audited (user_id may be NULL). */
GH_MUST_CHECK gh_status ratelimit_charge_attempt(struct app *app, const char *account,
                                                 const char *user_id, const char *device_cookie,
                                                 const struct client_info *client,
                                                 struct rate_charge *charge, int *retry_after);

/* The password was right: forgets the failures of this address (or device) on the account
 * and takes the charge of the ceiling back. */
void ratelimit_charge_succeeded(struct app *app, const struct rate_charge *charge);

/* The password was never verified (the hash pool was full, a backend failed): takes the
 * charge back. */
void ratelimit_charge_refund(struct app *app, const struct rate_charge *charge);

#endif
