/* The mail outbox on PostgreSQL: rendered mails, and mail requests (recipient and kind, empty
 * bodies) that the outbox worker turns into a mail or drops. A claim leases the oldest due row
 * by moving its next attempt to the lease's end.
 * This file is the group's SQL text only: members/outbox.c runs it. */
#include "../members/members.h"
#include "postgres.h"

static const char *const sql[OUTBOX_STATEMENTS] = {
    [OUTBOX_INSERT] = "INSERT INTO mail_outbox (recipient, subject, text_body, html_body, "
                      "next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5::bigint, "
                      "$5::bigint)",
    [OUTBOX_REQUEST] = "INSERT INTO mail_outbox (recipient, request, subject, text_body, "
                       "html_body, next_attempt_at, created_at) "
                       "VALUES ($1, $2, '', '', '', $3::bigint, $3::bigint)",
    /* SKIP LOCKED: a row another instance is claiming right now is passed over, not waited
     * for; a row it has claimed already no longer matches next_attempt_at <= now. */
    [OUTBOX_CLAIM] = "UPDATE mail_outbox SET next_attempt_at = $2::bigint, "
                     "attempts = attempts + 1 WHERE id = (SELECT id FROM mail_outbox "
                     "WHERE sent_at IS NULL AND next_attempt_at <= $1::bigint "
                     "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                     "RETURNING " SQL_MAIL_COLUMNS,
    /* Only a row that is still a request: of two workers resolving it, the second changes
     * nothing. */
    [OUTBOX_RESOLVE] = "UPDATE mail_outbox SET request = NULL, subject = $2, text_body = $3, "
                       "html_body = $4 WHERE id = $1::bigint AND request IS NOT NULL",
    [OUTBOX_DISCARD] = "DELETE FROM mail_outbox WHERE id = $1::bigint AND "
                       "request IS NOT NULL",
    /* Sent mail keeps recipient and subject, not the bodies: they hold live links. */
    [OUTBOX_SENT] = "UPDATE mail_outbox SET sent_at = $2::bigint, last_error = NULL, "
                    "text_body = '', html_body = '' WHERE id = $1::bigint",
    [OUTBOX_RETRY] = "UPDATE mail_outbox SET next_attempt_at = $2::bigint, last_error = $3 "
                     "WHERE id = $1::bigint",
    [OUTBOX_PENDING] = "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL",
};

const struct sql_statements postgres_outbox = {SQL_OUTBOX, "outbox", OUTBOX_STATEMENTS, sql};
