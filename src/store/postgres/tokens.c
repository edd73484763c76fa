/* Refresh tokens on PostgreSQL, found by the SHA-256 of their value. A rotation is one UPDATE …
 * RETURNING of a live token, so of two concurrent uses only one finds it live (and gets the row
 * as the rotation left it, rotated_at = now); the other then reads the row to tell a token
 * rotated before (GH_CONFLICT) from a dead one. Empty client and session are stored as NULL,
 * and so are the times of a token not rotated or not revoked; family and user ids are checked
 * to be lowercase UUIDs before a query.
 * This file is the group's SQL text only: members/tokens.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[REFRESH_STATEMENTS] = {
    /* The same successor made twice by concurrent refreshes is one row: the second insert
     * waits for the first to commit, then does nothing. */
    [REFRESH_INSERT] = "INSERT INTO refresh_tokens (token_hash, family_id, user_id, client_id, "
                       "session_hash, created_at, expires_at, rotated_at, revoked_at) "
                       "VALUES ($1, $2::uuid, $3::uuid, NULLIF($4::text, ''), "
                       "NULLIF($5::text, ''), $6::bigint, $7::bigint, NULLIF($8::bigint, 0), "
                       "NULLIF($9::bigint, 0)) ON CONFLICT (token_hash) DO NOTHING",
    /* Of two concurrent updates of the row the second waits, re-checks rotated_at on the row
     * the first committed, and returns nothing. */
    [REFRESH_ROTATE] = "UPDATE refresh_tokens SET rotated_at = $2::bigint WHERE token_hash = $1 "
                       "AND rotated_at IS NULL AND revoked_at IS NULL AND "
                       "expires_at > $2::bigint RETURNING " SQL_REFRESH_TOKEN_COLUMNS,
    [REFRESH_GET] = "SELECT " SQL_REFRESH_TOKEN_COLUMNS " FROM refresh_tokens "
                    "WHERE token_hash = $1",
    /* Revoking again keeps the time of the first revocation. */
    [REFRESH_REVOKE_FAMILY] = "UPDATE refresh_tokens SET revoked_at = $2::bigint WHERE "
                              "family_id = $1::uuid AND revoked_at IS NULL",
    [REFRESH_REVOKE_USER] = "UPDATE refresh_tokens SET revoked_at = $2::bigint WHERE "
                            "user_id = $1::uuid AND revoked_at IS NULL",
    [REFRESH_REVOKE_SESSION] = "UPDATE refresh_tokens SET revoked_at = $2::bigint WHERE "
                               "session_hash = $1 AND revoked_at IS NULL",
    /* A day after expiry, as one-time tokens: a late use still finds the token expired. */
    [REFRESH_PURGE] = "DELETE FROM refresh_tokens WHERE expires_at <= $1::bigint - 86400",
};

const struct sql_statements postgres_tokens = {SQL_TOKENS, "refresh tokens", REFRESH_STATEMENTS,
                                               sql};
