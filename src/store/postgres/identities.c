/* Identities at OpenID Connect providers on PostgreSQL, found by (provider, subject). A subject
 * is linked to one account and an account has one identity per provider: an insert that would
 * break either inserts nothing and is a conflict. Provider, subject and email come from outside
 * and are checked (sql_text_fits) before a query, since PostgreSQL refuses invalid UTF-8 with an
 * error; user ids are checked to be lowercase UUIDs; an empty email is stored as NULL.
 * This file is the group's SQL text only: members/identities.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[IDENTITY_STATEMENTS] = {
    /* A linked subject or a second identity of the user at the provider inserts nothing: a
     * conflict that does not abort the transaction. A concurrent insert of the same key waits
     * for the first to commit, then does nothing. */
    [IDENTITY_INSERT] = "INSERT INTO oauth_identities (provider, subject, user_id, email, "
                        "created_at) VALUES ($1, $2, $3::uuid, NULLIF($4::text, ''), "
                        "$5::bigint) ON CONFLICT DO NOTHING",
    [IDENTITY_GET] = "SELECT " SQL_IDENTITY_COLUMNS " FROM oauth_identities "
                     "WHERE provider = $1 AND subject = $2",
    [IDENTITY_LIST] = "SELECT " SQL_IDENTITY_COLUMNS " FROM oauth_identities "
                      "WHERE user_id = $1::uuid ORDER BY created_at, provider LIMIT $2::bigint",
    [IDENTITY_DELETE] = "DELETE FROM oauth_identities WHERE user_id = $1::uuid AND provider = $2",
};

const struct sql_statements postgres_identities = {SQL_IDENTITIES, "oauth identities",
                                                   IDENTITY_STATEMENTS, sql};
