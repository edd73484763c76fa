/* One-time tokens on PostgreSQL (confirmation, reset and password-change links), found by the
 * SHA-256 of the token. A consume is one UPDATE … RETURNING, so of two concurrent uses only one
 * finds the token unused.
 * This file is the group's SQL text only: members/onetime.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[ONETIME_STATEMENTS] = {
    [ONETIME_INSERT] = "INSERT INTO one_time_tokens (token_hash, user_id, purpose, "
                       "created_at, expires_at) VALUES ($1, $2::uuid, $3, $4::bigint, "
                       "$5::bigint)",
    /* Of two concurrent updates of the row the second waits, re-checks used_at on the row the
     * first committed, and returns nothing. */
    [ONETIME_CONSUME] = "UPDATE one_time_tokens SET used_at = $3::bigint WHERE token_hash = $1 "
                        "AND purpose = $2 AND used_at IS NULL AND expires_at > $3::bigint "
                        "RETURNING user_id",
    [ONETIME_PEEK] = "SELECT user_id FROM one_time_tokens WHERE token_hash = $1 AND "
                     "purpose = $2 AND used_at IS NULL AND expires_at > $3::bigint",
    [ONETIME_REVOKE_ALL] = "UPDATE one_time_tokens SET used_at = $3::bigint WHERE "
                           "user_id = $1::uuid AND purpose = $2 AND used_at IS NULL",
    /* A day after expiry, so a late click still finds the token and is told it expired. */
    [ONETIME_PURGE] = "DELETE FROM one_time_tokens WHERE expires_at <= $1::bigint - 86400",
};

const struct sql_statements postgres_onetime = {SQL_ONETIME, "one-time tokens", ONETIME_STATEMENTS,
                                                sql};
