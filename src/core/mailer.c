/* Account mails queued in the caller's transaction. */
#include "mailer.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../mail/mail.h"
#include "../store/store.h"
#include "../util/timeutil.h"
#include "onetime.h"

/* Writes a duration as people say it: "30 minutes", "1 hour", "45 seconds". */
static void format_duration(int seconds, char *out, size_t cap)
{
    if (seconds % 3600 == 0)
        snprintf(out, cap, "%d hour%s", seconds / 3600, seconds == 3600 ? "" : "s");
    else if (seconds % 60 == 0)
        snprintf(out, cap, "%d minute%s", seconds / 60, seconds == 60 ? "" : "s");
    else
        snprintf(out, cap, "%d second%s", seconds, seconds == 1 ? "" : "s");
}

static gh_status queue_rendered(struct app *app, struct store *st, const struct user *u,
                                const char *template_name, const struct mail_var *vars,
                                size_t nvars)
{
    struct mail m = {0};
    strcpy(m.recipient, u->email);
    gh_status status = mail_render(app->cfg, template_name, vars, nvars, &m);
    if (status == GH_OK)
        status = st->outbox_insert(st, &m, time_now());
    mail_clear(&m);
    return status;
}

gh_status mailer_queue_token_link(struct app *app, struct store *st, const struct user *u,
                                  const char *purpose, int ttl, const char *template_name,
                                  const char *path)
{
    char token[TOKEN_LEN + 1], link[CONFIG_URL_MAX + 128], expires[32];
    gh_status status = onetime_issue(st, u->id, purpose, ttl, token);
    if (status != GH_OK)
        return status;
    snprintf(link, sizeof link, "%s%s?token=%s", app->cfg->public_url, path, token);
    format_duration(ttl, expires, sizeof expires);
    const struct mail_var vars[] = {
        {"link", link}, {"expires", expires}, {"first_name", u->first_name}, {"email", u->email}};
    status = queue_rendered(app, st, u, template_name, vars, sizeof vars / sizeof vars[0]);
    sodium_memzero(token, sizeof token);
    sodium_memzero(link, sizeof link);
    return status;
}

gh_status mailer_queue(struct app *app, struct store *st, const struct user *u,
                       const char *template_name, const char *link)
{
    const struct mail_var vars[] = {
        {"link", link}, {"first_name", u->first_name}, {"email", u->email}};
    return queue_rendered(app, st, u, template_name, vars, sizeof vars / sizeof vars[0]);
}
