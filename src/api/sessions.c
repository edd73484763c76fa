/* GET /users/sessions/ and DELETE /users/sessions/{id}/: the caller's own sessions. */
#include <stdlib.h>
#include <string.h>

#include "../core/session.h"
#include "../util/timeutil.h"
#include "api.h"

void api_sessions_list(struct request *req)
{
    size_t count = 0;
    struct session *list = calloc(SESSION_LIST_MAX, sizeof *list);
    json_t *items = json_array();
    gh_status st = (list && items) ? session_list(req->app, req->principal.user.id, list,
                                                  SESSION_LIST_MAX, &count)
                                   : GH_NO_MEMORY;
    for (size_t i = 0; st == GH_OK && i < count; i++) {
        const struct session *s = &list[i];
        char created[RFC3339_LEN + 1], seen[RFC3339_LEN + 1];
        time_format_rfc3339(s->created_at, created);
        time_format_rfc3339(s->last_seen_at, seen);
        json_t *item =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", s->id, "created_at", created,
                      "last_seen_at", seen, "user_agent", s->user_agent, "ip", s->ip, "current",
                      !strcmp(s->token_hash, req->principal.session.token_hash));
        if (!item || json_array_append_new(items, item))
            st = GH_NO_MEMORY;
    }
    free(list);
    if (st != GH_OK) {
        json_decref(items);
        reply_error(req, st, NULL);
        return;
    }
    reply_json(req, 200, json_pack("{s:o}", "sessions", items));
}

void api_sessions_delete(struct request *req)
{
    gh_status st = session_revoke_by_id(req->app, &req->principal.user, req->param, &req->client);
    if (st != GH_OK) {
        if (st == GH_NOT_FOUND)
            reply_error_text(req, st, NULL, "You have no session with this id.");
        else
            reply_error(req, st, NULL);
        return;
    }
    reply_message(req, 200, "The session has been revoked.");
}
