/* The audit log on PostgreSQL: one row per security event, never a password or token. Header
 * values are stored with invalid UTF-8 replaced; a user id that is not a UUID is stored as
 * NULL. */
#include "postgres.h"

enum { AUDIT_INSERT, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [AUDIT_INSERT] = "INSERT INTO audit_log (created_at, event, user_id, email, ip, "
                     "user_agent, detail) VALUES ($1::bigint, $2, NULLIF($3::text, '')::uuid, "
                     "$4, $5, $6, $7)",
};

static const struct sql_statements audit = {SQL_AUDIT, "audit", STATEMENTS, sql};

static gh_status pg_audit_insert(struct store *st, const struct audit_event *e, int64_t now)
{
    char ip[IP_MAX * 2], agent[USER_AGENT_MAX * 2], detail[1024];
    struct sql_params p = {0};
    sql_param_int(&p, now);
    sql_param_text(&p, e->event);
    sql_param_text(&p, pg_is_uuid(e->user_id) ? e->user_id : NULL);
    sql_param_text(&p, e->email);
    sql_param_text(&p, e->client ? pg_utf8_clean(e->client->ip, ip, sizeof ip) : NULL);
    sql_param_text(&p,
                   e->client ? pg_utf8_clean(e->client->user_agent, agent, sizeof agent) : NULL);
    sql_param_text(&p, pg_utf8_clean(e->detail, detail, sizeof detail));
    return pg_exec(st, &audit, AUDIT_INSERT, &p, false);
}

void pg_audit_members(struct store *st)
{
    st->audit_insert = pg_audit_insert;
}
