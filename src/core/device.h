/* Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a browser
 * that has logged in to an account holds a cookie signed by the server that names the account
 * and a random nonce. Failed logins presented with it are counted per device, so an attacker
 * without it can exhaust the account's shared budget but cannot lock its owner out. */
#ifndef GH_DEVICE_H
#define GH_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "../app.h"

#define DEVICE_COOKIE_NAME     "gh_device"
#define DEVICE_COOKIE_MAX      96                /* "1.<expiry>.<nonce>.<signature>" and NUL */
#define DEVICE_NONCE_LEN       22                /* 128 random bits, base64url */
#define DEVICE_COOKIE_LIFETIME (365 * 24 * 3600) /* seconds */

/* Reads the device-cookie signing key from the database into app->device_key, creating it
 * when no instance has yet, so every instance signs and checks with the same key. */
GH_MUST_CHECK gh_status device_key_load(struct app *app);

/* Writes a new device cookie value for account (a normalised email), valid
 * DEVICE_COOKIE_LIFETIME seconds from now, into out. Its nonce is derived from session_id, the
 * public id of the session it is issued to: a session, which only a right password creates,
 * yields one device and no more, however often it asks. */
void device_cookie_issue(const struct app *app, const char *account, const char *session_id,
                         int64_t now, char out[DEVICE_COOKIE_MAX]);

/* True when value (may be NULL) is an unexpired device cookie this server signed for account;
 * then its nonce is written into nonce. */
bool device_cookie_verify(const struct app *app, const char *account, const char *value,
                          int64_t now, char nonce[DEVICE_NONCE_LEN + 1]);

/* True, with a new device cookie value for account in out (issued to session_id), when
 * presented (may be NULL) is not a valid device cookie for account: the browser should be
 * given one. */
bool device_cookie_refresh(const struct app *app, const char *account, const char *session_id,
                           const char *presented, char out[DEVICE_COOKIE_MAX]);

#endif
