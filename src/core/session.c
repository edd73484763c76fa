/* Server-side sessions. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "../kv/kv.h"
#include "../util/timeutil.h"
#include "audit.h"

/* Seconds between two updates of a session's last_seen_at. */
#define SESSION_TOUCH_INTERVAL 60

gh_status session_create(struct app *app, const char *user_id, const struct client_info *client,
                         char token[TOKEN_LEN + 1])
{
    struct session s = {0};
    int64_t now = time_now();
    secret_token_new(token);
    secret_token_hash(token, s.token_hash);
    secret_uuid_new(s.id);
    strcpy(s.user_id, user_id);
    s.created_at = now;
    s.last_seen_at = now;
    s.expires_at = now + app->cfg->session_ttl;
    if (client) {
        strcpy(s.ip, client->ip);
        strcpy(s.user_agent, client->user_agent);
    }
    return app->kv->session_insert(app->kv, &s);
}

gh_status session_authenticate(struct app *app, const char *token, struct session *s,
                               struct user *u)
{
    char hash[TOKEN_HASH_LEN + 1];
    if (!token || !secret_token_is_wellformed(token))
        return GH_ERR_NOT_AUTHENTICATED;
    secret_token_hash(token, hash);
    int64_t now = time_now();
    gh_status st = app->kv->session_lookup(app->kv, hash, now, s, u);
    /* A deactivated account's sessions stop working with it (as its access tokens do). */
    if (st == GH_NOT_FOUND || (st == GH_OK && !u->is_active))
        return GH_ERR_NOT_AUTHENTICATED;
    if (st != GH_OK)
        return st;
    int idle = app->cfg->session_idle_timeout;
    if (idle > 0 && s->last_seen_at + idle < now)
        return GH_ERR_NOT_AUTHENTICATED;
    /* At most one write a minute per session, so the hot path stays read-only; more often
     * only with an idle timeout so short that a minute would end sessions in use. */
    int interval =
        (idle > 0 && idle < 2 * SESSION_TOUCH_INTERVAL) ? idle / 2 : SESSION_TOUCH_INTERVAL;
    if (now - s->last_seen_at >= interval && app->kv->session_touch(app->kv, hash, now) == GH_OK)
        s->last_seen_at = now;
    return GH_OK;
}

gh_status session_revoke(struct app *app, const char *token)
{
    char hash[TOKEN_HASH_LEN + 1];
    if (!token || !secret_token_is_wellformed(token))
        return GH_ERR_NOT_AUTHENTICATED;
    secret_token_hash(token, hash);
    gh_status st = app->kv->session_delete(app->kv, hash);
    return st == GH_NOT_FOUND ? GH_ERR_NOT_AUTHENTICATED : st;
}

gh_status session_list(struct app *app, const char *user_id, struct session *out, size_t cap,
                       size_t *count)
{
    return app->kv->session_list(app->kv, user_id, time_now(), out, cap, count);
}

gh_status session_revoke_by_id(struct app *app, const struct user *u, const char *session_id,
                               const struct client_info *client)
{
    /* Only a live session of u, named exactly by its id, can be revoked: found in the same
     * list the user sees, then deleted by its hash, alike on every backend. */
    struct session *list = calloc(SESSION_LIST_MAX, sizeof *list);
    size_t count = 0;
    gh_status st = list ? session_list(app, u->id, list, SESSION_LIST_MAX, &count) : GH_NO_MEMORY;
    const struct session *found = NULL;
    for (size_t i = 0; st == GH_OK && i < count && !found; i++)
        if (!strcmp(list[i].id, session_id))
            found = &list[i];
    if (st == GH_OK)
        st = found ? app->kv->session_delete(app->kv, found->token_hash) : GH_NOT_FOUND;
    if (st == GH_OK)
        audit_record(app, "session_revoked", u->id, u->email, client, NULL);
    free(list);
    return st;
}
