/* The mails accounts receive. A notice is rendered from a template and queued in the outbox
 * inside the caller's transaction, so it exists exactly when the change that caused it commits.
 * A mail that an unauthenticated request asks for (a confirmation or reset link, the "someone
 * registered with your address" notice) is only *requested* there: one outbox row naming the
 * address and what to send, the same whatever the address, so the request does the same work
 * whether or not an account exists. The outbox worker resolves it (mailer_resolve_request). */
#ifndef GH_MAILER_H
#define GH_MAILER_H

#include "../app.h"
#include "../records.h"

struct store;

/* Queues template for u with link as its only link. */
GH_MUST_CHECK gh_status mailer_queue(struct app *app, struct store *st, const struct user *u,
                                     const char *template_name, const char *link);

/* Records a request for the mail `request` (MAIL_REQUEST_*) to address (normalised) inside the
 * caller's transaction. */
GH_MUST_CHECK gh_status mailer_request(struct store *st, const char *address, const char *request);

/* Records a request as above and its audit row (event, with the address and no user: the same
 * row whatever the address) in one transaction, then wakes the outbox worker. */
GH_MUST_CHECK gh_status mailer_request_mail(struct app *app, const char *address,
                                            const char *request, const char *event,
                                            const struct client_info *client);

/* The outbox worker's resolver (see outbox_start; ctx is the struct app): looks up the account
 * at m->recipient and, when it qualifies for m->request, issues the one-time token, renders the
 * mail into m and turns the row into that mail (GH_OK: send m). Otherwise deletes the row and
 * answers GH_NOT_FOUND: nothing to send. A confirmation goes to an unconfirmed account, a reset
 * link to an active one, and a registration with an existing address tells an active owner
 * that someone tried (with links to log in and to reset the password) or sends an unconfirmed
 * one a new confirmation link, at most GATEHOUSE_RATE_EMAIL_MAX per window. */
GH_MUST_CHECK gh_status mailer_resolve_request(void *ctx, struct mail *m);

#endif
