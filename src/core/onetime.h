/* One-time tokens (email confirmation, password reset): random, stored hashed, bound to one
 * purpose and one user, expiring, single use. Both functions run inside the caller's
 * transaction so the token and what it causes commit together. */
#ifndef GH_ONETIME_H
#define GH_ONETIME_H

#include "../store/store.h"

/* Stores a new token for user_id and purpose, valid ttl seconds; writes it into token. */
GH_MUST_CHECK gh_status onetime_issue(struct store *st, const char *user_id, const char *purpose,
                                      int ttl, char token[TOKEN_LEN + 1]);

/* Consumes token for purpose (atomically: of concurrent uses exactly one succeeds), revokes
 * every other token of that user and purpose, and writes the user's id into user_id.
 * GH_ERR_INVALID_TOKEN for a malformed, unknown, used, expired or wrong-purpose token. */
GH_MUST_CHECK gh_status onetime_consume(struct store *st, const char *token, const char *purpose,
                                        char user_id[UUID_LEN + 1]);

#endif
