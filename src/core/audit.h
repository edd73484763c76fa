/* The audit log: one row per security event (SPEC §8), never containing a secret. */
#ifndef GH_AUDIT_H
#define GH_AUDIT_H

#include "../app.h"
#include "../records.h"

/* Writes an audit row through st (inside the caller's transaction when one is open). */
GH_MUST_CHECK gh_status audit_write(struct store *st, const char *event, const char *user_id,
                                    const char *email, const struct client_info *client,
                                    const char *detail);

/* Writes an audit row on its own; a failure is logged, never passed on, because the event it
 * records has already happened. */
void audit_record(struct app *app, const char *event, const char *user_id, const char *email,
                  const struct client_info *client, const char *detail);

#endif
