/* The audit log, on either backend: one row per security event, never a password or token.
 * Header values and the detail are stored as the dialect takes text (clean_text); a user id the
 * dialect would not look up (valid_id) is stored as NULL. */
#include "members.h"

static gh_status sql_audit_insert(struct store *st, const struct audit_event *e, int64_t now)
{
    char ip[IP_MAX * 2], agent[USER_AGENT_MAX * 2], detail[1024];
    struct sql_params p = {0};
    sql_param_int(&p, now);
    sql_param_text(&p, e->event);
    sql_param_text(&p, sql_valid_id(st, e->user_id) ? e->user_id : NULL);
    sql_param_text(&p, e->email);
    sql_param_text(&p, e->client ? sql_clean_text(st, e->client->ip, ip, sizeof ip) : NULL);
    sql_param_text(&p, e->client ? sql_clean_text(st, e->client->user_agent, agent, sizeof agent)
                                 : NULL);
    sql_param_text(&p, sql_clean_text(st, e->detail, detail, sizeof detail));
    return sql_exec(st, SQL_AUDIT, AUDIT_INSERT, &p, false);
}

void sql_audit_members(struct store *st)
{
    st->audit_insert = sql_audit_insert;
}
