/* The mail outbox on SQLite: rendered mails, and mail requests (recipient and kind, empty
 * bodies) that the outbox worker turns into a mail or drops. A claim leases the oldest due row
 * by moving its next attempt to the lease's end.
 * This file is the group's SQL text only: members/outbox.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[OUTBOX_STATEMENTS] = {
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

const struct sql_statements sqlite_outbox = {SQL_OUTBOX, "outbox", OUTBOX_STATEMENTS, sql};
