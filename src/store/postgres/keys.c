/* Signing keys of access tokens on PostgreSQL: a key is listed until its retires_at has passed,
 * and a new key retires the ones before it. A retires_at of 0 is stored as NULL (not yet
 * known).
 * This file is the group's SQL text only: members/keys.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[KEY_STATEMENTS] = {
    [KEY_INSERT] = "INSERT INTO signing_keys (kid, alg, private_key, created_at, activates_at, "
                   "retires_at) VALUES ($1, $2, $3, $4::bigint, $5::bigint, "
                   "NULLIF($6::bigint, 0))",
    [KEY_LIST] = "SELECT " SQL_SIGNING_KEY_COLUMNS " FROM signing_keys "
                 "WHERE retires_at IS NULL OR retires_at > $1::bigint "
                 "ORDER BY created_at DESC, kid LIMIT $2::bigint",
    /* An unknown kid has no created_at: the comparison is NULL and retires nothing. */
    [KEY_RETIRE_OLDER] = "UPDATE signing_keys SET retires_at = $2::bigint WHERE retires_at IS "
                         "NULL AND created_at < (SELECT created_at FROM signing_keys "
                         "WHERE kid = $1)",
};

const struct sql_statements postgres_keys = {SQL_KEYS, "signing keys", KEY_STATEMENTS, sql};
