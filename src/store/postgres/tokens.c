/* Refresh tokens on PostgreSQL, found by the SHA-256 of their value. A rotation is one UPDATE …
 * RETURNING of a live token, so of two concurrent uses only one finds it live (and gets the row
 * as the rotation left it, rotated_at = now); the other then reads the row to tell a token
 * rotated before (GH_CONFLICT) from a dead one. Empty client and session are stored as NULL,
 * and so are the times of a token not rotated or not revoked; family and user ids are checked
 * to be lowercase UUIDs before a query. */
#include "../../util/log.h"
#include "postgres.h"

enum {
    REFRESH_INSERT,
    REFRESH_ROTATE,
    REFRESH_GET,
    REFRESH_REVOKE_FAMILY,
    REFRESH_REVOKE_USER,
    REFRESH_REVOKE_SESSION,
    REFRESH_PURGE,
    STATEMENTS
};
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    /* The same successor made twice by concurrent refreshes is one row: the second insert
     * waits for the first to commit, then does nothing. */
    [REFRESH_INSERT] = "INSERT INTO refresh_tokens (token_hash, family_id, user_id, client_id, "
                       "session_hash, created_at, expires_at, rotated_at, revoked_at) "
                       "VALUES ($1, $2::uuid, $3::uuid, NULLIF($4::text, ''), "
                       "NULLIF($5::text, ''), $6::bigint, $7::bigint, NULLIF($8::bigint, 0), "
                       "NULLIF($9::bigint, 0)) ON CONFLICT (token_hash) DO NOTHING",
    /* Of two concurrent updates of the row the second waits, re-checks rotated_at on the row
     * the first committed, and returns nothing. */
    [REFRESH_ROTATE] = "UPDATE refresh_tokens SET rotated_at = $2::bigint WHERE token_hash = $1 "
                       "AND rotated_at IS NULL AND revoked_at IS NULL AND "
                       "expires_at > $2::bigint RETURNING " SQL_REFRESH_TOKEN_COLUMNS,
    [REFRESH_GET] = "SELECT " SQL_REFRESH_TOKEN_COLUMNS " FROM refresh_tokens "
                    "WHERE token_hash = $1",
    /* Revoking again keeps the time of the first revocation. */
    [REFRESH_REVOKE_FAMILY] = "UPDATE refresh_tokens SET revoked_at = $2::bigint WHERE "
                              "family_id = $1::uuid AND revoked_at IS NULL",
    [REFRESH_REVOKE_USER] = "UPDATE refresh_tokens SET revoked_at = $2::bigint WHERE "
                            "user_id = $1::uuid AND revoked_at IS NULL",
    [REFRESH_REVOKE_SESSION] = "UPDATE refresh_tokens SET revoked_at = $2::bigint WHERE "
                               "session_hash = $1 AND revoked_at IS NULL",
    /* A day after expiry, as one-time tokens: a late use still finds the token expired. */
    [REFRESH_PURGE] = "DELETE FROM refresh_tokens WHERE expires_at <= $1::bigint - 86400",
};

static const struct sql_statements tokens = {SQL_TOKENS, "refresh tokens", STATEMENTS, sql};

static gh_status pg_refresh_insert(struct store *st, const struct refresh_token *t)
{
    /* gatehouse makes these ids: another spelling is a caller's bug, refused as SQLite's
     * foreign key refuses such a user, and before the uuid column accepts a family spelled in
     * a way that refresh_revoke_family would then turn away. */
    if (!pg_is_uuid(t->family_id) || !pg_is_uuid(t->user_id)) {
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
    return pg_exec(st, &tokens, REFRESH_INSERT, &p, false);
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
    gh_status status = pg_query(st, &tokens, id, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_refresh_token(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

static gh_status pg_refresh_rotate(struct store *st, const char *token_hash, int64_t now,
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

static gh_status pg_refresh_get(struct store *st, const char *token_hash, struct refresh_token *out)
{
    return token_query(st, REFRESH_GET, token_hash, 0, out);
}

/* Runs one of the REFRESH_REVOKE_* statements for key at now. */
static gh_status revoke(struct store *st, int id, const char *key, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, key);
    sql_param_int(&p, now);
    return pg_exec(st, &tokens, id, &p, false);
}

static gh_status pg_refresh_revoke_family(struct store *st, const char *family_id, int64_t now)
{
    if (!pg_is_uuid(family_id))
        return GH_OK;
    return revoke(st, REFRESH_REVOKE_FAMILY, family_id, now);
}

static gh_status pg_refresh_revoke_user(struct store *st, const char *user_id, int64_t now)
{
    if (!pg_is_uuid(user_id))
        return GH_OK;
    return revoke(st, REFRESH_REVOKE_USER, user_id, now);
}

static gh_status pg_refresh_revoke_session(struct store *st, const char *session_hash, int64_t now)
{
    return revoke(st, REFRESH_REVOKE_SESSION, session_hash, now);
}

gh_status pg_tokens_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return pg_exec(st, &tokens, REFRESH_PURGE, &p, false);
}

void pg_tokens_members(struct store *st)
{
    st->refresh_insert = pg_refresh_insert;
    st->refresh_rotate = pg_refresh_rotate;
    st->refresh_get = pg_refresh_get;
    st->refresh_revoke_family = pg_refresh_revoke_family;
    st->refresh_revoke_user = pg_refresh_revoke_user;
    st->refresh_revoke_session = pg_refresh_revoke_session;
}
