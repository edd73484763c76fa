/* GET /health-check/ (liveness) and GET /ready (readiness: the database accepts a write, the kv
 * backend answers, and the local mail and media directories accept files). */
#include <stdio.h>
#include <string.h>

#include "../kv/kv.h"
#include "../mail/mail.h"
#include "../media/media.h"
#include "../store/store.h"
#include "../util/timeutil.h"
#include "api.h"

void api_health_check(struct request *req)
{
    reply_message(req, 200, "ok");
}

/* The state of one part in the /ready answer. */
enum part_state { PART_OK, PART_UNAVAILABLE, PART_NOT_CHECKED };

static const char *part_word(enum part_state s)
{
    return s == PART_OK ? "ok" : s == PART_UNAVAILABLE ? "unavailable" : "not_checked";
}

static gh_status ready_write_tx(struct store *st, void *ctx)
{
    return st->ready_write(st, *(const int64_t *)ctx);
}

/* A committed write, not a read: a full disk or a read-only database still answers SELECT 1. */
static enum part_state database_state(struct app *app)
{
    int64_t now = time_now();
    return store_transaction(app->store, ready_write_tx, &now) == GH_OK ? PART_OK
                                                                        : PART_UNAVAILABLE;
}

static enum part_state mail_state(struct app *app)
{
    bool checked = false;
    gh_status st = outbox_ready(app->outbox, &checked);
    if (!checked)
        return PART_NOT_CHECKED;
    return st == GH_OK ? PART_OK : PART_UNAVAILABLE;
}

static enum part_state media_state(struct app *app)
{
    if (!app->media || !app->media->ready)
        return PART_NOT_CHECKED;
    return app->media->ready(app->media) == GH_OK ? PART_OK : PART_UNAVAILABLE;
}

/* Answers 200 when every part works now, else 503 with each part "ok", "unavailable" or
 * "not_checked" and an error sentence naming the failing parts. */
void api_ready(struct request *req)
{
    struct app *app = req->app;
    const char *names[] = {"database", "kv", "mail", "media"};
    enum part_state states[] = {
        database_state(app),
        app->kv->ping(app->kv) == GH_OK ? PART_OK : PART_UNAVAILABLE,
        mail_state(app),
        media_state(app),
    };
    char failing[64] = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (states[i] != PART_UNAVAILABLE)
            continue;
        size_t len = strlen(failing);
        snprintf(failing + len, sizeof failing - len, "%s%s", len ? ", " : "", names[i]);
    }
    bool ready = failing[0] == '\0';
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "status", ready ? "ready" : "unavailable",
                             names[0], part_word(states[0]), names[1], part_word(states[1]),
                             names[2], part_word(states[2]), names[3], part_word(states[3]));
    if (body && !ready) {
        char text[128];
        snprintf(text, sizeof text, "This server is not ready because these parts fail: %s.",
                 failing);
        json_object_set_new(body, "error", json_string(text));
    }
    reply_json(req, ready ? 200 : 503, body);
}
