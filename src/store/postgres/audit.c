/* The audit log on PostgreSQL: one row per security event, never a password or token. Header
 * values are stored with invalid UTF-8 replaced; a user id that is not a UUID is stored as
 * NULL.
 * This file is the group's SQL text only: members/audit.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[AUDIT_STATEMENTS] = {
    [AUDIT_INSERT] = "INSERT INTO audit_log (created_at, event, user_id, email, ip, "
                     "user_agent, detail) VALUES ($1::bigint, $2, NULLIF($3::text, '')::uuid, "
                     "$4, $5, $6, $7)",
};

const struct sql_statements postgres_audit = {SQL_AUDIT, "audit", AUDIT_STATEMENTS, sql};
