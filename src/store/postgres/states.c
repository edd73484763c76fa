/* Logins in progress at OpenID Connect providers on PostgreSQL, found by the SHA-256 of the
 * state parameter. A consume is one DELETE … RETURNING of an unexpired state, so of two
 * concurrent returns from the provider only one finds it. An empty next is stored as NULL.
 * This file is the group's SQL text only: members/states.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[STATE_STATEMENTS] = {
    [STATE_INSERT] = "INSERT INTO oauth_states (state_hash, binding_hash, provider, "
                     "code_verifier, nonce, next, created_at, expires_at) "
                     "VALUES ($1, $2, $3, $4, $5, NULLIF($6::text, ''), $7::bigint, $8::bigint)",
    /* Of two concurrent deletes of the row the second waits for the first to commit, finds the
     * row gone, and returns nothing. */
    [STATE_CONSUME] = "DELETE FROM oauth_states WHERE state_hash = $1 AND "
                      "expires_at > $2::bigint RETURNING " SQL_STATE_COLUMNS,
    /* An expired state is of no use to anyone: no grace. */
    [STATE_PURGE] = "DELETE FROM oauth_states WHERE expires_at <= $1::bigint",
};

const struct sql_statements postgres_states = {SQL_STATES, "oauth states", STATE_STATEMENTS, sql};
