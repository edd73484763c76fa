/* Password reset by email and password change while logged in (SPEC §2.3, §8). Both end by
 * revoking other sessions and mailing a notice. Hashing runs on the hash pool between the
 * *_check and *_finish steps. */
#ifndef GH_PASSWORD_CHANGE_H
#define GH_PASSWORD_CHANGE_H

#include "../app.h"
#include "../records.h"
#include "ratelimit.h"

/* Requests a reset mail for the address, which the outbox worker sends only when an active
 * account has it: the same work and GH_OK whatever the address. GH_ERR_INVALID_EMAIL for a
 * malformed address, GH_ERR_RATE_LIMITED with *retry_after when the address had too many
 * requests. */
GH_MUST_CHECK gh_status reset_request(struct app *app, const char *email,
                                      const struct client_info *client, int *retry_after);

/* Consumes a reset-link token and issues the password-change token the change-password page
 * posts back (written into change_token). GH_ERR_INVALID_TOKEN when the link is not valid. */
GH_MUST_CHECK gh_status reset_exchange_token(struct app *app, const char *reset_token,
                                             const struct client_info *client,
                                             char change_token[TOKEN_LEN + 1]);

/* Checks a password-change token (without consuming it) and the new password against the
 * policy for its user. GH_ERR_INVALID_TOKEN or a password policy error. */
GH_MUST_CHECK gh_status reset_check(struct app *app, const char *change_token,
                                    const char *password);

/* Consumes the password-change token, stores password_hash, revokes every session and every
 * other reset token of the user and queues the notice, in one transaction. */
GH_MUST_CHECK gh_status reset_finish(struct app *app, const char *change_token,
                                     const char *password_hash, const struct client_info *client);

/* A change in progress: the failure counters its current-password check was charged to. */
struct password_change_attempt {
    struct rate_charge charge;
};

/* Before verifying the current password: a policy error for new_password, else one failure
 * counted on the account's failure limits as a login is (device_cookie may be NULL), taken back
 * when the current password is right; GH_ERR_RATE_LIMITED (with *retry_after) after too many
 * wrong passwords. */
GH_MUST_CHECK gh_status password_change_check(struct app *app, const struct user *u,
                                              const char *new_password, const char *device_cookie,
                                              const struct client_info *client,
                                              struct password_change_attempt *a, int *retry_after);

/* After the current password was verified (verified is the verification's result): GH_OK when
 * it was right, GH_ERR_WRONG_PASSWORD (audited; the failure stays counted) when it was wrong,
 * otherwise the verification's failure. */
GH_MUST_CHECK gh_status password_change_verified(struct app *app, const struct user *u,
                                                 const struct password_change_attempt *a,
                                                 gh_status verified,
                                                 const struct client_info *client);

/* The change is dropped before the current password was verified (the hash pool is full):
 * takes the count back. */
void password_change_abandon(struct app *app, const struct password_change_attempt *a);

/* Stores password_hash, revokes every session of u except keep_token_hash and queues the
 * notice, in one transaction. */
GH_MUST_CHECK gh_status password_change_finish(struct app *app, const struct user *u,
                                               const char *password_hash,
                                               const char *keep_token_hash,
                                               const struct client_info *client);

#endif
