/* Password reset by email and password change while logged in. */
#include "password_change.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../mail/mail.h"
#include "../kv/kv.h"
#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"
#include "audit.h"
#include "email.h"
#include "mailer.h"
#include "onetime.h"
#include "password.h"
#include "ratelimit.h"

/* The page where a person who did not change their password starts a reset. */
static void reset_page_link(struct app *app, char *out, size_t cap)
{
    snprintf(out, cap, "%s/auth/password/request-change", app->cfg->frontend_url);
}

gh_status reset_request(struct app *app, const char *email, const struct client_info *client,
                        int *retry_after)
{
    char norm[EMAIL_MAX + 1];
    gh_status st = email_normalize(email, norm);
    if (st != GH_OK)
        return st;
    if ((st = ratelimit_hit(app, RATE_EMAIL, norm, retry_after)) != GH_OK)
        return st;
    /* The same request and audit row for every address; the outbox worker mails a link only
     * to an active account. */
    return mailer_request_mail(app, norm, MAIL_REQUEST_RESET, "password_reset_request", client);
}

struct exchange_tx {
    struct app *app;
    const char *reset_token;
    char *change_token;
};

static gh_status exchange_in_tx(struct store *st, void *arg)
{
    struct exchange_tx *tx = arg;
    char user_id[UUID_LEN + 1];
    gh_status status = onetime_consume(st, tx->reset_token, PURPOSE_RESET, user_id);
    if (status == GH_OK)
        status = onetime_issue(st, user_id, PURPOSE_PASSWORD_CHANGE,
                               tx->app->cfg->password_change_token_ttl, tx->change_token);
    return status;
}

gh_status reset_exchange_token(struct app *app, const char *reset_token,
                               const struct client_info *client, char change_token[TOKEN_LEN + 1])
{
    (void)client;
    struct exchange_tx tx = {app, reset_token, change_token};
    return store_transaction(app->store, exchange_in_tx, &tx);
}

/* The user of a live password-change token. */
static gh_status change_token_user(struct app *app, const char *token, struct user *u)
{
    char hash[TOKEN_HASH_LEN + 1], user_id[UUID_LEN + 1];
    if (!token || !secret_token_is_wellformed(token))
        return GH_ERR_INVALID_TOKEN;
    secret_token_hash(token, hash);
    gh_status st =
        app->store->onetime_peek(app->store, hash, PURPOSE_PASSWORD_CHANGE, time_now(), user_id);
    if (st == GH_OK)
        st = app->store->user_by_id(app->store, user_id, u);
    return st == GH_NOT_FOUND ? GH_ERR_INVALID_TOKEN : st;
}

/* Deletes the user's sessions but keep. Called before the password is replaced (so no session
 * made with the old password survives a failure here) and again after the commit (for a login
 * that slipped in between). */
static gh_status revoke_sessions(struct app *app, const char *user_id, const char *keep)
{
    return app->kv->session_delete_all(app->kv, user_id, keep);
}

/* Stores the new hash, revokes refresh tokens and reset tokens and queues the notice: the common
 * end of a reset and a change, inside the caller's transaction. Sessions are revoked around it. */
static gh_status replace_password(struct app *app, struct store *st, const struct user *u,
                                  const char *password_hash, const char *event,
                                  const struct client_info *client)
{
    char link[CONFIG_URL_MAX + 64];
    int64_t now = time_now();
    gh_status status = st->user_set_password(st, u->id, password_hash);
    if (status == GH_OK) /* every token family ends with the old password */
        status = st->refresh_revoke_user(st, u->id, now);
    if (status == GH_OK)
        status = st->onetime_revoke_all(st, u->id, PURPOSE_RESET, now);
    if (status == GH_OK)
        status = st->onetime_revoke_all(st, u->id, PURPOSE_PASSWORD_CHANGE, now);
    if (status == GH_OK) {
        reset_page_link(app, link, sizeof link);
        status = mailer_queue(app, st, u, "password_changed", link);
    }
    if (status == GH_OK)
        status = audit_write(st, event, u->id, u->email, client, NULL);
    return status;
}

struct reset_finish_tx {
    struct app *app;
    const char *token;
    const char *hash;
    const struct client_info *client;
};

static gh_status reset_finish_in_tx(struct store *st, void *arg)
{
    struct reset_finish_tx *tx = arg;
    char user_id[UUID_LEN + 1];
    struct user u;
    gh_status status = onetime_consume(st, tx->token, PURPOSE_PASSWORD_CHANGE, user_id);
    if (status == GH_OK)
        status = st->user_by_id(st, user_id, &u);
    if (status == GH_OK)
        status = replace_password(tx->app, st, &u, tx->hash, "password_reset", tx->client);
    return status;
}

gh_status password_reset(struct app *app, const char *change_token, const char *password,
                         const struct client_info *client)
{
    char hash[PASSWORD_HASH_MAX];
    struct user u;
    struct reset_finish_tx tx = {app, change_token, hash, client};
    /* The token is only looked at here: it is consumed in the transaction that stores the new
     * password, so of two concurrent posts exactly one wins and a weak password burns nothing. */
    gh_status st = change_token_user(app, change_token, &u);
    if (st == GH_OK)
        st = password_check_policy(password, u.email, app->cfg->password_min_length);
    if (st == GH_OK)
        st = password_hash_for(app->cfg, password, hash);
    if (st == GH_OK)
        st = revoke_sessions(app, u.id, NULL);
    if (st == GH_OK)
        st = store_transaction(app->store, reset_finish_in_tx, &tx);
    if (st == GH_OK) {
        if (revoke_sessions(app, u.id, NULL) != GH_OK)
            log_msg(LOG_WARN, "sessions could not be revoked again after a password reset");
        outbox_notify(app->outbox);
    }
    sodium_memzero(hash, sizeof hash);
    return st;
}

struct change_tx {
    struct app *app;
    const struct user *u;
    const char *hash;
    const struct client_info *client;
};

static gh_status change_in_tx(struct store *st, void *arg)
{
    struct change_tx *tx = arg;
    return replace_password(tx->app, st, tx->u, tx->hash, "password_change", tx->client);
}

gh_status password_change(struct app *app, const struct principal *p,
                          const struct password_change_input *in, const struct client_info *client,
                          int *retry_after)
{
    const struct user *u = &p->user;
    struct rate_charge charge = {0};
    char hash[PASSWORD_HASH_MAX];
    struct change_tx tx = {app, u, hash, client};
    gh_status st = password_check_policy(in->new_password, u->email, app->cfg->password_min_length);
    if (st != GH_OK)
        return st;
    /* Count first, verify second, as a login does. */
    if ((st = ratelimit_charge_attempt(app, u->email, u->id, in->device_cookie, client, &charge,
                                       retry_after)) != GH_OK)
        return st;
    const char *why = NULL;
    st = password_verify_stored(app->cfg, in->current_password, u->password_hash, &why);
    if (st == GH_ERR_INVALID_CREDENTIALS) {
        audit_record(app, "password_change_failure", u->id, u->email, client,
                     why ? "password reset required" : "wrong password");
        return GH_ERR_WRONG_PASSWORD;
    }
    if (st != GH_OK) {
        ratelimit_charge_refund(app, &charge); /* never judged: does not count */
        return st;
    }
    ratelimit_charge_succeeded(app, &charge);
    /* Every other session ends: before the new hash is stored, so none made with the old
     * password survives a failure, and again after the commit, for a login in between. */
    const char *keep = p->session.token_hash[0] ? p->session.token_hash : NULL;
    st = password_hash_for(app->cfg, in->new_password, hash);
    if (st == GH_OK)
        st = revoke_sessions(app, u->id, keep);
    if (st == GH_OK)
        st = store_transaction(app->store, change_in_tx, &tx);
    if (st == GH_OK) {
        if (revoke_sessions(app, u->id, keep) != GH_OK)
            log_msg(LOG_WARN, "sessions could not be revoked again after a password change");
        outbox_notify(app->outbox);
    }
    sodium_memzero(hash, sizeof hash);
    return st;
}
