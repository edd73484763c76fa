/* Access and refresh tokens. */
#include "tokens.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"
#include "audit.h"
#include "keys.h"
#include "secrets.h"

#define REFRESH_KEY_NAME "refresh_successor_key"
#define CLOCK_LEEWAY     30 /* seconds another instance's clock may be ahead or behind */

void token_pair_clear(struct token_pair *p)
{
    if (!p)
        return;
    if (p->access) {
        sodium_memzero(p->access, strlen(p->access));
        free(p->access);
    }
    sodium_memzero(p, sizeof *p);
}

gh_status tokens_open(struct app *app)
{
    return server_key_load(app->store, REFRESH_KEY_NAME, app->refresh_key);
}

/* ---- access tokens ---- */

/* Signs claims (stolen) with the current key into out->access. */
static gh_status sign_access(struct app *app, json_t *claims, struct token_pair *out)
{
    const struct jwt_key *key = NULL;
    gh_status st = claims ? keys_signer(app, &key) : GH_NO_MEMORY;
    if (st == GH_OK)
        st = jwt_sign(key, claims, &out->access);
    if (st == GH_OK)
        out->expires_in = app->cfg->access_token_ttl;
    json_decref(claims);
    return st;
}

/* The registered claims every access token has. New reference, NULL when out of memory. */
static json_t *base_claims(struct app *app, const char *sub, int64_t now)
{
    char jti[UUID_LEN + 1];
    secret_uuid_new(jti);
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "iss", app->cfg->issuer, "sub",
                     sub, "aud", app->cfg->token_audience, "iat", (json_int_t)now, "nbf",
                     (json_int_t)now, "exp", (json_int_t)(now + app->cfg->access_token_ttl), "jti",
                     jti, "token_type", "access");
}

/* An access token of user u. */
static gh_status sign_user_access(struct app *app, const struct user *u, struct token_pair *out)
{
    json_t *claims = base_claims(app, u->id, time_now());
    if (claims && (json_object_set_new(claims, "email", json_string(u->email)) != 0 ||
                   json_object_set_new(claims, "is_staff", json_boolean(u->is_staff)) != 0)) {
        json_decref(claims);
        claims = NULL;
    }
    return sign_access(app, claims, out);
}

gh_status tokens_issue_client(struct app *app, const struct oauth_client *c, struct token_pair *out)
{
    memset(out, 0, sizeof *out);
    json_t *claims = base_claims(app, c->id, time_now());
    if (claims && json_object_set_new(claims, "client_id", json_string(c->id)) != 0) {
        json_decref(claims);
        claims = NULL;
    }
    return sign_access(app, claims, out);
}

/* True when the aud claim is the configured audience or a list holding it. */
static bool audience_matches(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return !strcmp(json_string_value(aud), want);
    size_t i;
    const json_t *v;
    json_array_foreach(aud, i,
                       v) if (json_is_string(v) && !strcmp(json_string_value(v), want)) return true;
    return false;
}

/* Copies the string claim name into out (cap bytes); false when absent, not a string or long. */
static bool copy_claim(const json_t *claims, const char *name, char *out, size_t cap)
{
    const char *v = json_string_value(json_object_get(claims, name));
    return v && str_copy(out, cap, v) == GH_OK;
}

/* Access tokens verified lately, per thread: a Bearer client sends the same token on every
 * request for its five minutes, and its signature need not be checked each time. Found by the
 * token's thread tag (util/secret.h), kept until the token's exp; no lock, since no thread
 * shares its cache. */
#define VERIFIED_CACHE 64
struct verified_token {
    unsigned char tag[THREAD_TAG_LEN];
    struct access_claims claims;
    bool used;
};
static _Thread_local struct verified_token verified[VERIFIED_CACHE];

static struct verified_token *cache_slot(const unsigned char tag[THREAD_TAG_LEN])
{
    return &verified[secret_thread_tag_slot(tag, VERIFIED_CACHE)];
}

/* The claims of a token verified before and not yet expired, or false. */
static bool cached_claims(const char *token, unsigned char tag[THREAD_TAG_LEN], int64_t now,
                          struct access_claims *out)
{
    secret_thread_tag(token, strlen(token), tag);
    const struct verified_token *v = cache_slot(tag);
    if (!v->used || sodium_memcmp(v->tag, tag, sizeof v->tag) != 0 ||
        v->claims.exp <= now - CLOCK_LEEWAY)
        return false;
    *out = v->claims;
    return true;
}

static gh_status verify_signed_access(struct app *app, const char *token,
                                      struct access_claims *out);

gh_status tokens_verify_access(struct app *app, const char *token, struct access_claims *out)
{
    unsigned char tag[THREAD_TAG_LEN];
    if (!token || strnlen(token, JWT_TOKEN_MAX + 1) > JWT_TOKEN_MAX) {
        memset(out, 0, sizeof *out);
        return GH_ERR_INVALID_TOKEN;
    }
    if (cached_claims(token, tag, time_now(), out))
        return GH_OK;
    gh_status st = verify_signed_access(app, token, out);
    if (st == GH_OK) {
        struct verified_token *v = cache_slot(tag);
        memcpy(v->tag, tag, sizeof v->tag);
        v->claims = *out;
        v->used = true;
    }
    return st;
}

/* Verifies an access token's signature and claims (the work the cache saves). */
static gh_status verify_signed_access(struct app *app, const char *token, struct access_claims *out)
{
    json_t *claims = NULL;
    gh_status st = jwt_verify(token, (enum jwt_alg)app->cfg->jwt_alg, keys_lookup, app, &claims);
    memset(out, 0, sizeof *out);
    if (st != GH_OK)
        return GH_ERR_INVALID_TOKEN;
    st = GH_ERR_INVALID_TOKEN;
    int64_t now = time_now();
    const json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf"),
                 *iat = json_object_get(claims, "iat");
    const char *type = json_string_value(json_object_get(claims, "token_type"));
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (!type || strcmp(type, "access") || !iss || strcmp(iss, app->cfg->issuer) ||
        !audience_matches(json_object_get(claims, "aud"), app->cfg->token_audience) ||
        !json_is_integer(exp) || json_integer_value(exp) <= now - CLOCK_LEEWAY ||
        (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) > now + CLOCK_LEEWAY)) ||
        !json_is_integer(iat) || !copy_claim(claims, "sub", out->sub, sizeof out->sub) ||
        !copy_claim(claims, "jti", out->jti, sizeof out->jti))
        goto out;
    out->for_client = copy_claim(claims, "client_id", out->client_id, sizeof out->client_id);
    out->iat = json_integer_value(iat);
    out->exp = json_integer_value(exp);
    st = GH_OK;
out:
    json_decref(claims);
    return st;
}

gh_status tokens_authenticate(struct app *app, const char *token, struct user *u,
                              char jti[UUID_LEN + 1])
{
    struct access_claims claims;
    gh_status st = tokens_verify_access(app, token, &claims);
    if (st != GH_OK || claims.for_client)
        return GH_ERR_NOT_AUTHENTICATED;
    st = app->store->user_by_id(app->store, claims.sub, u);
    if (st == GH_NOT_FOUND || (st == GH_OK && !u->is_active))
        return GH_ERR_NOT_AUTHENTICATED;
    if (st == GH_OK)
        strcpy(jti, claims.jti);
    return st;
}

/* ---- refresh tokens ---- */

/* True when client_id may use the family's tokens: its own, or a family no client owns (made by
 * /api/token/). */
static bool usable_by(const struct refresh_token *t, const char *client_id)
{
    return !t->client_id[0] || !strcmp(t->client_id, client_id);
}

/* The successor of a refresh token: the same for every instance and every retry. */
static void successor_of(struct app *app, const char *token, char out[TOKEN_LEN + 1])
{
    static const char domain[] = "gatehouse refresh successor 1";
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, app->refresh_key, sizeof app->refresh_key);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)domain, sizeof domain);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)token, strlen(token));
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2base64(out, TOKEN_LEN + 1, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(mac, sizeof mac);
}

/* Stores the refresh token value as a member of family (a new family when parent is NULL). */
static gh_status store_refresh(struct app *app, const char *value,
                               const struct refresh_token *parent, const char *user_id,
                               const char *client_id, const char *session_hash)
{
    struct refresh_token t = {0};
    int64_t now = time_now();
    secret_token_hash(value, t.token_hash);
    if (parent)
        strcpy(t.family_id, parent->family_id);
    else
        secret_uuid_new(t.family_id);
    strcpy(t.user_id, user_id);
    if (str_copy(t.client_id, sizeof t.client_id, client_id) != GH_OK ||
        str_copy(t.session_hash, sizeof t.session_hash, session_hash) != GH_OK)
        return GH_INTERNAL;
    t.created_at = now;
    t.expires_at = now + app->cfg->refresh_token_ttl;
    return app->store->refresh_insert(app->store, &t);
}

gh_status tokens_issue(struct app *app, const struct user *u, const char *client_id,
                       const char *session_hash, const struct client_info *client,
                       struct token_pair *out)
{
    memset(out, 0, sizeof *out);
    secret_token_new(out->refresh);
    gh_status st = store_refresh(app, out->refresh, NULL, u->id, client_id, session_hash);
    if (st == GH_OK)
        st = sign_user_access(app, u, out);
    if (st == GH_OK)
        audit_record(app, "token_issued", u->id, u->email, client, client_id[0] ? client_id : NULL);
    else
        token_pair_clear(out);
    return st;
}

/* Reuse of a rotated token outside the grace window: the token was copied, so the whole
 * family ends, the thief's branch and the owner's alike. */
static gh_status revoke_stolen(struct app *app, const struct refresh_token *t,
                               const struct client_info *client)
{
    if (app->store->refresh_revoke_family(app->store, t->family_id, time_now()) != GH_OK)
        log_msg(LOG_WARN, "a reused refresh token's family could not be revoked");
    audit_record(app, "refresh_token_reuse", t->user_id, NULL, client, "family revoked");
    return GH_ERR_INVALID_GRANT;
}

gh_status tokens_refresh(struct app *app, const char *refresh, const char *client_id,
                         const struct client_info *client, struct token_pair *out)
{
    struct refresh_token t;
    struct user u;
    char hash[TOKEN_HASH_LEN + 1];
    int64_t now = time_now();
    memset(out, 0, sizeof *out);
    if (!refresh || !secret_token_is_wellformed(refresh))
        return GH_ERR_INVALID_GRANT;
    secret_token_hash(refresh, hash);
    gh_status st = app->store->refresh_rotate(app->store, hash, now, &t);
    if (st == GH_NOT_FOUND)
        return GH_ERR_INVALID_GRANT;
    if (st != GH_OK && st != GH_CONFLICT)
        return st;
    if (!usable_by(&t, client_id))
        return GH_ERR_INVALID_GRANT; /* another client's token is not this client's to use */
    if (st == GH_CONFLICT && now - t.rotated_at > app->cfg->refresh_grace)
        return revoke_stolen(app, &t, client);
    /* First use, or a retry within the grace window: the same successor either way (storing
     * it again changes nothing), so concurrent refreshes never make two live branches. */
    if ((st = app->store->user_by_id(app->store, t.user_id, &u)) != GH_OK || !u.is_active) {
        if (st == GH_OK || st == GH_NOT_FOUND) {
            if (app->store->refresh_revoke_family(app->store, t.family_id, now) != GH_OK)
                log_msg(LOG_WARN, "an inactive user's token family could not be revoked");
            st = GH_ERR_INVALID_GRANT;
        }
        return st;
    }
    successor_of(app, refresh, out->refresh);
    st = store_refresh(app, out->refresh, &t, t.user_id, t.client_id, t.session_hash);
    if (st == GH_OK)
        st = sign_user_access(app, &u, out);
    if (st != GH_OK)
        token_pair_clear(out);
    return st;
}

gh_status tokens_revoke(struct app *app, const char *refresh, const char *client_id,
                        const struct client_info *client)
{
    struct refresh_token t;
    char hash[TOKEN_HASH_LEN + 1];
    if (!refresh || !secret_token_is_wellformed(refresh))
        return GH_OK;
    secret_token_hash(refresh, hash);
    gh_status st = app->store->refresh_get(app->store, hash, &t);
    if (st == GH_NOT_FOUND || (st == GH_OK && !usable_by(&t, client_id)))
        return GH_OK;
    if (st == GH_OK)
        st = app->store->refresh_revoke_family(app->store, t.family_id, time_now());
    if (st == GH_OK)
        audit_record(app, "token_revoked", t.user_id, NULL, client, NULL);
    return st;
}

gh_status tokens_introspect(struct app *app, const char *token, const char *client_id, bool *active,
                            struct access_claims *out)
{
    struct refresh_token t;
    char hash[TOKEN_HASH_LEN + 1];
    int64_t now = time_now();
    *active = false;
    memset(out, 0, sizeof *out);
    if (token && secret_token_is_wellformed(token)) {
        secret_token_hash(token, hash);
        gh_status st = app->store->refresh_get(app->store, hash, &t);
        if (st == GH_NOT_FOUND)
            return GH_OK;
        if (st != GH_OK)
            return st;
        /* A client sees only its own refresh tokens. */
        *active = !t.rotated_at && !t.revoked_at && t.expires_at > now && usable_by(&t, client_id);
        if (*active) {
            strcpy(out->sub, t.user_id);
            strcpy(out->client_id, t.client_id);
            out->iat = t.created_at;
            out->exp = t.expires_at;
        }
        return GH_OK;
    }
    *active = tokens_verify_access(app, token, out) == GH_OK;
    if (!*active)
        memset(out, 0, sizeof *out);
    return GH_OK;
}
