/* Sessions, on either backend, found by the SHA-256 of their token; a lookup joins the user.
 * The IP and user agent are stored as the dialect takes text (clean_text); a user id the
 * dialect would not look up (valid_id) has no sessions. */
#include "members.h"

static gh_status sql_session_insert(struct store *st, const struct session *ses)
{
    char ip[sizeof ses->ip * 2], agent[sizeof ses->user_agent * 2];
    struct sql_params p = {0};
    sql_param_text(&p, ses->token_hash);
    sql_param_text(&p, ses->id);
    sql_param_text(&p, ses->user_id);
    sql_param_int(&p, ses->created_at);
    sql_param_int(&p, ses->expires_at);
    sql_param_int(&p, ses->last_seen_at);
    sql_param_text(&p, sql_clean_text(st, ses->ip, ip, sizeof ip));
    sql_param_text(&p, sql_clean_text(st, ses->user_agent, agent, sizeof agent));
    return sql_exec(st, SQL_SESSIONS, SESSION_INSERT, &p, false);
}

static gh_status sql_session_lookup(struct store *st, const char *token_hash, int64_t now,
                                    struct session *ses, struct user *u)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, token_hash);
    sql_param_int(&p, now);
    gh_status status = sql_query(st, SQL_SESSIONS, SESSION_LOOKUP, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_session(&row, 0, ses);
    sql_read_user(&row, SQL_SESSION_COLUMN_COUNT, u);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_session_delete(struct store *st, const char *token_hash)
{
    struct sql_params p = {0};
    sql_param_text(&p, token_hash);
    return sql_exec(st, SQL_SESSIONS, SESSION_DELETE, &p, true);
}

static gh_status sql_session_touch(struct store *st, const char *token_hash, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, token_hash);
    sql_param_int(&p, now);
    return sql_exec(st, SQL_SESSIONS, SESSION_TOUCH, &p, false);
}

static gh_status sql_session_list(struct store *st, const char *user_id, int64_t now,
                                  struct session *out, size_t cap, size_t *count)
{
    *count = 0;
    if (!sql_valid_id(st, user_id))
        return GH_OK;
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, user_id);
    sql_param_int(&p, now);
    sql_param_int(&p, (int64_t)cap);
    gh_status status = sql_query(st, SQL_SESSIONS, SESSION_LIST, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    while (status == GH_OK && *count < cap) {
        sql_read_session(&row, 0, &out[(*count)++]);
        status = sql_next(&row);
    }
    sql_done(&row);
    return status == GH_NOT_FOUND ? GH_OK : status;
}

static gh_status sql_session_delete_all(struct store *st, const char *user_id, const char *keep)
{
    if (!sql_valid_id(st, user_id))
        return GH_OK;
    struct sql_params p = {0};
    sql_param_text(&p, user_id);
    if (keep)
        sql_param_text(&p, keep);
    return sql_exec(st, SQL_SESSIONS, keep ? SESSION_DELETE_ALL_BUT : SESSION_DELETE_ALL, &p,
                    false);
}

gh_status sql_sessions_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sql_exec(st, SQL_SESSIONS, SESSION_PURGE, &p, false);
}

void sql_sessions_members(struct store *st)
{
    st->session_insert = sql_session_insert;
    st->session_lookup = sql_session_lookup;
    st->session_delete = sql_session_delete;
    st->session_touch = sql_session_touch;
    st->session_list = sql_session_list;
    st->session_delete_all = sql_session_delete_all;
}
