/* The mail outbox on SQLite: rendered mails, and mail requests (recipient and kind, empty
 * bodies) that the outbox worker turns into a mail or drops. A claim leases the oldest due row
 * by moving its next attempt to the lease's end. */
#include "sqlite.h"

enum {
    OUTBOX_INSERT,
    OUTBOX_REQUEST,
    OUTBOX_CLAIM,
    OUTBOX_RESOLVE,
    OUTBOX_DISCARD,
    OUTBOX_SENT,
    OUTBOX_RETRY,
    OUTBOX_PENDING,
    STATEMENTS
};
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [OUTBOX_INSERT] = "INSERT INTO mail_outbox (recipient, subject, text_body, html_body, "
                      "next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    [OUTBOX_REQUEST] = "INSERT INTO mail_outbox (recipient, request, subject, text_body, "
                       "html_body, next_attempt_at, created_at) "
                       "VALUES (?1, ?2, '', '', '', ?3, ?3)",
    [OUTBOX_CLAIM] = "UPDATE mail_outbox SET next_attempt_at = ?2, attempts = attempts + 1 "
                     "WHERE id = (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND "
                     "next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT 1) "
                     "RETURNING " SQL_MAIL_COLUMNS,
    /* Only a row that is still a request: of two workers resolving it, the second changes
     * nothing. */
    [OUTBOX_RESOLVE] = "UPDATE mail_outbox SET request = NULL, subject = ?2, text_body = ?3, "
                       "html_body = ?4 WHERE id = ?1 AND request IS NOT NULL",
    [OUTBOX_DISCARD] = "DELETE FROM mail_outbox WHERE id = ?1 AND request IS NOT NULL",
    /* Sent mail keeps recipient and subject, not the bodies: they hold live links. */
    [OUTBOX_SENT] = "UPDATE mail_outbox SET sent_at = ?2, last_error = NULL, text_body = '', "
                    "html_body = '' WHERE id = ?1",
    [OUTBOX_RETRY] = "UPDATE mail_outbox SET next_attempt_at = ?2, last_error = ?3 "
                     "WHERE id = ?1",
    [OUTBOX_PENDING] = "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL",
};

static const struct sql_statements outbox = {SQL_OUTBOX, "outbox", STATEMENTS, sql};

static gh_status sq_outbox_insert(struct store *st, const struct mail *m, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, m->recipient);
    sql_param_text(&p, m->subject);
    sql_param_text(&p, m->text_body);
    sql_param_text(&p, m->html_body);
    sql_param_int(&p, now);
    return sq_exec(st, &outbox, OUTBOX_INSERT, &p, false);
}

static gh_status sq_outbox_request(struct store *st, const char *recipient, const char *request,
                                   int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, recipient);
    sql_param_text(&p, request);
    sql_param_int(&p, now);
    return sq_exec(st, &outbox, OUTBOX_REQUEST, &p, false);
}

static gh_status sq_outbox_claim(struct store *st, int64_t now, int64_t lease_until,
                                 struct mail *out)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_int(&p, now);
    sql_param_int(&p, lease_until);
    gh_status status = sq_query(st, &outbox, OUTBOX_CLAIM, &p, &row);
    if (status != GH_OK)
        return status;
    status = sql_read_mail(&row, 0, out);
    sql_done(&row);
    return status;
}

static gh_status sq_outbox_resolve(struct store *st, const struct mail *m)
{
    struct sql_params p = {0};
    sql_param_int(&p, m->id);
    sql_param_text(&p, m->subject);
    sql_param_text(&p, m->text_body);
    sql_param_text(&p, m->html_body);
    return sq_exec(st, &outbox, OUTBOX_RESOLVE, &p, true);
}

static gh_status sq_outbox_discard(struct store *st, int64_t id)
{
    struct sql_params p = {0};
    sql_param_int(&p, id);
    return sq_exec(st, &outbox, OUTBOX_DISCARD, &p, true);
}

static gh_status sq_outbox_mark_sent(struct store *st, int64_t id, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, id);
    sql_param_int(&p, now);
    return sq_exec(st, &outbox, OUTBOX_SENT, &p, true);
}

static gh_status sq_outbox_schedule_retry(struct store *st, int64_t id, int64_t next_attempt_at,
                                          const char *error)
{
    struct sql_params p = {0};
    sql_param_int(&p, id);
    sql_param_int(&p, next_attempt_at);
    sql_param_text(&p, error);
    return sq_exec(st, &outbox, OUTBOX_RETRY, &p, true);
}

static gh_status sq_outbox_pending(struct store *st, int64_t *count)
{
    struct sql_row row;
    gh_status status = sq_query(st, &outbox, OUTBOX_PENDING, NULL, &row);
    if (status != GH_OK)
        return status;
    *count = sql_int(&row, 0);
    sql_done(&row);
    return GH_OK;
}

void sq_outbox_members(struct store *st)
{
    st->outbox_insert = sq_outbox_insert;
    st->outbox_request = sq_outbox_request;
    st->outbox_claim = sq_outbox_claim;
    st->outbox_resolve = sq_outbox_resolve;
    st->outbox_discard = sq_outbox_discard;
    st->outbox_mark_sent = sq_outbox_mark_sent;
    st->outbox_schedule_retry = sq_outbox_schedule_retry;
    st->outbox_pending = sq_outbox_pending;
}
