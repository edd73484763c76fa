/* Refresh tokens, on either backend, found by the SHA-256 of their value. A rotation is one
 * UPDATE … RETURNING of a live token, so of two concurrent uses only one finds it live (and
 * gets the row as the rotation left it, rotated_at = now); the other then reads the row to tell
 * a token rotated before (GH_CONFLICT) from a dead one. Empty client and session are stored as
 * NULL, and so are the times of a token not rotated or not revoked; family and user ids the
 * dialect would not look up (valid_id) are refused on insert and have no tokens to revoke. */
#include "../../util/log.h"
#include "members.h"

static gh_status sql_refresh_insert(struct store *st, const struct refresh_token *t)
{
    /* gatehouse makes these ids: another spelling is a caller's bug, refused as SQLite's
     * foreign key refuses such a user, and before the uuid column accepts a family spelled in
     * a way that refresh_revoke_family would then turn away. */
    if (!sql_valid_id(st, t->family_id) || !sql_valid_id(st, t->user_id)) {
        log_msg(LOG_ERROR, "store: refresh token with a malformed family or user id");
        return GH_INTERNAL;
    }
    struct sql_params p = {0};
    sql_param_text(&p, t->token_hash);
    sql_param_text(&p, t->family_id);
    sql_param_text(&p, t->user_id);
    sql_param_text(&p, t->client_id);
    sql_param_text(&p, t->session_hash);
    sql_param_int(&p, t->created_at);
    sql_param_int(&p, t->expires_at);
    sql_param_int(&p, t->rotated_at);
    sql_param_int(&p, t->revoked_at);
    return sql_exec(st, SQL_TOKENS, REFRESH_INSERT, &p, false);
}

/* Runs REFRESH_ROTATE or REFRESH_GET (the second parameter only for the rotation) and reads the
 * token of its row; GH_NOT_FOUND when there is none. */
static gh_status token_query(struct store *st, int id, const char *token_hash, int64_t now,
                             struct refresh_token *out)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, token_hash);
    if (id == REFRESH_ROTATE)
        sql_param_int(&p, now);
    gh_status status = sql_query(st, SQL_TOKENS, id, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_refresh_token(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_refresh_rotate(struct store *st, const char *token_hash, int64_t now,
                                    struct refresh_token *out)
{
    struct refresh_token found;
    gh_status status = token_query(st, REFRESH_ROTATE, token_hash, now, out);
    if (status != GH_NOT_FOUND)
        return status;
    /* Not live: only a token rotated before, and neither revoked nor expired since, is news. */
    if ((status = token_query(st, REFRESH_GET, token_hash, now, &found)) != GH_OK)
        return status;
    if (!found.rotated_at || found.revoked_at || found.expires_at <= now)
        return GH_NOT_FOUND;
    *out = found;
    return GH_CONFLICT;
}

static gh_status sql_refresh_get(struct store *st, const char *token_hash,
                                 struct refresh_token *out)
{
    return token_query(st, REFRESH_GET, token_hash, 0, out);
}

/* Runs one of the REFRESH_REVOKE_* statements for key at now. */
static gh_status revoke(struct store *st, int id, const char *key, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, key);
    sql_param_int(&p, now);
    return sql_exec(st, SQL_TOKENS, id, &p, false);
}

static gh_status sql_refresh_revoke_family(struct store *st, const char *family_id, int64_t now)
{
    if (!sql_valid_id(st, family_id))
        return GH_OK;
    return revoke(st, REFRESH_REVOKE_FAMILY, family_id, now);
}

static gh_status sql_refresh_revoke_user(struct store *st, const char *user_id, int64_t now)
{
    if (!sql_valid_id(st, user_id))
        return GH_OK;
    return revoke(st, REFRESH_REVOKE_USER, user_id, now);
}

static gh_status sql_refresh_revoke_session(struct store *st, const char *session_hash, int64_t now)
{
    return revoke(st, REFRESH_REVOKE_SESSION, session_hash, now);
}

gh_status sql_tokens_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sql_exec(st, SQL_TOKENS, REFRESH_PURGE, &p, false);
}

void sql_tokens_members(struct store *st)
{
    st->refresh_insert = sql_refresh_insert;
    st->refresh_rotate = sql_refresh_rotate;
    st->refresh_get = sql_refresh_get;
    st->refresh_revoke_family = sql_refresh_revoke_family;
    st->refresh_revoke_user = sql_refresh_revoke_user;
    st->refresh_revoke_session = sql_refresh_revoke_session;
}
