/* Accounts: registration, confirmation, login and logout. */
#include "account.h"

#include <sodium.h>
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
#include "login_pad.h"
#include "mailer.h"
#include "onetime.h"
#include "password.h"
#include "ratelimit.h"
#include "session.h"

/* A registration checked and normalised. */
struct new_account {
    char email[EMAIL_MAX + 1];
    char first_name[NAME_MAX_BYTES + 1];
    char last_name[NAME_MAX_BYTES + 1];
    char password_hash[PASSWORD_HASH_MAX];
};

/* Checks a registration (email, names, password policy, and with
 * GATEHOUSE_REGISTER_REVEALS_EXISTING the email not taken) into a: GH_OK or the GH_ERR_*
 * naming what is wrong. */
static gh_status check_registration(struct app *app, const struct registration *r,
                                    struct new_account *a)
{
    struct user existing;
    gh_status st = email_normalize(r->email, a->email);
    if (st != GH_OK)
        return st;
    if (name_normalize(r->first_name, a->first_name) != GH_OK)
        return GH_ERR_INVALID_FIRST_NAME;
    if (name_normalize(r->last_name, a->last_name) != GH_OK)
        return GH_ERR_INVALID_LAST_NAME;
    st = password_check_policy(r->password, a->email, app->cfg->password_min_length);
    if (st != GH_OK || !app->cfg->register_reveals_existing)
        return st;
    st = app->store->user_by_email(app->store, a->email, &existing);
    if (st == GH_OK)
        return GH_ERR_EMAIL_TAKEN;
    return st == GH_NOT_FOUND ? GH_OK : st;
}

struct register_tx {
    struct app *app;
    const struct new_account *a;
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
    strcpy(u.email, tx->a->email);
    strcpy(u.first_name, tx->a->first_name);
    strcpy(u.last_name, tx->a->last_name);
    strcpy(u.password_hash, tx->a->password_hash);
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

/* Checks and hashes a registration, then creates the account (roles NULL: self-registration,
 * confirmed by mail). */
static gh_status create_account(struct app *app, const struct registration *r,
                                const struct account_roles *roles, const struct client_info *client,
                                char *user_id)
{
    struct new_account a = {0};
    gh_status st = check_registration(app, r, &a);
    if (st == GH_OK)
        st = password_hash_for(app->cfg, r->password, a.password_hash);
    if (st == GH_OK) {
        struct register_tx tx = {app, &a, client, roles, user_id};
        st = store_transaction(app->store, register_in_tx, &tx);
    }
    sodium_memzero(&a, sizeof a);
    return st;
}

gh_status account_register(struct app *app, const struct registration *r,
                           const struct client_info *client)
{
    gh_status st = create_account(app, r, NULL, client, NULL);
    if (st == GH_OK)
        outbox_notify(app->outbox);
    return st;
}

gh_status account_create(struct app *app, const struct registration *r,
                         const struct account_roles *roles, char user_id[UUID_LEN + 1])
{
    struct client_info operator= {.ip = "local", .user_agent = "gatehouse user create"};
    return create_account(app, r, roles, &operator, user_id);
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

/* Stores a new hash of password when the stored one has other Argon2 parameters than now.
 * Best effort: the login succeeds either way. The new hash replaces the stored one only while
 * that is still the hash just verified: a password change that lands while this hashes wins,
 * instead of being overwritten with a hash of the old password. */
static void upgrade_hash(struct app *app, const struct user *u, const char *password)
{
    char hash[PASSWORD_HASH_MAX];
    if (!password_needs_rehash(app->cfg, u->password_hash))
        return;
    gh_status st = password_hash_for(app->cfg, password, hash);
    if (st == GH_OK)
        st = app->store->user_replace_password_hash(app->store, u->id, u->password_hash, hash);
    if (st == GH_CONFLICT)
        log_msg(LOG_INFO, "password changed during the hash upgrade; kept the new password");
    else if (st != GH_OK)
        log_msg(LOG_WARN, "password hash upgrade failed; kept the old hash");
    sodium_memzero(hash, sizeof hash);
}

gh_status account_check_password(struct app *app, const struct login_input *in,
                                 const struct client_info *client, struct user *user,
                                 int *retry_after)
{
    struct rate_charge charge = {0};
    char email[EMAIL_MAX + 1];
    gh_status st = GH_OK;
    int64_t started = time_mono_us();
    memset(user, 0, sizeof *user);
    /* A malformed address cannot belong to an account: it is answered like every other failed
     * login, not as an error. */
    if (email_normalize(in->email, email) != GH_OK)
        email[0] = '\0';
    /* Count first, verify second: of many concurrent guesses only the limit get verified. */
    if (email[0] && (st = ratelimit_charge_attempt(app, email, NULL, in->device_cookie, client,
                                                   &charge, retry_after)) != GH_OK)
        goto out;
    st = email[0] ? app->store->user_by_email(app->store, email, user) : GH_NOT_FOUND;
    if (st != GH_OK && st != GH_NOT_FOUND)
        goto refund;
    bool user_found = st == GH_OK;
    /* An unknown address, and an account without a password (made by a provider login), is
     * verified against a dummy hash: every failure costs the same time. */
    bool has_password = user_found && user->password_hash[0];
    const char *why = NULL; /* a stored hash that cannot be verified: the account needs a reset */
    st = password_verify_stored(app->cfg, in->password,
                                has_password ? user->password_hash : app->dummy_hash, &why);
    /* A hash refused without work still costs what a verification costs. */
    if (why && password_verify(in->password, app->dummy_hash) == GH_OK)
        log_msg(LOG_ERROR, "the dummy hash matched a password");
    /* A check of a hash of another scheme or cost feeds the timing pad. */
    if (has_password && password_needs_rehash(app->cfg, user->password_hash))
        login_pad_observe(app, time_mono_us() - started);
    if (st == GH_OK && !has_password)
        st = GH_ERR_INVALID_CREDENTIALS;
    if (st != GH_OK && st != GH_ERR_INVALID_CREDENTIALS)
        goto refund;
    if (!user_found || st != GH_OK) {
        char detail[96];
        snprintf(detail, sizeof detail, "password reset required: %s", why ? why : "");
        /* The failure was counted before the verification: nothing more to count. */
        metrics_login(false);
        audit_record(app, "login_failure", user_found ? user->id : NULL, email[0] ? email : NULL,
                     client,
                     !user_found ? "unknown email"
                     : why       ? detail
                                 : "wrong password");
        st = GH_ERR_INVALID_CREDENTIALS;
        goto out;
    }
    ratelimit_charge_succeeded(app, &charge);
    if (!user->is_active) {
        metrics_login(false);
        audit_record(app, "login_failure", user->id, email, client, "not confirmed");
        st = GH_ERR_INACTIVE;
        goto out;
    }
    upgrade_hash(app, user, in->password);
    metrics_login(true);
    audit_record(app, "login_success", user->id, email, client, NULL);
    goto out;
refund:
    /* The password was never judged: the attempt does not count. */
    ratelimit_charge_refund(app, &charge);
out:
    return st;
}

gh_status account_login(struct app *app, const struct login_input *in,
                        const struct client_info *client, struct login_result *out)
{
    memset(out, 0, sizeof *out);
    gh_status st = account_check_password(app, in, client, &out->user, &out->retry_after);
    if (st != GH_OK)
        return st;
    /* Rotation: the session this browser had is revoked before a new one is made. */
    if (in->old_session_token && (st = session_revoke(app, in->old_session_token)) != GH_OK &&
        st != GH_ERR_NOT_AUTHENTICATED)
        return st;
    return session_create(app, out->user.id, client, out->session_token);
}

gh_status account_logout(struct app *app, const struct session *s, const struct user *u,
                         const struct client_info *client)
{
    gh_status st = app->kv->session_delete(app->kv, s->token_hash);
    if (st == GH_NOT_FOUND) /* revoked meanwhile by another request */
        st = GH_ERR_NOT_AUTHENTICATED;
    if (st == GH_OK) /* token families this session started end with it */
        st = app->store->refresh_revoke_session(app->store, s->token_hash, time_now());
    if (st == GH_OK)
        audit_record(app, "logout", u->id, u->email, client, NULL);
    return st;
}
