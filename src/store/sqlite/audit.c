/* The audit log on SQLite: one row per security event, never a password or token. */
#include "sqlite.h"

enum { AUDIT_INSERT, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [AUDIT_INSERT] = "INSERT INTO audit_log (created_at, event, user_id, email, ip, "
                     "user_agent, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
};

static const struct sql_statements audit = {SQL_AUDIT, "audit", STATEMENTS, sql};

static gh_status sq_audit_insert(struct store *st, const struct audit_event *e, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    sql_param_text(&p, e->event);
    sql_param_text(&p, e->user_id);
    sql_param_text(&p, e->email);
    sql_param_text(&p, e->client ? e->client->ip : NULL);
    sql_param_text(&p, e->client ? e->client->user_agent : NULL);
    sql_param_text(&p, e->detail);
    return sq_exec(st, &audit, AUDIT_INSERT, &p, false);
}

void sq_audit_members(struct store *st)
{
    st->audit_insert = sq_audit_insert;
}
