/* One-time tokens on SQLite (confirmation, reset and password-change links), found by the
 * SHA-256 of the token. A consume is one UPDATE … RETURNING, so of two concurrent uses only one
 * finds the token unused.
 * This file is the group's SQL text only: members/onetime.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[ONETIME_STATEMENTS] = {
    [ONETIME_INSERT] = "INSERT INTO one_time_tokens (token_hash, user_id, purpose, "
                       "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ONETIME_CONSUME] = "UPDATE one_time_tokens SET used_at = ?3 WHERE token_hash = ?1 AND "
                        "purpose = ?2 AND used_at IS NULL AND expires_at > ?3 "
                        "RETURNING user_id",
    [ONETIME_PEEK] = "SELECT user_id FROM one_time_tokens WHERE token_hash = ?1 AND "
                     "purpose = ?2 AND used_at IS NULL AND expires_at > ?3",
    [ONETIME_REVOKE_ALL] = "UPDATE one_time_tokens SET used_at = ?3 WHERE user_id = ?1 AND "
                           "purpose = ?2 AND used_at IS NULL",
    /* A day after expiry, so a late click still finds the token and is told it expired. */
    [ONETIME_PURGE] = "DELETE FROM one_time_tokens WHERE expires_at <= ?1 - 86400",
};

const struct sql_statements sqlite_onetime = {SQL_ONETIME, "one-time tokens", ONETIME_STATEMENTS,
                                              sql};
