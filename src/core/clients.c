/* OAuth clients. */
#include "clients.h"

#include <sodium.h>
#include <string.h>

#include "../store/store.h"
#include "../util/timeutil.h"

gh_status client_create(struct app *app, const char *name, bool confidential, unsigned grants,
                        char id[UUID_LEN + 1], char secret[TOKEN_LEN + 1])
{
    struct oauth_client c = {0};
    if (str_copy(c.name, sizeof c.name, name) != GH_OK)
        return GH_ERR_TOO_LONG;
    secret_uuid_new(c.id);
    c.confidential = confidential;
    c.grants = grants;
    c.created_at = time_now();
    secret[0] = '\0';
    if (confidential) {
        secret_token_new(secret);
        secret_token_hash(secret, c.secret_hash);
    }
    gh_status st = app->store->client_insert(app->store, &c);
    if (st == GH_OK)
        strcpy(id, c.id);
    else
        sodium_memzero(secret, TOKEN_LEN + 1);
    return st;
}

gh_status client_authenticate(struct app *app, const char *id, const char *secret,
                              struct oauth_client *out)
{
    char hash[TOKEN_HASH_LEN + 1];
    if (!id || !id[0])
        return GH_ERR_INVALID_CLIENT;
    gh_status st = app->store->client_get(app->store, id, out);
    if (st == GH_NOT_FOUND)
        return GH_ERR_INVALID_CLIENT;
    if (st != GH_OK)
        return st;
    if (!out->confidential)
        return secret ? GH_ERR_INVALID_CLIENT : GH_OK;
    if (!secret || !secret_token_is_wellformed(secret))
        return GH_ERR_INVALID_CLIENT;
    secret_token_hash(secret, hash);
    return sodium_memcmp(hash, out->secret_hash, TOKEN_HASH_LEN) == 0 ? GH_OK
                                                                      : GH_ERR_INVALID_CLIENT;
}
