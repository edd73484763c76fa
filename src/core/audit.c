/* Audit log rows. */
#include "audit.h"

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"

gh_status audit_write(struct store *st, const char *event, const char *user_id, const char *email,
                      const struct client_info *client, const char *detail)
{
    struct audit_event e = {
        .event = event, .user_id = user_id, .email = email, .client = client, .detail = detail};
    return st->audit_insert(st, &e, time_now());
}

void audit_record(struct app *app, const char *event, const char *user_id, const char *email,
                  const struct client_info *client, const char *detail)
{
    if (audit_write(app->store, event, user_id, email, client, detail) != GH_OK)
        log_msg(LOG_ERROR, "audit row for %s could not be written", event);
}
