/* One-time tokens. */
#include "onetime.h"

#include <string.h>

#include "../util/timeutil.h"

gh_status onetime_issue(struct store *st, const char *user_id, const char *purpose, int ttl,
                        char token[TOKEN_LEN + 1])
{
    struct onetime t = {.purpose = purpose};
    secret_token_new(token);
    secret_token_hash(token, t.token_hash);
    strcpy(t.user_id, user_id);
    t.created_at = time_now();
    t.expires_at = t.created_at + ttl;
    return st->onetime_insert(st, &t);
}

gh_status onetime_consume(struct store *st, const char *token, const char *purpose,
                          char user_id[UUID_LEN + 1])
{
    char hash[TOKEN_HASH_LEN + 1];
    if (!token || !secret_token_is_wellformed(token))
        return GH_ERR_INVALID_TOKEN;
    secret_token_hash(token, hash);
    int64_t now = time_now();
    gh_status status = st->onetime_consume(st, hash, purpose, now, user_id);
    if (status == GH_NOT_FOUND)
        return GH_ERR_INVALID_TOKEN;
    if (status != GH_OK)
        return status;
    return st->onetime_revoke_all(st, user_id, purpose, now);
}
