/* Account mails: rendered and queued in the caller's transaction, or requested there and
 * resolved by the outbox worker. */
#include "mailer.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../mail/mail.h"
#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"
#include "audit.h"
#include "onetime.h"
#include "ratelimit.h"

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

/* Renders template_name for u into m (recipient, subject, bodies). */
static gh_status render_for(struct app *app, const struct user *u, const char *template_name,
                            const struct mail_var *vars, size_t nvars, struct mail *m)
{
    mail_clear(m);
    strcpy(m->recipient, u->email);
    return mail_render(app->cfg, template_name, vars, nvars, m);
}

/* Issues a one-time token of purpose for u (valid ttl seconds) and renders template_name with
 * the link {PUBLIC_URL}{path}?token=T and the expiry in words into m. */
static gh_status render_token_link(struct app *app, struct store *st, const struct user *u,
                                   const char *purpose, int ttl, const char *template_name,
                                   const char *path, struct mail *m)
{
    char token[TOKEN_LEN + 1], link[CONFIG_URL_MAX + 128], expires[32];
    gh_status status = onetime_issue(st, u->id, purpose, ttl, token);
    if (status != GH_OK)
        return status;
    snprintf(link, sizeof link, "%s%s?token=%s", app->cfg->public_url, path, token);
    format_duration(ttl, expires, sizeof expires);
    const struct mail_var vars[] = {
        {"link", link}, {"expires", expires}, {"first_name", u->first_name}, {"email", u->email}};
    status = render_for(app, u, template_name, vars, sizeof vars / sizeof vars[0], m);
    sodium_memzero(token, sizeof token);
    sodium_memzero(link, sizeof link);
    return status;
}

gh_status mailer_queue(struct app *app, struct store *st, const struct user *u,
                       const char *template_name, const char *link)
{
    struct mail m = {0};
    const struct mail_var vars[] = {
        {"link", link}, {"first_name", u->first_name}, {"email", u->email}};
    gh_status status = render_for(app, u, template_name, vars, sizeof vars / sizeof vars[0], &m);
    if (status == GH_OK)
        status = st->outbox_insert(st, &m, time_now());
    mail_clear(&m);
    return status;
}

gh_status mailer_request(struct store *st, const char *address, const char *request)
{
    return st->outbox_request(st, address, request, time_now());
}

struct request_tx {
    const char *address;
    const char *request;
    const char *event;
    const struct client_info *client;
};

static gh_status request_in_tx(struct store *st, void *arg)
{
    struct request_tx *tx = arg;
    gh_status status = mailer_request(st, tx->address, tx->request);
    if (status == GH_OK)
        status = audit_write(st, tx->event, NULL, tx->address, tx->client, NULL);
    return status;
}

gh_status mailer_request_mail(struct app *app, const char *address, const char *request,
                              const char *event, const struct client_info *client)
{
    struct request_tx tx = {address, request, event, client};
    gh_status st = store_transaction(app->store, request_in_tx, &tx);
    if (st == GH_OK)
        outbox_notify(app->outbox);
    return st;
}

/* The mail telling the owner of an address that someone tried to register with it. */
static gh_status render_account_exists(struct app *app, const struct user *u, struct mail *m)
{
    char login[CONFIG_URL_MAX + 32], reset[CONFIG_URL_MAX + 48];
    snprintf(login, sizeof login, "%s/auth/login", app->cfg->frontend_url);
    snprintf(reset, sizeof reset, "%s/auth/password/request-change", app->cfg->frontend_url);
    const struct mail_var vars[] = {{"login_link", login},
                                    {"reset_link", reset},
                                    {"first_name", u->first_name},
                                    {"email", u->email}};
    return render_for(app, u, "account_exists", vars, sizeof vars / sizeof vars[0], m);
}

struct resolve_tx {
    struct app *app;
    struct mail *m;
    bool over_limit; /* a "registered" request past the address's mail limit */
    bool send;       /* out: m now holds a mail to send */
};

/* Looks the account at the request's address up and decides: a mail rendered into the row, or
 * the row deleted. */
static gh_status resolve_in_tx(struct store *st, void *arg)
{
    struct resolve_tx *tx = arg;
    struct app *app = tx->app;
    struct mail *m = tx->m;
    const struct config *cfg = app->cfg;
    struct user u;
    gh_status status = tx->over_limit ? GH_NOT_FOUND : st->user_by_email(st, m->recipient, &u);
    bool found = status == GH_OK;
    if (status != GH_OK && status != GH_NOT_FOUND)
        return status;
    status = GH_NOT_FOUND; /* nothing to send unless a rule below says otherwise */
    if (found && !strcmp(m->request, MAIL_REQUEST_CONFIRM) && !u.is_active)
        status = render_token_link(app, st, &u, PURPOSE_CONFIRM, cfg->confirm_token_ttl, "confirm",
                                   "/users/register/confirm/", m);
    else if (found && !strcmp(m->request, MAIL_REQUEST_RESET) && u.is_active)
        status = render_token_link(app, st, &u, PURPOSE_RESET, cfg->reset_token_ttl, "reset",
                                   "/users/password-change/confirm/change-password/", m);
    else if (found && !strcmp(m->request, MAIL_REQUEST_REGISTERED))
        /* An unconfirmed account's owner needs the confirmation link more than a login link. */
        status = u.is_active
                     ? render_account_exists(app, &u, m)
                     : render_token_link(app, st, &u, PURPOSE_CONFIRM, cfg->confirm_token_ttl,
                                         "confirm", "/users/register/confirm/", m);
    if (status == GH_NOT_FOUND)
        return st->outbox_discard(st, m->id);
    if (status == GH_OK)
        status = st->outbox_resolve(st, m);
    tx->send = status == GH_OK;
    return status;
}

gh_status mailer_resolve_request(void *ctx, struct mail *m)
{
    struct app *app = ctx;
    struct resolve_tx tx = {.app = app, .m = m};
    int retry_after = 0;
    /* Counted here, not in the request, so that registering an existing address does the same
     * work as registering a new one; past the limit the owner is simply not mailed again. */
    if (!strcmp(m->request, MAIL_REQUEST_REGISTERED))
        tx.over_limit =
            ratelimit_hit(app, RATE_EMAIL, m->recipient, &retry_after) == GH_ERR_RATE_LIMITED;
    gh_status st = store_transaction(app->store, resolve_in_tx, &tx);
    if (st == GH_OK && !tx.send)
        st = GH_NOT_FOUND;
    return st;
}
