/* Sessions on PostgreSQL, found by the SHA-256 of their token; a lookup joins the user. The IP
 * and user agent are stored with invalid UTF-8 replaced, since PostgreSQL refuses it. */
#include "postgres.h"

enum {
    SESSION_INSERT,
    SESSION_LOOKUP,
    SESSION_DELETE,
    SESSION_TOUCH,
    SESSION_LIST,
    SESSION_DELETE_ALL,
    SESSION_DELETE_ALL_BUT,
    SESSION_PURGE,
    STATEMENTS
};
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [SESSION_INSERT] = "INSERT INTO sessions (token_hash, id, user_id, created_at, "
                       "expires_at, last_seen_at, ip, user_agent) "
                       "VALUES ($1, $2::uuid, $3::uuid, $4::bigint, $5::bigint, $6::bigint, "
                       "$7, $8)",
    [SESSION_LOOKUP] = "SELECT " SQL_SESSION_COLUMNS ", " SQL_USER_COLUMNS
                       " FROM sessions s JOIN users u ON u.id = s.user_id "
                       "JOIN user_profiles p ON p.user_id = u.id "
                       "WHERE s.token_hash = $1 AND s.expires_at > $2::bigint",
    [SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = $1",
    [SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = $2::bigint WHERE token_hash = $1",
    [SESSION_LIST] = "SELECT " SQL_SESSION_COLUMNS " FROM sessions s WHERE s.user_id = $1::uuid "
                     "AND s.expires_at > $2::bigint ORDER BY s.created_at DESC, s.id "
                     "LIMIT $3::bigint",
    [SESSION_DELETE_ALL] = "DELETE FROM sessions WHERE user_id = $1::uuid",
    [SESSION_DELETE_ALL_BUT] = "DELETE FROM sessions WHERE user_id = $1::uuid AND "
                               "token_hash <> $2",
    [SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at <= $1::bigint",
};

static const struct sql_statements sessions = {SQL_SESSIONS, "sessions", STATEMENTS, sql};

static gh_status pg_session_insert(struct store *st, const struct session *ses)
{
    char ip[sizeof ses->ip * 2], agent[sizeof ses->user_agent * 2];
    struct sql_params p = {0};
    sql_param_text(&p, ses->token_hash);
    sql_param_text(&p, ses->id);
    sql_param_text(&p, ses->user_id);
    sql_param_int(&p, ses->created_at);
    sql_param_int(&p, ses->expires_at);
    sql_param_int(&p, ses->last_seen_at);
    sql_param_text(&p, pg_utf8_clean(ses->ip, ip, sizeof ip));
    sql_param_text(&p, pg_utf8_clean(ses->user_agent, agent, sizeof agent));
    return pg_exec(st, &sessions, SESSION_INSERT, &p, false);
}

static gh_status pg_session_lookup(struct store *st, const char *token_hash, int64_t now,
                                   struct session *ses, struct user *u)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, token_hash);
    sql_param_int(&p, now);
    gh_status status = pg_query(st, &sessions, SESSION_LOOKUP, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_session(&row, 0, ses);
    sql_read_user(&row, SQL_SESSION_COLUMN_COUNT, u);
    sql_done(&row);
    return GH_OK;
}

static gh_status pg_session_delete(struct store *st, const char *token_hash)
{
    struct sql_params p = {0};
    sql_param_text(&p, token_hash);
    return pg_exec(st, &sessions, SESSION_DELETE, &p, true);
}

static gh_status pg_session_touch(struct store *st, const char *token_hash, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, token_hash);
    sql_param_int(&p, now);
    return pg_exec(st, &sessions, SESSION_TOUCH, &p, false);
}

static gh_status pg_session_list(struct store *st, const char *user_id, int64_t now,
                                 struct session *out, size_t cap, size_t *count)
{
    struct sql_params p = {0};
    struct sql_row row;
    *count = 0;
    if (!pg_is_uuid(user_id))
        return GH_OK;
    sql_param_text(&p, user_id);
    sql_param_int(&p, now);
    sql_param_int(&p, (int64_t)cap);
    gh_status status = pg_query(st, &sessions, SESSION_LIST, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    while (status == GH_OK && *count < cap) {
        sql_read_session(&row, 0, &out[(*count)++]);
        status = sql_next(&row);
    }
    sql_done(&row);
    return status == GH_NOT_FOUND ? GH_OK : status;
}

static gh_status pg_session_delete_all(struct store *st, const char *user_id, const char *keep)
{
    if (!pg_is_uuid(user_id))
        return GH_OK;
    struct sql_params p = {0};
    sql_param_text(&p, user_id);
    if (keep)
        sql_param_text(&p, keep);
    return pg_exec(st, &sessions, keep ? SESSION_DELETE_ALL_BUT : SESSION_DELETE_ALL, &p, false);
}

gh_status pg_sessions_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return pg_exec(st, &sessions, SESSION_PURGE, &p, false);
}

void pg_sessions_members(struct store *st)
{
    st->session_insert = pg_session_insert;
    st->session_lookup = pg_session_lookup;
    st->session_delete = pg_session_delete;
    st->session_touch = pg_session_touch;
    st->session_list = pg_session_list;
    st->session_delete_all = pg_session_delete_all;
}
