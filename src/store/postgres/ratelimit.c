/* Rate-limit counters on PostgreSQL: fixed windows, counted by one atomic INSERT … ON CONFLICT
 * DO UPDATE … RETURNING. */
#include "postgres.h"

enum { RATE_HIT, RATE_PEEK, RATE_REFUND, RATE_CLEAR, RATE_PURGE, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [RATE_HIT] = "INSERT INTO rate_limits AS r (key, count, expires_at) "
                 "VALUES ($1, 1, $3::bigint + $2::bigint) ON CONFLICT (key) DO UPDATE SET "
                 "count = CASE WHEN r.expires_at <= $3::bigint THEN 1 ELSE r.count + 1 END, "
                 "expires_at = CASE WHEN r.expires_at <= $3::bigint "
                 "THEN $3::bigint + $2::bigint ELSE r.expires_at END "
                 "RETURNING count, expires_at",
    [RATE_PEEK] = "SELECT count, expires_at FROM rate_limits WHERE key = $1 AND "
                  "expires_at > $2::bigint",
    [RATE_REFUND] = "UPDATE rate_limits SET count = count - 1 WHERE key = $1 AND "
                    "expires_at > $2::bigint AND count > 0",
    [RATE_CLEAR] = "DELETE FROM rate_limits WHERE key = $1",
    [RATE_PURGE] = "DELETE FROM rate_limits WHERE expires_at <= $1::bigint",
};

static const struct sql_statements rate = {SQL_RATE, "rate limits", STATEMENTS, sql};

static gh_status pg_rate_hit(struct store *st, const char *key, int window, int64_t now,
                             int64_t *count, int64_t *window_end)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    sql_param_int(&p, window);
    sql_param_int(&p, now);
    gh_status status = pg_query(st, &rate, RATE_HIT, &p, &row);
    if (status != GH_OK)
        return status;
    *count = sql_int(&row, 0);
    *window_end = sql_int(&row, 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status pg_rate_peek(struct store *st, const char *key, int64_t now, int64_t *count,
                              int64_t *window_end)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    sql_param_int(&p, now);
    *count = 0;
    *window_end = now;
    gh_status status = pg_query(st, &rate, RATE_PEEK, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    *count = sql_int(&row, 0);
    *window_end = sql_int(&row, 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status pg_rate_refund(struct store *st, const char *key, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, key);
    sql_param_int(&p, now);
    return pg_exec(st, &rate, RATE_REFUND, &p, false);
}

static gh_status pg_rate_clear(struct store *st, const char *key)
{
    struct sql_params p = {0};
    sql_param_text(&p, key);
    return pg_exec(st, &rate, RATE_CLEAR, &p, false);
}

gh_status pg_rate_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return pg_exec(st, &rate, RATE_PURGE, &p, false);
}

void pg_rate_members(struct store *st)
{
    st->rate_hit = pg_rate_hit;
    st->rate_peek = pg_rate_peek;
    st->rate_refund = pg_rate_refund;
    st->rate_clear = pg_rate_clear;
}
