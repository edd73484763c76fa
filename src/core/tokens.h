/* The token API's rules (SPEC §3): JWT access tokens other services verify with the JWKS alone,
 * and opaque refresh tokens that rotate on every use.
 *
 * A refresh token's successor is derived from it (an HMAC with a key every instance shares), so
 * a client that retries a refresh within the grace window gets the very same successor instead
 * of a second branch; a rotated token used after the grace window is taken as stolen and its
 * whole family is revoked. */
#ifndef GH_TOKENS_H
#define GH_TOKENS_H

#include <stdbool.h>

#include "../app.h"
#include "../records.h"
#include "jwt.h"

/* An access token and, for users, a refresh token. */
struct token_pair {
    char *access;                /* heap memory: token_pair_clear frees it */
    char refresh[TOKEN_LEN + 1]; /* empty for a client's own token */
    int expires_in;              /* seconds the access token lives */
};

/* Wipes and frees a pair. NULL-safe. */
void token_pair_clear(struct token_pair *p);

/* Loads the key that derives refresh-token successors into app->refresh_key. */
GH_MUST_CHECK gh_status tokens_open(struct app *app);

/* Starts a token family for user u: an access token and a refresh token. client_id names the
 * OAuth client ("" for /api/token/), session_hash the session it was made from ("" for none). */
GH_MUST_CHECK gh_status tokens_issue(struct app *app, const struct user *u, const char *client_id,
                                     const char *session_hash, const struct client_info *client,
                                     struct token_pair *out);

/* Rotates a refresh token for client_id ("" for /api/token/), which may use its own families and
 * the ones no client owns: the token's successor and a new access token. GH_ERR_INVALID_GRANT for
 * an unknown, expired, revoked or foreign token, and for a rotated one outside the grace window —
 * which also revokes its family (audited). */
GH_MUST_CHECK gh_status tokens_refresh(struct app *app, const char *refresh, const char *client_id,
                                       const struct client_info *client, struct token_pair *out);

/* Revokes the family of a refresh token of client_id (a logout). An unknown or foreign token
 * changes nothing and answers GH_OK (RFC 7009: the caller cannot tell). */
GH_MUST_CHECK gh_status tokens_revoke(struct app *app, const char *refresh, const char *client_id,
                                      const struct client_info *client);

/* An access token for an OAuth client itself (client_credentials): sub is the client's id. */
GH_MUST_CHECK gh_status tokens_issue_client(struct app *app, const struct oauth_client *c,
                                            struct token_pair *out);

/* What a valid access token says. */
struct access_claims {
    char sub[64]; /* a user id, or a client id for client tokens */
    char jti[UUID_LEN + 1];
    char client_id[64]; /* the client of a client token; empty for a user's */
    bool for_client;    /* a client's own token: no user behind it */
    int64_t iat, exp;
};

/* Verifies an access token: signature (jwt.h), then iss, aud, token_type "access", nbf and exp
 * (30 s of leeway for clocks of other instances). GH_ERR_INVALID_TOKEN for anything else. */
GH_MUST_CHECK gh_status tokens_verify_access(struct app *app, const char *token,
                                             struct access_claims *out);

/* The user of a Bearer access token: a user's token (not a client's own) whose user still exists
 * and is active — what local verification alone cannot know, this server checks. Writes the
 * user and the token's jti; GH_ERR_NOT_AUTHENTICATED otherwise. */
GH_MUST_CHECK gh_status tokens_authenticate(struct app *app, const char *token, struct user *u,
                                            char jti[UUID_LEN + 1]);

/* RFC 7662 introspection of an access or refresh token by client_id: true in *active with the
 * token's claims in out for a valid one; false for revoked, expired, unknown or foreign tokens
 * alike. */
GH_MUST_CHECK gh_status tokens_introspect(struct app *app, const char *token, const char *client_id,
                                          bool *active, struct access_claims *out);

#endif
