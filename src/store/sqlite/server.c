/* Rows about the server rather than an account, on SQLite: the secrets every instance shares,
 * the readiness row that GET /ready rewrites, and the purge of expired rows.
 * This file is the group's SQL text only: members/server.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[SERVER_STATEMENTS] = {
    [SECRET_INSERT] = "INSERT INTO server_secrets (name, value, created_at) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT (name) DO NOTHING",
    [SECRET_GET] = "SELECT value FROM server_secrets WHERE name = ?1",
    [READY_WRITE] = "UPDATE readiness SET checked_at = ?1, probes = probes + 1 WHERE id = 1",
};

const struct sql_statements sqlite_server = {SQL_SERVER, "server", SERVER_STATEMENTS, sql};
