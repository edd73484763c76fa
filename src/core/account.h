/* Accounts: registration with email confirmation, login, logout (SPEC §2, §8).
 * Password hashing is split out of these functions: the caller runs it on the hash pool
 * between a *_prepare/check step and the matching *_finish/complete step. */
#ifndef GH_ACCOUNT_H
#define GH_ACCOUNT_H

#include <stdbool.h>

#include "../app.h"
#include "../records.h"
#include "ratelimit.h"

struct registration {
    const char *email; /* as received */
    const char *password;
    const char *first_name;
    const char *last_name;
    /* filled by account_register_check */
    char email_norm[EMAIL_MAX + 1];
    char first_name_norm[NAME_MAX_BYTES + 1];
    char last_name_norm[NAME_MAX_BYTES + 1];
};

/* Validates a registration (email, names, password policy, and with
 * GATEHOUSE_REGISTER_REVEALS_EXISTING the email not taken) and fills the normalised fields.
 * Returns GH_OK or the GH_ERR_* naming what is wrong. */
GH_MUST_CHECK gh_status account_register_check(struct app *app, struct registration *r);

/* Creates the inactive user with password_hash, the request for its confirmation mail and
 * the audit row, in one transaction. When the address already has an account, requests the
 * mail that tells its owner instead and answers GH_OK all the same (enumeration-safe), or
 * GH_ERR_EMAIL_TAKEN with GATEHOUSE_REGISTER_REVEALS_EXISTING. */
GH_MUST_CHECK gh_status account_register_finish(struct app *app, const struct registration *r,
                                                const char *password_hash,
                                                const struct client_info *client);

/* Roles of an account created by an operator. */
struct account_roles {
    bool staff;
    bool superuser; /* implies staff */
};

/* Creates an active account at once, without a confirmation mail (`gatehouse user create`):
 * the same checks as registration, the hash computed on the calling thread. Writes the new
 * id into user_id. */
GH_MUST_CHECK gh_status account_create(struct app *app, struct registration *r,
                                       const struct account_roles *roles,
                                       char user_id[UUID_LEN + 1]);

/* Consumes a confirmation token and activates its user. GH_ERR_INVALID_TOKEN when the token
 * is missing, unknown, used or expired. */
GH_MUST_CHECK gh_status account_confirm(struct app *app, const char *token,
                                        const struct client_info *client);

/* Requests a new confirmation mail for the address, which the outbox worker sends only when
 * an unconfirmed account has it; the same work and GH_OK whatever the address.
 * GH_ERR_INVALID_EMAIL for a malformed address, GH_ERR_RATE_LIMITED (with *retry_after) past
 * the address's mail limit, or a store failure. */
GH_MUST_CHECK gh_status account_regenerate_confirmation(struct app *app, const char *email,
                                                        const struct client_info *client,
                                                        int *retry_after);

/* Stores a new password hash for a user whose hash has older parameters (after a login). */
GH_MUST_CHECK gh_status account_upgrade_hash(struct app *app, const char *user_id,
                                             const char *password_hash);

struct login_attempt {
    const char *password; /* borrowed from the request, for a hash upgrade after success */
    char email[EMAIL_MAX + 1];
    bool user_found;
    struct user user;
    struct rate_charge charge; /* the failure counters this attempt was charged to */
};

/* Counts the attempt against the account's failure limits (per device when device_cookie,
 * which may be NULL, is a valid device cookie for the account; else per client address and the
 * account's ceiling), looks the account up and writes into hash the hash to verify the
 * password against: the user's, or a dummy one for an unknown email so both cost the same.
 * GH_ERR_RATE_LIMITED (with *retry_after) when there were too many failed logins. */
GH_MUST_CHECK gh_status account_login_prepare(struct app *app, const char *email,
                                              const char *device_cookie, struct login_attempt *a,
                                              char hash[PASSWORD_HASH_MAX],
                                              const struct client_info *client, int *retry_after);

/* The prepared attempt is dropped without a verification (the hash pool is full): takes its
 * count back. */
void account_login_abandon(struct app *app, const struct login_attempt *a);

/* Decides the login after verification: GH_ERR_INVALID_CREDENTIALS for an unknown email or a
 * wrong password, GH_ERR_INACTIVE for an unconfirmed account with the right password, else
 * revokes the session of old_token (rotation; may be NULL), creates a session and writes its
 * token into token. Audit rows are written for every outcome. */
GH_MUST_CHECK gh_status account_login_complete(struct app *app, struct login_attempt *a,
                                               gh_status verified, const char *old_token,
                                               const struct client_info *client,
                                               char token[TOKEN_LEN + 1]);

/* Revokes the caller's session s of user u. */
GH_MUST_CHECK gh_status account_logout(struct app *app, const struct session *s,
                                       const struct user *u, const struct client_info *client);

#endif
