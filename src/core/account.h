/* Accounts: registration with email confirmation, login, logout (SPEC §2, §8). Each flow is
 * one function that reads top to bottom; the ones that hash a password run on the CPU pool
 * (their routes say so), so they simply call the hash. */
#ifndef GH_ACCOUNT_H
#define GH_ACCOUNT_H

#include <stdbool.h>

#include "../app.h"
#include "../records.h"

/* A registration as received. */
struct registration {
    const char *email;
    const char *password;
    const char *first_name;
    const char *last_name;
};

/* Registers an account: checks the fields and the password policy, hashes the password, then
 * in one transaction creates the inactive user, requests its confirmation mail and audits it.
 * When the address already has an account, requests the mail that tells its owner instead and
 * answers GH_OK all the same, after the same work (enumeration-safe); with
 * GATEHOUSE_REGISTER_REVEALS_EXISTING it answers GH_ERR_EMAIL_TAKEN instead, at once.
 * Otherwise the GH_ERR_* naming what is wrong. */
GH_MUST_CHECK gh_status account_register(struct app *app, const struct registration *r,
                                         const struct client_info *client);

/* Roles of an account created by an operator. */
struct account_roles {
    bool staff;
    bool superuser; /* implies staff */
};

/* Creates an active account at once, without a confirmation mail (`gatehouse user create`):
 * the same checks as registration. Writes the new id into user_id. */
GH_MUST_CHECK gh_status account_create(struct app *app, const struct registration *r,
                                       const struct account_roles *roles,
                                       char user_id[UUID_LEN + 1]);

/* Consumes a confirmation token and activates its user. GH_ERR_INVALID_TOKEN when the token
 * is missing, unknown, used or expired. */
GH_MUST_CHECK gh_status account_confirm(struct app *app, const char *token,
                                        const struct client_info *client);

/* Requests a new confirmation mail for the address, which the outbox worker sends only when an
 * unconfirmed account has it: the same work and GH_OK whatever the address. GH_ERR_INVALID_EMAIL
 * for a malformed address, GH_ERR_RATE_LIMITED (with *retry_after) past the address's limit. */
GH_MUST_CHECK gh_status account_regenerate_confirmation(struct app *app, const char *email,
                                                        const struct client_info *client,
                                                        int *retry_after);

/* A login as received. */
struct login_input {
    const char *email;
    const char *password;
    const char *device_cookie;     /* the browser's device cookie, NULL when none */
    const char *old_session_token; /* a session cookie sent along, revoked (rotation); or NULL */
};

struct login_result {
    struct user user;
    char session_token[TOKEN_LEN + 1]; /* the new session's cookie value */
    int retry_after;                   /* seconds, with GH_ERR_RATE_LIMITED */
};

/* Checks a password for the address (the credential half of a login, also used by the token
 * API): counts the attempt on the account's failure limits first, verifies the password (against
 * a dummy hash for an unknown address, so both cost the same), takes the count back when it is
 * right, upgrades a hash with older parameters, audits the outcome. user is the account on
 * GH_OK. GH_ERR_INVALID_CREDENTIALS for an unknown address or a wrong password alike,
 * GH_ERR_INACTIVE for an unconfirmed account with the right password, GH_ERR_RATE_LIMITED
 * (with *retry_after). old_session_token of in is not used. */
GH_MUST_CHECK gh_status account_check_password(struct app *app, const struct login_input *in,
                                               const struct client_info *client, struct user *user,
                                               int *retry_after);

/* Logs in: counts the attempt on the account's failure limits first (so concurrent guesses
 * cannot all slip under them), verifies the password (against a dummy hash for an unknown
 * address, so both cost the same), then rotates the session and creates a new one. A right
 * password takes the count back; a hash with older parameters is upgraded. Every outcome is
 * audited. GH_ERR_INVALID_CREDENTIALS for an unknown address or a wrong password alike,
 * GH_ERR_INACTIVE for an unconfirmed account with the right password, GH_ERR_RATE_LIMITED. */
GH_MUST_CHECK gh_status account_login(struct app *app, const struct login_input *in,
                                      const struct client_info *client, struct login_result *out);

/* Revokes the caller's session s of user u. */
GH_MUST_CHECK gh_status account_logout(struct app *app, const struct session *s,
                                       const struct user *u, const struct client_info *client);

#endif
