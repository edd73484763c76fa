/* Logins in progress at OpenID Connect providers on SQLite, found by the SHA-256 of the state
 * parameter. A consume is one DELETE … RETURNING of an unexpired state, so of two concurrent
 * returns from the provider only one finds it. An empty next is stored as NULL.
 * This file is the group's SQL text only: members/states.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[STATE_STATEMENTS] = {
    [STATE_INSERT] = "INSERT INTO oauth_states (state_hash, binding_hash, provider, "
                     "code_verifier, nonce, next, created_at, expires_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, NULLIF(?6, ''), ?7, ?8)",
    [STATE_CONSUME] = "DELETE FROM oauth_states WHERE state_hash = ?1 AND expires_at > ?2 "
                      "RETURNING " SQL_STATE_COLUMNS,
    /* An expired state is of no use to anyone: no grace. */
    [STATE_PURGE] = "DELETE FROM oauth_states WHERE expires_at <= ?1",
};

const struct sql_statements sqlite_states = {SQL_STATES, "oauth states", STATE_STATEMENTS, sql};
