/* Rows about the server rather than an account, on either backend: the secrets every instance
 * shares, the readiness row that GET /ready rewrites, and the purge of expired rows. */
#include "members.h"

static gh_status sql_secret_get_or_create(struct store *st, const char *name, const char *candidate,
                                          int64_t now, char *out, size_t cap)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, name);
    sql_param_text(&p, candidate);
    sql_param_int(&p, now);
    gh_status status = sql_exec(st, SQL_SERVER, SECRET_INSERT, &p, false);
    if (status != GH_OK)
        return status;
    struct sql_params q = {0};
    sql_param_text(&q, name);
    if ((status = sql_query(st, SQL_SERVER, SECRET_GET, &q, &row)) != GH_OK)
        return status == GH_NOT_FOUND ? GH_INTERNAL : status;
    status = str_copy(out, cap, sql_text(&row, 0)) == GH_OK ? GH_OK : GH_INTERNAL;
    sql_done(&row);
    return status;
}

static gh_status sql_ready_write(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sql_exec(st, SQL_SERVER, READY_WRITE, &p, true);
}

static gh_status sql_purge_expired(struct store *st, int64_t now)
{
    gh_status status = sql_sessions_purge(st, now);
    if (status == GH_OK)
        status = sql_onetime_purge(st, now);
    if (status == GH_OK)
        status = sql_rate_purge(st, now);
    if (status == GH_OK)
        status = sql_tokens_purge(st, now);
    if (status == GH_OK)
        status = sql_states_purge(st, now);
    return status;
}

void sql_server_members(struct store *st)
{
    st->secret_get_or_create = sql_secret_get_or_create;
    st->ready_write = sql_ready_write;
    st->purge_expired = sql_purge_expired;
}
