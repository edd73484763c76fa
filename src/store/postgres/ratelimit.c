/* Rate-limit counters on PostgreSQL: fixed windows, counted by one atomic INSERT … ON CONFLICT
 * DO UPDATE … RETURNING.
 * This file is the group's SQL text only: members/ratelimit.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[RATE_STATEMENTS] = {
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

const struct sql_statements postgres_ratelimit = {SQL_RATE, "rate limits", RATE_STATEMENTS, sql};
