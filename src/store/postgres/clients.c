/* OAuth clients on PostgreSQL: an id is registered once; a public client's empty secret hash is
 * stored as NULL, and the name with invalid UTF-8 replaced, since PostgreSQL refuses it.
 * This file is the group's SQL text only: members/clients.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[CLIENT_STATEMENTS] = {
    /* A taken id inserts nothing: a conflict that does not abort the transaction. */
    [CLIENT_INSERT] = "INSERT INTO oauth_clients (id, name, secret_hash, confidential, grants, "
                      "created_at) VALUES ($1, $2, NULLIF($3::text, ''), $4::boolean, "
                      "$5::integer, $6::bigint) ON CONFLICT DO NOTHING",
    [CLIENT_GET] = "SELECT " SQL_CLIENT_COLUMNS " FROM oauth_clients WHERE id = $1",
};

const struct sql_statements postgres_clients = {SQL_CLIENTS, "oauth clients", CLIENT_STATEMENTS,
                                                sql};
