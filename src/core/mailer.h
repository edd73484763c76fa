/* The mails accounts receive: rendered from a template and queued in the outbox inside the
 * caller's transaction, so a mail exists exactly when the change that caused it commits. */
#ifndef GH_MAILER_H
#define GH_MAILER_H

#include "../app.h"
#include "model.h"

struct store;

/* Issues a one-time token of purpose for u (valid ttl seconds) and queues template with the
 * link {PUBLIC_URL}{path}?token=T and the expiry in words. */
GH_MUST_CHECK gh_status mailer_queue_token_link(struct app *app, struct store *st,
                                                const struct user *u, const char *purpose, int ttl,
                                                const char *template_name, const char *path);

/* Queues template for u with link as its only link. */
GH_MUST_CHECK gh_status mailer_queue(struct app *app, struct store *st, const struct user *u,
                                     const char *template_name, const char *link);

#endif
