/* Server-side sessions: random tokens handed to the browser in a cookie, stored only as
 * SHA-256 hashes, with an absolute lifetime and an optional idle timeout. */
#ifndef GH_SESSION_H
#define GH_SESSION_H

#include "../app.h"
#include "../records.h"

/* Creates a session for user_id and writes its token (the cookie value) into token. */
GH_MUST_CHECK gh_status session_create(struct app *app, const char *user_id,
                                       const struct client_info *client, char token[TOKEN_LEN + 1]);

/* Finds the live session of token and its user. GH_ERR_NOT_AUTHENTICATED for a missing,
 * malformed, unknown, expired or idle token; other statuses mean the store failed. */
GH_MUST_CHECK gh_status session_authenticate(struct app *app, const char *token, struct session *s,
                                             struct user *u);

/* Deletes the session of token. GH_ERR_NOT_AUTHENTICATED when there was none. */
GH_MUST_CHECK gh_status session_revoke(struct app *app, const char *token);

/* Sessions listed (and searched when one is revoked by id) at most. */
#define SESSION_LIST_MAX 100

/* The user's live sessions, newest first, at most cap. */
GH_MUST_CHECK gh_status session_list(struct app *app, const char *user_id, struct session *out,
                                     size_t cap, size_t *count);

/* Revokes the session with public id session_id if it belongs to u; GH_NOT_FOUND otherwise. */
GH_MUST_CHECK gh_status session_revoke_by_id(struct app *app, const struct user *u,
                                             const char *session_id,
                                             const struct client_info *client);

#endif
