/* The audit log on SQLite: one row per security event, never a password or token.
 * This file is the group's SQL text only: members/audit.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[AUDIT_STATEMENTS] = {
    [AUDIT_INSERT] = "INSERT INTO audit_log (created_at, event, user_id, email, ip, "
                     "user_agent, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
};

const struct sql_statements sqlite_audit = {SQL_AUDIT, "audit", AUDIT_STATEMENTS, sql};
