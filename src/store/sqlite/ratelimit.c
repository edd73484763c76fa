/* Rate-limit counters on SQLite: fixed windows, counted by one atomic INSERT … ON CONFLICT DO
 * UPDATE … RETURNING. */
#include "sqlite.h"

enum { RATE_HIT, RATE_PEEK, RATE_REFUND, RATE_CLEAR, RATE_PURGE, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [RATE_HIT] = "INSERT INTO rate_limits (key, count, expires_at) VALUES (?1, 1, ?3 + ?2) "
                 "ON CONFLICT (key) DO UPDATE SET "
                 "count = CASE WHEN expires_at <= ?3 THEN 1 ELSE count + 1 END, "
                 "expires_at = CASE WHEN expires_at <= ?3 THEN ?3 + ?2 ELSE expires_at END "
                 "RETURNING count, expires_at",
    [RATE_PEEK] = "SELECT count, expires_at FROM rate_limits WHERE key = ?1 AND "
                  "expires_at > ?2",
    [RATE_REFUND] = "UPDATE rate_limits SET count = count - 1 WHERE key = ?1 AND "
                    "expires_at > ?2 AND count > 0",
    [RATE_CLEAR] = "DELETE FROM rate_limits WHERE key = ?1",
    [RATE_PURGE] = "DELETE FROM rate_limits WHERE expires_at <= ?1",
};

static const struct sql_statements rate = {SQL_RATE, "rate limits", STATEMENTS, sql};

static gh_status sq_rate_hit(struct store *st, const char *key, int window, int64_t now,
                             int64_t *count, int64_t *window_end)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    sql_param_int(&p, window);
    sql_param_int(&p, now);
    gh_status status = sq_query(st, &rate, RATE_HIT, &p, &row);
    if (status != GH_OK)
        return status;
    *count = sql_int(&row, 0);
    *window_end = sql_int(&row, 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status sq_rate_peek(struct store *st, const char *key, int64_t now, int64_t *count,
                              int64_t *window_end)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    sql_param_int(&p, now);
    *count = 0;
    *window_end = now;
    gh_status status = sq_query(st, &rate, RATE_PEEK, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    *count = sql_int(&row, 0);
    *window_end = sql_int(&row, 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status sq_rate_refund(struct store *st, const char *key, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, key);
    sql_param_int(&p, now);
    return sq_exec(st, &rate, RATE_REFUND, &p, false);
}

static gh_status sq_rate_clear(struct store *st, const char *key)
{
    struct sql_params p = {0};
    sql_param_text(&p, key);
    return sq_exec(st, &rate, RATE_CLEAR, &p, false);
}

gh_status sq_rate_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sq_exec(st, &rate, RATE_PURGE, &p, false);
}

void sq_rate_members(struct store *st)
{
    st->rate_hit = sq_rate_hit;
    st->rate_peek = sq_rate_peek;
    st->rate_refund = sq_rate_refund;
    st->rate_clear = sq_rate_clear;
}
