/* Rate-limit counters, on either backend: fixed windows, counted by one atomic INSERT … ON
 * CONFLICT DO UPDATE … RETURNING. */
#include "members.h"

static gh_status sql_rate_hit(struct store *st, const char *key, int window, int64_t now,
                              int64_t *count, int64_t *window_end)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    sql_param_int(&p, window);
    sql_param_int(&p, now);
    gh_status status = sql_query(st, SQL_RATE, RATE_HIT, &p, &row);
    if (status != GH_OK)
        return status;
    *count = sql_int(&row, 0);
    *window_end = sql_int(&row, 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_rate_peek(struct store *st, const char *key, int64_t now, int64_t *count,
                               int64_t *window_end)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    sql_param_int(&p, now);
    *count = 0;
    *window_end = now;
    gh_status status = sql_query(st, SQL_RATE, RATE_PEEK, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    *count = sql_int(&row, 0);
    *window_end = sql_int(&row, 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_rate_refund(struct store *st, const char *key, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, key);
    sql_param_int(&p, now);
    return sql_exec(st, SQL_RATE, RATE_REFUND, &p, false);
}

static gh_status sql_rate_clear(struct store *st, const char *key)
{
    struct sql_params p = {0};
    sql_param_text(&p, key);
    return sql_exec(st, SQL_RATE, RATE_CLEAR, &p, false);
}

gh_status sql_rate_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sql_exec(st, SQL_RATE, RATE_PURGE, &p, false);
}

void sql_rate_members(struct store *st)
{
    st->rate_hit = sql_rate_hit;
    st->rate_peek = sql_rate_peek;
    st->rate_refund = sql_rate_refund;
    st->rate_clear = sql_rate_clear;
}
