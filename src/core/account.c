/* Accounts: registration, confirmation, login and logout. */
#include "account.h"

#include <stdio.h>
#include <string.h>

#include "../kv/kv.h"
#include "../mail/mail.h"
#include "../store/store.h"
#include "../util/log.h"
#include "../util/metrics.h"
#include "../util/timeutil.h"
#include "audit.h"
#include "device.h"
#include "email.h"
#include "mailer.h"
#include "onetime.h"
#include "password.h"
#include "ratelimit.h"
#include "session.h"

gh_status account_register_check(struct app *app, struct registration *r)
{
    struct user existing;
    gh_status st = email_normalize(r->email, r->email_norm);
    if (st != GH_OK)
        return st;
    st = name_normalize(r->first_name, r->first_name_norm);
    if (st != GH_OK)
        return GH_ERR_INVALID_FIRST_NAME;
    st = name_normalize(r->last_name, r->last_name_norm);
    if (st != GH_OK)
        return GH_ERR_INVALID_LAST_NAME;
    st = password_check_policy(r->password, r->email_norm, app->cfg->password_min_length);
    if (st != GH_OK || !app->cfg->register_reveals_existing)
        return st;
    st = app->store->user_by_email(app->store, r->email_norm, &existing);
    if (st == GH_OK)
        return GH_ERR_EMAIL_TAKEN;
    return st == GH_NOT_FOUND ? GH_OK : st;
}

struct register_tx {
    struct app *app;
    const struct registration *r;
    const char *password_hash;
    const struct client_info *client;
    const struct account_roles *roles; /* NULL: self-registration, confirmed by mail */
    char *user_id;                     /* out: the new user's id */
};

static gh_status register_in_tx(struct store *st, void *arg)
{
    struct register_tx *tx = arg;
    struct user u = {0};
    secret_uuid_new(u.id);
    secret_uuid_new(u.profile.id);
    strcpy(u.email, tx->r->email_norm);
    strcpy(u.first_name, tx->r->first_name_norm);
    strcpy(u.last_name, tx->r->last_name_norm);
    if (str_copy(u.password_hash, sizeof u.password_hash, tx->password_hash) != GH_OK)
        return GH_INTERNAL;
    u.date_joined = time_now();
    if (tx->roles) {
        u.is_active = true;
        u.is_staff = tx->roles->staff || tx->roles->superuser;
        u.is_superuser = tx->roles->superuser;
    }
    gh_status status = st->user_insert(st, &u);
    if (status == GH_CONFLICT && !tx->roles && !tx->app->cfg->register_reveals_existing) {
        /* The address has an account. Its owner is told by mail (the outbox worker decides
         * what); the caller answers as for a new account. */
        status = mailer_request(st, u.email, MAIL_REQUEST_REGISTERED);
        if (status == GH_OK)
            status = audit_write(st, "register_existing", NULL, u.email, tx->client,
                                 "address already registered");
        return status;
    }
    if (status == GH_CONFLICT)
        return GH_ERR_EMAIL_TAKEN;
    if (status == GH_OK && !tx->roles)
        status = mailer_request(st, u.email, MAIL_REQUEST_CONFIRM);
    if (status == GH_OK)
        status = audit_write(st, tx->roles ? "user_created" : "register", u.id, u.email, tx->client,
                             tx->roles && u.is_superuser ? "superuser" : NULL);
    if (status == GH_OK && tx->user_id)
        strcpy(tx->user_id, u.id);
    return status;
}

gh_status account_create(struct app *app, struct registration *r, const struct account_roles *roles,
                         char user_id[UUID_LEN + 1])
{
    char hash[PASSWORD_HASH_MAX];
    gh_status st = account_register_check(app, r);
    if (st != GH_OK)
        return st;
    st = password_hash(r->password, app->cfg->argon2_iterations, app->cfg->argon2_memory_kib, hash,
                       sizeof hash);
    if (st != GH_OK)
        return st;
    struct client_info operator= {.ip = "local", .user_agent = "gatehouse user create"};
    struct register_tx tx = {app, r, hash, &operator, roles, user_id};
    return store_transaction(app->store, register_in_tx, &tx);
}

gh_status account_register_finish(struct app *app, const struct registration *r,
                                  const char *password_hash, const struct client_info *client)
{
    struct register_tx tx = {app, r, password_hash, client, NULL, NULL};
    gh_status st = store_transaction(app->store, register_in_tx, &tx);
    if (st == GH_OK)
        outbox_notify(app->outbox);
    return st;
}

struct confirm_tx {
    const char *token;
    const struct client_info *client;
};

static gh_status confirm_in_tx(struct store *st, void *arg)
{
    struct confirm_tx *tx = arg;
    char user_id[UUID_LEN + 1];
    gh_status status = onetime_consume(st, tx->token, PURPOSE_CONFIRM, user_id);
    if (status == GH_OK)
        status = st->user_activate(st, user_id);
    if (status == GH_NOT_FOUND)
        status = GH_ERR_INVALID_TOKEN;
    if (status == GH_OK)
        status = audit_write(st, "confirm", user_id, NULL, tx->client, NULL);
    return status;
}

gh_status account_confirm(struct app *app, const char *token, const struct client_info *client)
{
    struct confirm_tx tx = {token, client};
    return store_transaction(app->store, confirm_in_tx, &tx);
}

gh_status account_regenerate_confirmation(struct app *app, const char *email,
                                          const struct client_info *client, int *retry_after)
{
    char norm[EMAIL_MAX + 1];
    gh_status st = email_normalize(email, norm);
    if (st != GH_OK)
        return st;
    if ((st = ratelimit_hit(app, RATE_EMAIL, norm, retry_after)) != GH_OK)
        return st;
    /* The same request and audit row for every address; whether a mail goes out is decided
     * by the outbox worker, out of the request's timing. */
    return mailer_request_mail(app, norm, MAIL_REQUEST_CONFIRM, "confirmation_request", client);
}

gh_status account_login_prepare(struct app *app, const char *email, const char *device_cookie,
                                struct login_attempt *a, char hash[PASSWORD_HASH_MAX],
                                const struct client_info *client, int *retry_after)
{
    char nonce[DEVICE_NONCE_LEN + 1];
    memset(a, 0, sizeof *a);
    /* A malformed address cannot belong to an account: treat it as unknown, not as an error,
     * so it is answered like every other failed login. */
    if (email_normalize(email, a->email) != GH_OK)
        a->email[0] = '\0';
    /* Counted before the password is verified, so concurrent guesses cannot all slip under
     * the limit; a right password takes the count back. A browser that logged in to this
     * account before is counted on its own. */
    if (a->email[0]) {
        bool known_device = device_cookie_verify(app, a->email, device_cookie, time_now(), nonce);
        gh_status st = ratelimit_charge_password_check(
            app, a->email, client, known_device ? nonce : NULL, &a->charge, retry_after);
        if (st == GH_ERR_RATE_LIMITED)
            audit_record(app, "rate_limited", NULL, a->email, client, a->charge.refused_by);
        if (st != GH_OK)
            return st;
    }
    gh_status st =
        a->email[0] ? app->store->user_by_email(app->store, a->email, &a->user) : GH_NOT_FOUND;
    if (st != GH_OK && st != GH_NOT_FOUND) {
        ratelimit_charge_refund(app, &a->charge);
        return st;
    }
    a->user_found = st == GH_OK;
    const char *src = a->user_found ? a->user.password_hash : app->dummy_hash;
    return str_copy(hash, PASSWORD_HASH_MAX, src);
}

void account_login_abandon(struct app *app, const struct login_attempt *a)
{
    ratelimit_charge_refund(app, &a->charge);
}

gh_status account_login_complete(struct app *app, struct login_attempt *a, gh_status verified,
                                 const char *old_token, const struct client_info *client,
                                 char token[TOKEN_LEN + 1])
{
    if (verified != GH_OK && verified != GH_ERR_INVALID_CREDENTIALS) {
        account_login_abandon(app, a);
        return verified;
    }
    if (!a->user_found || verified != GH_OK || !a->user.is_active)
        metrics_login(false);
    if (!a->user_found || verified != GH_OK) {
        /* The failure was counted before the verification: nothing more to count. */
        audit_record(app, "login_failure", a->user_found ? a->user.id : NULL,
                     a->email[0] ? a->email : NULL, client,
                     a->user_found ? "wrong password" : "unknown email");
        return GH_ERR_INVALID_CREDENTIALS;
    }
    ratelimit_charge_succeeded(app, &a->charge);
    if (!a->user.is_active) {
        audit_record(app, "login_failure", a->user.id, a->email, client, "not confirmed");
        return GH_ERR_INACTIVE;
    }
    if (old_token) {
        gh_status st = session_revoke(app, old_token);
        if (st != GH_OK && st != GH_ERR_NOT_AUTHENTICATED)
            return st;
    }
    gh_status st = session_create(app, a->user.id, client, token);
    if (st != GH_OK)
        return st;
    metrics_login(true);
    audit_record(app, "login_success", a->user.id, a->email, client, NULL);
    return GH_OK;
}

gh_status account_logout(struct app *app, const struct session *s, const struct user *u,
                         const struct client_info *client)
{
    gh_status st = app->kv->session_delete(app->kv, s->token_hash);
    if (st == GH_NOT_FOUND) /* revoked meanwhile by another request */
        st = GH_ERR_NOT_AUTHENTICATED;
    if (st == GH_OK)
        audit_record(app, "logout", u->id, u->email, client, NULL);
    return st;
}

gh_status account_upgrade_hash(struct app *app, const char *user_id, const char *password_hash)
{
    return app->store->user_set_password(app->store, user_id, password_hash);
}
