/* The signing keys of access tokens: generated at first start and kept in the database
 * (sealed with GATEHOUSE_KEY_ENCRYPTION_KEY when set), read by every instance and reread every
 * GATEHOUSE_KEY_RELOAD_SECONDS, so a rotation reaches all instances without a restart.
 *
 * A rotation adds a key that is published at once but signs only from 2 × the reload interval
 * later, when every instance serves it in its JWKS; the keys before it retire then, and leave
 * the JWKS once every token they signed has expired (the access-token lifetime later, plus a
 * minute of leeway). */
#ifndef GH_KEYS_H
#define GH_KEYS_H

#include <jansson.h>

#include "../app.h"
#include "jwt.h"

struct keyring;

/* Loads the keys into app->keys, generating the first one when there is none. */
GH_MUST_CHECK gh_status keys_open(struct app *app);
/* Frees the ring. NULL-safe. */
void keys_close(struct keyring **ring);

/* The key that signs now (the newest active key of the configured algorithm); borrowed, valid
 * until keys_close. */
GH_MUST_CHECK gh_status keys_signer(struct app *app, const struct jwt_key **out);
/* Finds a key of the configured algorithm that has not left the JWKS, for jwt_verify. ctx is
 * the app. */
const struct jwt_key *keys_lookup(void *ctx, const char *kid);
/* The JWKS document ({"keys": [...]}) as compact JSON text; heap memory the caller frees. */
GH_MUST_CHECK gh_status keys_jwks(struct app *app, char **json);

/* Adds a new key of the configured algorithm as described above (gatehouse keys rotate).
 * Writes its kid and when it starts signing. */
GH_MUST_CHECK gh_status keys_rotate(struct app *app, char kid[JWT_KID_MAX], int64_t *activates_at);

#endif
