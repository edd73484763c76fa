/* Rows about the server rather than an account, on PostgreSQL: the secrets every instance
 * shares, the readiness row that GET /ready rewrites, and the purge of expired rows.
 * This file is the group's SQL text only: members/server.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[SERVER_STATEMENTS] = {
    /* A concurrent insert of the same name waits for the first to commit, then does nothing;
     * the SELECT, a statement of its own, sees the committed row. */
    [SECRET_INSERT] = "INSERT INTO server_secrets (name, value, created_at) "
                      "VALUES ($1, $2, $3::bigint) ON CONFLICT (name) DO NOTHING",
    [SECRET_GET] = "SELECT value FROM server_secrets WHERE name = $1",
    [READY_WRITE] = "UPDATE readiness SET checked_at = $1::bigint, probes = probes + 1 "
                    "WHERE id = 1",
};

const struct sql_statements postgres_server = {SQL_SERVER, "server", SERVER_STATEMENTS, sql};
