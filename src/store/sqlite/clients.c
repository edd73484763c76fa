/* OAuth clients on SQLite: an id is registered once; a public client's empty secret hash is
 * stored as NULL.
 * This file is the group's SQL text only: members/clients.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[CLIENT_STATEMENTS] = {
    /* A taken id inserts nothing: a conflict that leaves the transaction usable. */
    [CLIENT_INSERT] = "INSERT INTO oauth_clients (id, name, secret_hash, confidential, grants, "
                      "created_at) VALUES (?1, ?2, NULLIF(?3, ''), ?4, ?5, ?6) "
                      "ON CONFLICT DO NOTHING",
    [CLIENT_GET] = "SELECT " SQL_CLIENT_COLUMNS " FROM oauth_clients WHERE id = ?1",
};

const struct sql_statements sqlite_clients = {SQL_CLIENTS, "oauth clients", CLIENT_STATEMENTS, sql};
