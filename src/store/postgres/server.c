/* Rows about the server rather than an account, on PostgreSQL: the secrets every instance
 * shares, the readiness row that GET /ready rewrites, and the purge of expired rows. */
#include "postgres.h"

enum { SECRET_INSERT, SECRET_GET, READY_WRITE, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    /* A concurrent insert of the same name waits for the first to commit, then does nothing;
     * the SELECT, a statement of its own, sees the committed row. */
    [SECRET_INSERT] = "INSERT INTO server_secrets (name, value, created_at) "
                      "VALUES ($1, $2, $3::bigint) ON CONFLICT (name) DO NOTHING",
    [SECRET_GET] = "SELECT value FROM server_secrets WHERE name = $1",
    [READY_WRITE] = "UPDATE readiness SET checked_at = $1::bigint, probes = probes + 1 "
                    "WHERE id = 1",
};

static const struct sql_statements server = {SQL_SERVER, "server", STATEMENTS, sql};

static gh_status pg_secret_get_or_create(struct store *st, const char *name, const char *candidate,
                                         int64_t now, char *out, size_t cap)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, name);
    sql_param_text(&p, candidate);
    sql_param_int(&p, now);
    gh_status status = pg_exec(st, &server, SECRET_INSERT, &p, false);
    if (status != GH_OK)
        return status;
    struct sql_params q = {0};
    sql_param_text(&q, name);
    if ((status = pg_query(st, &server, SECRET_GET, &q, &row)) != GH_OK)
        return status == GH_NOT_FOUND ? GH_INTERNAL : status;
    status = str_copy(out, cap, sql_text(&row, 0)) == GH_OK ? GH_OK : GH_INTERNAL;
    sql_done(&row);
    return status;
}

static gh_status pg_ready_write(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return pg_exec(st, &server, READY_WRITE, &p, true);
}

static gh_status pg_purge_expired(struct store *st, int64_t now)
{
    gh_status status = pg_sessions_purge(st, now);
    if (status == GH_OK)
        status = pg_onetime_purge(st, now);
    if (status == GH_OK)
        status = pg_rate_purge(st, now);
    if (status == GH_OK)
        status = pg_tokens_purge(st, now);
    if (status == GH_OK)
        status = pg_states_purge(st, now);
    return status;
}

void pg_server_members(struct store *st)
{
    st->secret_get_or_create = pg_secret_get_or_create;
    st->ready_write = pg_ready_write;
    st->purge_expired = pg_purge_expired;
}
