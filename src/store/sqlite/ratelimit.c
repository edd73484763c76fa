/* Rate-limit counters on SQLite: fixed windows, counted by one atomic INSERT … ON CONFLICT DO
 * UPDATE … RETURNING.
 * This file is the group's SQL text only: members/ratelimit.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[RATE_STATEMENTS] = {
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

const struct sql_statements sqlite_ratelimit = {SQL_RATE, "rate limits", RATE_STATEMENTS, sql};
