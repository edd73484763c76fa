/* The mail outbox, on either backend: rendered mails, and mail requests (recipient and kind,
 * empty bodies) that the outbox worker turns into a mail or drops. A claim leases the oldest
 * due row by moving its next attempt to the lease's end. A send error is stored as the dialect
 * takes text (clean_text). */
#include "members.h"

static gh_status sql_outbox_insert(struct store *st, const struct mail *m, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, m->recipient);
    sql_param_text(&p, m->subject);
    sql_param_text(&p, m->text_body);
    sql_param_text(&p, m->html_body);
    sql_param_int(&p, now);
    return sql_exec(st, SQL_OUTBOX, OUTBOX_INSERT, &p, false);
}

static gh_status sql_outbox_request(struct store *st, const char *recipient, const char *request,
                                    int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, recipient);
    sql_param_text(&p, request);
    sql_param_int(&p, now);
    return sql_exec(st, SQL_OUTBOX, OUTBOX_REQUEST, &p, false);
}

static gh_status sql_outbox_claim(struct store *st, int64_t now, int64_t lease_until,
                                  struct mail *out)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_int(&p, now);
    sql_param_int(&p, lease_until);
    gh_status status = sql_query(st, SQL_OUTBOX, OUTBOX_CLAIM, &p, &row);
    if (status != GH_OK)
        return status;
    status = sql_read_mail(&row, 0, out);
    sql_done(&row);
    return status;
}

static gh_status sql_outbox_resolve(struct store *st, const struct mail *m)
{
    struct sql_params p = {0};
    sql_param_int(&p, m->id);
    sql_param_text(&p, m->subject);
    sql_param_text(&p, m->text_body);
    sql_param_text(&p, m->html_body);
    return sql_exec(st, SQL_OUTBOX, OUTBOX_RESOLVE, &p, true);
}

static gh_status sql_outbox_discard(struct store *st, int64_t id)
{
    struct sql_params p = {0};
    sql_param_int(&p, id);
    return sql_exec(st, SQL_OUTBOX, OUTBOX_DISCARD, &p, true);
}

static gh_status sql_outbox_mark_sent(struct store *st, int64_t id, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, id);
    sql_param_int(&p, now);
    return sql_exec(st, SQL_OUTBOX, OUTBOX_SENT, &p, true);
}

static gh_status sql_outbox_schedule_retry(struct store *st, int64_t id, int64_t next_attempt_at,
                                           const char *error)
{
    char clean[1024];
    struct sql_params p = {0};
    sql_param_int(&p, id);
    sql_param_int(&p, next_attempt_at);
    sql_param_text(&p, sql_clean_text(st, error, clean, sizeof clean));
    return sql_exec(st, SQL_OUTBOX, OUTBOX_RETRY, &p, true);
}

static gh_status sql_outbox_pending(struct store *st, int64_t *count)
{
    struct sql_row row;
    gh_status status = sql_query(st, SQL_OUTBOX, OUTBOX_PENDING, NULL, &row);
    if (status != GH_OK)
        return status;
    *count = sql_int(&row, 0);
    sql_done(&row);
    return GH_OK;
}

void sql_outbox_members(struct store *st)
{
    st->outbox_insert = sql_outbox_insert;
    st->outbox_request = sql_outbox_request;
    st->outbox_claim = sql_outbox_claim;
    st->outbox_resolve = sql_outbox_resolve;
    st->outbox_discard = sql_outbox_discard;
    st->outbox_mark_sent = sql_outbox_mark_sent;
    st->outbox_schedule_retry = sql_outbox_schedule_retry;
    st->outbox_pending = sql_outbox_pending;
}
