/* Password reset by email and password change while logged in (SPEC §2.3, §8). Both end by
 * revoking other sessions and mailing a notice. The flows that hash run on the CPU pool. */
#ifndef GH_PASSWORD_CHANGE_H
#define GH_PASSWORD_CHANGE_H

#include "../app.h"
#include "../records.h"

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

/* Sets a new password with a password-change token: checks the token and the policy, hashes
 * the password, then in one transaction consumes the token, stores the hash, revokes every
 * session and every other reset token of the user and queues the notice.
 * GH_ERR_INVALID_TOKEN or a password policy error (the token is kept then). */
GH_MUST_CHECK gh_status password_reset(struct app *app, const char *change_token,
                                       const char *password, const struct client_info *client);

/* A password change as received. */
struct password_change_input {
    const char *current_password;
    const char *new_password;
    const char *device_cookie; /* the browser's device cookie, NULL when none */
};

/* Changes the password of the principal's user: the new one must meet the policy; the check of
 * the current one is counted on the account's failure limits first, as a login is
 * (GH_ERR_RATE_LIMITED with *retry_after), and a wrong one is GH_ERR_WRONG_PASSWORD (audited).
 * Then the new hash is stored, every other session revoked and the notice queued. */
GH_MUST_CHECK gh_status password_change(struct app *app, const struct principal *p,
                                        const struct password_change_input *in,
                                        const struct client_info *client, int *retry_after);

#endif
