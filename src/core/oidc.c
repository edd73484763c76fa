/* OpenID Connect login: discovery, the provider's keys, the authorization code flow, and the
 * rules that tie a provider's account to a gatehouse account. */
#include "oidc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../kv/kv.h"
#include "../store/store.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../util/metrics.h"
#include "../util/timeutil.h"
#include "../util/utf8.h"
#include "audit.h"
#include "email.h"
#include "jwt.h"
#include "session.h"

#define FETCH_MAX_BYTES    (256 * 1024) /* largest document or token answer read */
#define CONNECT_TIMEOUT    5            /* seconds to connect, at most (GATEHOUSE_OIDC_TIMEOUT) */
#define DISCOVERY_LIFETIME 3600 /* seconds a discovery document is trusted before refetching */
#define JWKS_REFETCH_MIN   60   /* seconds between two fetches of the JWKS for an unknown kid */
#define PROVIDER_KEYS_MAX  16
#define CLAIM_LEEWAY       60 /* seconds of clock difference allowed with the provider */
#define IDENTITIES_MAX     CONFIG_MAX_PROVIDERS
#define FETCH_BEARER_MAX   4096 /* longest access token sent to the UserInfo endpoint */

/* The endpoints of a provider's discovery document. */
struct endpoints {
    char authorization[CONFIG_URL_MAX];
    char token[CONFIG_URL_MAX];
    char jwks[CONFIG_URL_MAX];
    char userinfo[CONFIG_URL_MAX]; /* empty: the provider has none */
    bool secret_post; /* the provider takes the client secret in the body, not HTTP Basic */
};

/* What gatehouse knows of one provider at run time. The lock is never held during an outbound
 * request: a provider that hangs holds up its own logins only, each for its own timeout. */
struct provider_state {
    const struct oidc_provider_config *cfg;
    long timeout;          /* seconds for an outbound request (GATEHOUSE_OIDC_TIMEOUT) */
    pthread_mutex_t lock;  /* everything below */
    int64_t discovered_at; /* 0 = not yet */
    struct endpoints ep;
    struct jwt_key keys[PROVIDER_KEYS_MAX];
    size_t key_count;
    int64_t jwks_fetched_at; /* the last fetch (or attempt) for an unknown kid */
};

struct oidc {
    struct provider_state providers[CONFIG_MAX_PROVIDERS];
    size_t count;
};

/* ---- outbound HTTP ---- */

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    return buf_append(b, data, size * n) == GH_OK ? size * n : 0;
}

/* How an outbound request authenticates: HTTP Basic with user and password, or a Bearer token
 * (checked to be a b64token by the caller), or neither (all NULL). */
struct fetch_auth {
    const char *user;
    const char *password;
    const char *bearer;
};

/* GET url, or POST form (application/x-www-form-urlencoded) to it, authenticated as auth says
 * (may be NULL), within timeout seconds; the body into out (at most FETCH_MAX_BYTES). GH_OK only
 * for a 2xx answer. */
static gh_status fetch(const char *url, const char *form, const struct fetch_auth *auth,
                       long timeout, struct buf *out)
{
    gh_status st = GH_UNAVAILABLE;
    long status = 0;
    char authorization[FETCH_BEARER_MAX + 32];
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    CURL *curl = curl_easy_init();
    out->limit = FETCH_MAX_BYTES;
    if (auth && auth->bearer) {
        snprintf(authorization, sizeof authorization, "Authorization: Bearer %s", auth->bearer);
        struct curl_slist *more = headers ? curl_slist_append(headers, authorization) : NULL;
        sodium_memzero(authorization, sizeof authorization);
        if (!more)
            goto out;
        headers = more;
    }
    if (!curl || !headers)
        goto out;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                     timeout < CONNECT_TIMEOUT ? timeout : CONNECT_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    if (form)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    if (auth && auth->user) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, auth->user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, auth->password);
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status < 300)
        st = GH_OK;
    else
        log_msg(LOG_WARN, "%s answered %ld (%s)", url, status, curl_easy_strerror(rc));
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return st;
}

/* fetch from provider p into a JSON object (new reference), NULL on any failure. */
static json_t *fetch_json(const struct provider_state *p, const char *url, const char *form,
                          const struct fetch_auth *auth)
{
    struct buf body = {0};
    json_t *v = NULL;
    if (fetch(url, form, auth, p->timeout, &body) == GH_OK && body.data)
        v = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, NULL);
    buf_free(&body);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* Copies the string member name of obj into out; false when absent or too long. */
static bool copy_member(const json_t *obj, const char *name, char *out, size_t cap)
{
    const char *v = json_string_value(json_object_get(obj, name));
    return v && str_copy(out, cap, v) == GH_OK;
}

/* ---- discovery and keys ---- */

/* The provider's endpoints into *out: the discovery document read before, or read now when there
 * is none or it is old. Its issuer must be the configured one (OpenID Connect Discovery §4.3). */
static gh_status discover(struct provider_state *p, int64_t now, struct endpoints *out)
{
    char url[CONFIG_URL_MAX + 64];
    struct endpoints ep = {0};
    json_t *doc = NULL;
    gh_status st = GH_OK;
    pthread_mutex_lock(&p->lock);
    bool fresh = p->discovered_at && now - p->discovered_at < DISCOVERY_LIFETIME;
    if (fresh)
        *out = p->ep;
    pthread_mutex_unlock(&p->lock);
    if (fresh)
        goto out;
    st = GH_UNAVAILABLE;
    snprintf(url, sizeof url, "%s/.well-known/openid-configuration", p->cfg->issuer);
    doc = fetch_json(p, url, NULL, NULL);
    const char *issuer = doc ? json_string_value(json_object_get(doc, "issuer")) : NULL;
    if (!doc || !issuer || strcmp(issuer, p->cfg->issuer) ||
        !copy_member(doc, "authorization_endpoint", ep.authorization, sizeof ep.authorization) ||
        !copy_member(doc, "token_endpoint", ep.token, sizeof ep.token) ||
        !copy_member(doc, "jwks_uri", ep.jwks, sizeof ep.jwks)) {
        log_msg(LOG_WARN, "provider %s: no usable discovery document", p->cfg->name);
        goto out;
    }
    /* optional: needed when the ID token leaves the scope's claims to UserInfo */
    if (!copy_member(doc, "userinfo_endpoint", ep.userinfo, sizeof ep.userinfo))
        ep.userinfo[0] = '\0';
    /* HTTP Basic unless the provider takes only client_secret_post */
    const json_t *methods = json_object_get(doc, "token_endpoint_auth_methods_supported");
    bool basic = !methods, post = false;
    size_t i;
    const json_t *m;
    json_array_foreach(methods, i, m)
    {
        basic =
            basic || (json_is_string(m) && !strcmp(json_string_value(m), "client_secret_basic"));
        post = post || (json_is_string(m) && !strcmp(json_string_value(m), "client_secret_post"));
    }
    ep.secret_post = !basic && post;
    pthread_mutex_lock(&p->lock);
    p->ep = ep;
    p->discovered_at = now;
    pthread_mutex_unlock(&p->lock);
    *out = ep;
    st = GH_OK;
out:
    json_decref(doc);
    return st;
}

/* Fetches the JWKS at uri and makes it the provider's key list (keys it cannot use are
 * skipped). */
static gh_status fetch_keys(struct provider_state *p, const char *uri)
{
    struct jwt_key keys[PROVIDER_KEYS_MAX];
    size_t count = 0, i;
    const json_t *jwk;
    json_t *doc = fetch_json(p, uri, NULL, NULL);
    if (!doc)
        return GH_UNAVAILABLE;
    json_array_foreach(json_object_get(doc, "keys"), i, jwk)
    {
        if (count < PROVIDER_KEYS_MAX && jwt_key_from_jwk(jwk, &keys[count]) == GH_OK)
            count++;
    }
    json_decref(doc);
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->key_count; i++)
        jwt_key_free(&p->keys[i]);
    memcpy(p->keys, keys, count * sizeof keys[0]);
    p->key_count = count;
    pthread_mutex_unlock(&p->lock);
    return GH_OK;
}

/* What the key lookup of ID-token verification sees: the provider (its lock held) and whether a
 * kid was asked for that its key list does not have. */
struct key_lookup {
    struct provider_state *p;
    bool unknown_kid;
};

static const struct jwt_key *lookup_provider_key(void *ctx, const char *kid)
{
    struct key_lookup *l = ctx;
    for (size_t i = 0; i < l->p->key_count; i++)
        if (!strcmp(l->p->keys[i].kid, kid))
            return &l->p->keys[i];
    l->unknown_kid = true;
    return NULL;
}

/* Checks the ID token's signature against the provider's keys; its claims on GH_OK (new
 * reference). A kid the key list does not have (the first login, or the provider rotated its
 * keys) fetches the JWKS again, at most once every JWKS_REFETCH_MIN seconds, so a forged kid
 * cannot make gatehouse hammer the provider. */
static gh_status verify_signature(struct provider_state *p, const char *jwks_uri,
                                  const char *id_token, json_t **claims)
{
    static const enum jwt_alg allowed[] = {JWT_RS256, JWT_ES256};
    struct key_lookup l = {p, false};
    int64_t now = time_now();
    pthread_mutex_lock(&p->lock);
    gh_status st = jwt_verify_allowed(id_token, allowed, 2, lookup_provider_key, &l, claims);
    bool refetch = st != GH_OK && l.unknown_kid &&
                   (!p->jwks_fetched_at || now - p->jwks_fetched_at >= JWKS_REFETCH_MIN);
    if (refetch)
        p->jwks_fetched_at = now;
    pthread_mutex_unlock(&p->lock);
    if (!refetch || fetch_keys(p, jwks_uri) != GH_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    st = jwt_verify_allowed(id_token, allowed, 2, lookup_provider_key, &l, claims);
    pthread_mutex_unlock(&p->lock);
    return st;
}

static struct provider_state *provider_named(struct app *app, const char *name)
{
    struct oidc *o = app->oidc;
    for (size_t i = 0; o && i < o->count; i++)
        if (!strcmp(o->providers[i].cfg->name, name))
            return &o->providers[i];
    return NULL;
}

gh_status oidc_open(struct app *app)
{
    struct oidc *o = calloc(1, sizeof *o);
    if (!o)
        return GH_NO_MEMORY;
    for (size_t i = 0; i < app->cfg->provider_count; i++) {
        o->providers[i].cfg = &app->cfg->providers[i];
        o->providers[i].timeout = app->cfg->oidc_timeout;
        pthread_mutex_init(&o->providers[i].lock, NULL);
    }
    o->count = app->cfg->provider_count;
    app->oidc = o;
    return GH_OK;
}

void oidc_close(struct oidc **op)
{
    struct oidc *o = op ? *op : NULL;
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++) {
        for (size_t k = 0; k < o->providers[i].key_count; k++)
            jwt_key_free(&o->providers[i].keys[k]);
        pthread_mutex_destroy(&o->providers[i].lock);
    }
    free(o);
    *op = NULL;
}

/* ---- starting a login ---- */

bool oidc_next_is_safe(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
        strlen(next) >= NEXT_PATH_MAX || !utf8_is_valid(next))
        return false;
    for (const unsigned char *c = (const unsigned char *)next; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '\\')
            return false;
    return true;
}

/* base64url(SHA-256(verifier)): the PKCE S256 challenge (RFC 7636). */
static void pkce_challenge(const char *verifier, char out[TOKEN_LEN + 1])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
    sodium_bin2base64(out, TOKEN_LEN + 1, digest, sizeof digest,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The redirect URI registered at the provider: {PUBLIC_URL}/oauth/{name}/callback/. */
static void redirect_uri(const struct app *app, const char *provider, char *out, size_t cap)
{
    snprintf(out, cap, "%s/oauth/%s/callback/", app->cfg->public_url, provider);
}

/* Appends name=value (value percent-encoded by libcurl) to the query of url. */
static bool append_query(CURLU *url, const char *name, const char *value)
{
    char part[1024];
    if ((size_t)snprintf(part, sizeof part, "%s=%s", name, value) >= sizeof part)
        return false;
    return curl_url_set(url, CURLUPART_QUERY, part, CURLU_APPENDQUERY | CURLU_URLENCODE) ==
           CURLUE_OK;
}

/* Builds the authorization URL of p at endpoint for a login with state, PKCE challenge and
 * nonce. */
static gh_status authorization_url(struct app *app, struct provider_state *p, const char *endpoint,
                                   const char *state, const char *challenge, const char *nonce,
                                   char out[OIDC_LOCATION_MAX])
{
    char redirect[CONFIG_URL_MAX + 64];
    char *text = NULL;
    gh_status st = GH_INTERNAL;
    CURLU *url = curl_url();
    redirect_uri(app, p->cfg->name, redirect, sizeof redirect);
    if (url && curl_url_set(url, CURLUPART_URL, endpoint, 0) == CURLUE_OK &&
        append_query(url, "response_type", "code") &&
        append_query(url, "client_id", p->cfg->client_id) &&
        append_query(url, "redirect_uri", redirect) && append_query(url, "scope", p->cfg->scopes) &&
        append_query(url, "state", state) && append_query(url, "nonce", nonce) &&
        append_query(url, "code_challenge", challenge) &&
        append_query(url, "code_challenge_method", "S256") &&
        curl_url_get(url, CURLUPART_URL, &text, 0) == CURLUE_OK &&
        strlen(text) < OIDC_LOCATION_MAX) {
        strcpy(out, text);
        st = GH_OK;
    }
    curl_free(text);
    curl_url_cleanup(url);
    return st;
}

gh_status oidc_login_start(struct app *app, const char *provider, const char *next,
                           struct oidc_start *out)
{
    struct provider_state *p = provider_named(app, provider);
    char state[TOKEN_LEN + 1], challenge[TOKEN_LEN + 1];
    struct oauth_state s = {0};
    struct endpoints ep;
    int64_t now = time_now();
    if (!p)
        return GH_NOT_FOUND;
    gh_status st = discover(p, now, &ep);
    if (st != GH_OK)
        return st;
    secret_token_new(state);
    secret_token_new(out->binding);
    secret_token_new(s.code_verifier);
    secret_token_new(s.nonce);
    secret_token_hash(state, s.state_hash);
    secret_token_hash(out->binding, s.binding_hash);
    strcpy(s.provider, provider);
    strcpy(s.next, oidc_next_is_safe(next) ? next : "/");
    s.created_at = now;
    s.expires_at = now + OIDC_STATE_LIFETIME;
    pkce_challenge(s.code_verifier, challenge);
    st = authorization_url(app, p, ep.authorization, state, challenge, s.nonce, out->location);
    if (st == GH_OK)
        st = app->store->state_insert(app->store, &s);
    sodium_memzero(&s, sizeof s);
    sodium_memzero(state, sizeof state);
    return st;
}

/* ---- the callback ---- */

/* Exchanges the code at the token endpoint for the provider's answer (a JSON object with
 * id_token). */
static gh_status exchange_code(struct app *app, struct provider_state *p,
                               const struct endpoints *ep, const char *code,
                               const struct oauth_state *s, json_t **answer)
{
    char redirect[CONFIG_URL_MAX + 64];
    struct buf form = {0};
    gh_status st = GH_NO_MEMORY;
    char *e_code = curl_easy_escape(NULL, code, 0);
    char *e_redirect = NULL, *e_id = curl_easy_escape(NULL, p->cfg->client_id, 0);
    char *e_secret = curl_easy_escape(NULL, p->cfg->client_secret, 0);
    redirect_uri(app, p->cfg->name, redirect, sizeof redirect);
    e_redirect = curl_easy_escape(NULL, redirect, 0);
    if (!e_code || !e_redirect || !e_id || !e_secret ||
        buf_printf(&form, "grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s",
                   e_code, e_redirect, s->code_verifier) != GH_OK)
        goto out;
    /* A public client, or one that sends its secret in the body, names itself in the body. */
    bool basic = p->cfg->client_secret[0] && !ep->secret_post;
    if (!basic && buf_printf(&form, "&client_id=%s", e_id) != GH_OK)
        goto out;
    if (p->cfg->client_secret[0] && ep->secret_post &&
        buf_printf(&form, "&client_secret=%s", e_secret) != GH_OK)
        goto out;
    /* HTTP Basic takes the form-encoded id and secret (RFC 6749 §2.3.1) */
    struct fetch_auth auth = {.user = e_id, .password = e_secret};
    *answer = fetch_json(p, ep->token, form.data, basic ? &auth : NULL);
    st = *answer ? GH_OK : GH_UNAVAILABLE;
out:
    buf_free(&form);
    curl_free(e_code);
    curl_free(e_redirect);
    curl_free(e_id);
    if (e_secret) {
        sodium_memzero(e_secret, strlen(e_secret));
        curl_free(e_secret);
    }
    return st;
}

/* True when the aud claim names client_id and, with several audiences, azp is client_id. */
static bool audience_ok(const json_t *claims, const char *client_id)
{
    const json_t *aud = json_object_get(claims, "aud");
    const char *azp = json_string_value(json_object_get(claims, "azp"));
    if (json_is_string(aud))
        return !strcmp(json_string_value(aud), client_id) && (!azp || !strcmp(azp, client_id));
    bool named = false;
    size_t i;
    const json_t *v;
    json_array_foreach(aud, i, v) named =
        named || (json_is_string(v) && !strcmp(json_string_value(v), client_id));
    if (!named)
        return false;
    return json_array_size(aud) == 1 ? (!azp || !strcmp(azp, client_id))
                                     : (azp && !strcmp(azp, client_id));
}

/* Verifies the ID token of p for the stored state s; its claims on GH_OK (new reference). */
static gh_status verify_id_token(struct provider_state *p, const struct endpoints *ep,
                                 const char *id_token, const struct oauth_state *s, json_t **claims)
{
    json_t *c = NULL;
    int64_t now = time_now();
    if (verify_signature(p, ep->jwks, id_token, &c) != GH_OK)
        return GH_ERR_INVALID_TOKEN;
    const json_t *exp = json_object_get(c, "exp"), *iat = json_object_get(c, "iat");
    const char *iss = json_string_value(json_object_get(c, "iss"));
    const char *nonce = json_string_value(json_object_get(c, "nonce"));
    const char *sub = json_string_value(json_object_get(c, "sub"));
    if (!iss || strcmp(iss, p->cfg->issuer) || !audience_ok(c, p->cfg->client_id) ||
        !json_is_integer(exp) || json_integer_value(exp) < now - CLAIM_LEEWAY ||
        !json_is_integer(iat) || json_integer_value(iat) > now + CLAIM_LEEWAY || !nonce ||
        strlen(nonce) != TOKEN_LEN || sodium_memcmp(nonce, s->nonce, TOKEN_LEN) != 0 || !sub ||
        !sub[0] || strlen(sub) >= SUBJECT_MAX) {
        json_decref(c);
        return GH_ERR_INVALID_TOKEN;
    }
    *claims = c;
    return GH_OK;
}

/* True when token may be sent as a Bearer token: an RFC 6750 b64token, short enough. */
static bool is_b64token(const char *token)
{
    size_t n =
        strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
    size_t pad = strspn(token + n, "=");
    return n > 0 && n + pad < FETCH_BEARER_MAX && !token[n + pad];
}

/* With the code flow a provider may keep the claims of the email and profile scopes out of the
 * ID token and hand them out only at its UserInfo endpoint (OpenID Connect Core §5.4); Google
 * puts them in the ID token, oidc-provider and others do not. So when the ID token has no email,
 * they are read there with the access token and added to claims, the ID token's own claims
 * winning. The answer counts only when its sub is the ID token's (§5.3.2). GH_OK also when there
 * is nothing to read (the email check that follows refuses the login then). */
static gh_status add_userinfo(const struct provider_state *p, const struct endpoints *ep,
                              const json_t *answer, json_t *claims)
{
    static const char *const names[] = {"email", "email_verified", "given_name", "family_name",
                                        "name"};
    const char *access = json_string_value(json_object_get(answer, "access_token"));
    const char *type = json_string_value(json_object_get(answer, "token_type"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    if (json_object_get(claims, "email") || !ep->userinfo[0] || !access || !is_b64token(access) ||
        !type || strcasecmp(type, "Bearer"))
        return GH_OK;
    struct fetch_auth auth = {.bearer = access};
    json_t *info = fetch_json(p, ep->userinfo, NULL, &auth);
    const char *info_sub = json_string_value(json_object_get(info, "sub"));
    gh_status st = GH_UNAVAILABLE;
    if (!info)
        goto out;
    st = GH_ERR_INVALID_TOKEN;
    if (!info_sub || !sub || strcmp(info_sub, sub))
        goto out;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *v = json_object_get(info, names[i]);
        if (v && !json_object_get(claims, names[i]))
            json_object_set(claims, names[i], v);
    }
    st = GH_OK;
out:
    json_decref(info);
    return st;
}

/* True when the provider vouches for the email (a JSON true, or the string "true" some send). */
static bool email_verified(const json_t *claims)
{
    const json_t *v = json_object_get(claims, "email_verified");
    return json_is_true(v) || (json_is_string(v) && !strcmp(json_string_value(v), "true"));
}

/* First and last name from the claims, normalised; fallbacks so every account has both. */
static void names_from(const json_t *claims, const char *email, struct user *u)
{
    const char *given = json_string_value(json_object_get(claims, "given_name"));
    const char *family = json_string_value(json_object_get(claims, "family_name"));
    const char *name = json_string_value(json_object_get(claims, "name"));
    char first[NAME_MAX_BYTES + 1] = "", last[NAME_MAX_BYTES + 1] = "";
    if (given)
        snprintf(first, sizeof first, "%s", given);
    if (family)
        snprintf(last, sizeof last, "%s", family);
    if (!first[0] && name) {
        snprintf(first, sizeof first, "%s", name);
        char *space = strchr(first, ' ');
        if (space) {
            *space = '\0';
            if (!last[0])
                snprintf(last, sizeof last, "%s", space + 1);
        }
    }
    if (!first[0])
        snprintf(first, sizeof first, "%.*s", (int)strcspn(email, "@"), email);
    if (name_normalize(first, u->first_name) != GH_OK)
        strcpy(u->first_name, "User");
    if (!last[0] || name_normalize(last, u->last_name) != GH_OK)
        strcpy(u->last_name, "-");
}

struct link_tx {
    const struct oauth_identity *identity;
    struct user *user;    /* in: the account found (NULL: create one); out: the account */
    const json_t *claims; /* for a new account's names */
    const struct client_info *client;
    bool takeover; /* an unconfirmed account is being claimed */
};

/* Links the identity to the account (creating the account when there is none) in one
 * transaction. An unconfirmed account is confirmed and loses its password and the names it was
 * registered with: whoever set them never proved they own the address (account pre-hijacking). */
static gh_status link_in_tx(struct store *st, void *arg)
{
    struct link_tx *tx = arg;
    struct user *u = tx->user;
    gh_status status = GH_OK;
    const char *event = "social_link";
    if (!u->id[0]) {
        memset(u, 0, sizeof *u);
        secret_uuid_new(u->id);
        secret_uuid_new(u->profile.id);
        strcpy(u->email, tx->identity->email);
        names_from(tx->claims, tx->identity->email, u);
        u->is_active = true;
        u->date_joined = time_now();
        status = st->user_insert(st, u);
        event = "social_register";
    } else if (!u->is_active) {
        /* nothing whoever registered it chose stays: the password, and the names */
        names_from(tx->claims, u->email, u);
        status = st->user_activate(st, u->id);
        if (status == GH_OK)
            status = st->user_set_password(st, u->id, "");
        if (status == GH_OK)
            status = st->user_update_profile(st, u);
        if (status == GH_OK)
            status = st->refresh_revoke_user(st, u->id, time_now());
        u->is_active = true;
        u->password_hash[0] = '\0';
        tx->takeover = true;
        event = "social_claim_unconfirmed";
    }
    if (status == GH_OK) {
        struct oauth_identity i = *tx->identity;
        strcpy(i.user_id, u->id);
        status = st->identity_insert(st, &i);
    }
    if (status == GH_OK)
        status = audit_write(st, event, u->id, u->email, tx->client, tx->identity->provider);
    return status;
}

/* Finds the account of the ID token's claims, linking or creating it by the rules. */
static gh_status account_for(struct app *app, const char *provider, const json_t *claims,
                             const struct client_info *client, struct user *u,
                             enum oidc_failure *why)
{
    struct oauth_identity identity = {0}, found;
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    const char *email = json_string_value(json_object_get(claims, "email"));
    gh_status st = app->store->identity_get(app->store, provider, sub, &found);
    if (st == GH_OK)
        return app->store->user_by_id(app->store, found.user_id, u);
    if (st != GH_NOT_FOUND)
        return st;
    /* Only an address the provider vouches for may find or make an account. */
    *why = OIDC_FAILED_EMAIL;
    if (!email || !email_verified(claims) || email_normalize(email, identity.email) != GH_OK)
        return GH_ERR_INVALID_EMAIL;
    strcpy(identity.provider, provider);
    strcpy(identity.subject, sub);
    identity.created_at = time_now();
    memset(u, 0, sizeof *u);
    st = app->store->user_by_email(app->store, identity.email, u);
    if (st != GH_OK && st != GH_NOT_FOUND)
        return st;
    if (st == GH_NOT_FOUND)
        u->id[0] = '\0';
    struct link_tx tx = {&identity, u, claims, client, false};
    *why = OIDC_FAILED_INTERNAL;
    st = store_transaction(app->store, link_in_tx, &tx);
    if (st == GH_OK && tx.takeover) {
        /* whoever registered it may have a session or tokens: they end here */
        if (app->kv->session_delete_all(app->kv, u->id, NULL) != GH_OK)
            log_msg(LOG_WARN, "sessions of a claimed unconfirmed account could not be revoked");
    }
    return st;
}

gh_status oidc_login_finish(struct app *app, const struct oidc_callback *in,
                            const struct client_info *client, struct oidc_login *out,
                            enum oidc_failure *why)
{
    struct oauth_state s = {0};
    char hash[TOKEN_HASH_LEN + 1], binding_hash[TOKEN_HASH_LEN + 1];
    json_t *answer = NULL, *claims = NULL;
    struct endpoints ep;
    struct provider_state *p = provider_named(app, in->provider);
    gh_status st = GH_ERR_INVALID_TOKEN;
    memset(out, 0, sizeof *out);
    *why = OIDC_FAILED_STATE;
    if (!p)
        return GH_NOT_FOUND;
    /* The state must be a live one of this provider, started by this browser. */
    if (!in->state || !secret_token_is_wellformed(in->state) || !in->binding ||
        !secret_token_is_wellformed(in->binding))
        goto out;
    secret_token_hash(in->state, hash);
    secret_token_hash(in->binding, binding_hash);
    if ((st = app->store->state_consume(app->store, hash, time_now(), &s)) != GH_OK) {
        st = st == GH_NOT_FOUND ? GH_ERR_INVALID_TOKEN : st;
        goto out;
    }
    if (strcmp(s.provider, in->provider) ||
        sodium_memcmp(s.binding_hash, binding_hash, TOKEN_HASH_LEN) != 0) {
        st = GH_ERR_INVALID_TOKEN;
        goto out;
    }
    strcpy(out->next, s.next);
    if (in->error) {
        *why = OIDC_FAILED_DENIED;
        audit_record(app, "social_login_failure", NULL, NULL, client, in->provider);
        st = GH_ERR_INVALID_TOKEN;
        goto out;
    }
    *why = OIDC_FAILED_PROVIDER;
    if ((st = discover(p, time_now(), &ep)) != GH_OK || !in->code || !in->code[0] ||
        (st = exchange_code(app, p, &ep, in->code, &s, &answer)) != GH_OK)
        goto out;
    const char *id_token = json_string_value(json_object_get(answer, "id_token"));
    *why = OIDC_FAILED_TOKEN;
    if (!id_token || (st = verify_id_token(p, &ep, id_token, &s, &claims)) != GH_OK ||
        (st = add_userinfo(p, &ep, answer, claims)) != GH_OK) {
        audit_record(app, "social_login_failure", NULL, NULL, client, "id token refused");
        *why = st == GH_UNAVAILABLE ? OIDC_FAILED_PROVIDER : OIDC_FAILED_TOKEN;
        st = GH_ERR_INVALID_TOKEN;
        goto out;
    }
    *why = OIDC_FAILED_INTERNAL;
    if ((st = account_for(app, in->provider, claims, client, &out->user, why)) != GH_OK)
        goto out;
    /* A session exactly as a password login makes one. */
    if (in->old_session_token && (st = session_revoke(app, in->old_session_token)) != GH_OK &&
        st != GH_ERR_NOT_AUTHENTICATED)
        goto out;
    if ((st = session_create(app, out->user.id, client, out->session_token)) != GH_OK)
        goto out;
    metrics_login(true);
    audit_record(app, "social_login", out->user.id, out->user.email, client, in->provider);
out:
    json_decref(answer);
    json_decref(claims);
    sodium_memzero(&s, sizeof s);
    return st;
}

/* ---- linked providers ---- */

gh_status oidc_linked(struct app *app, const char *user_id, char names[][PROVIDER_NAME_MAX],
                      size_t cap, size_t *count)
{
    struct oauth_identity list[IDENTITIES_MAX];
    size_t n = 0;
    gh_status st = app->store->identity_list(app->store, user_id, list, IDENTITIES_MAX, &n);
    *count = 0;
    for (size_t i = 0; st == GH_OK && i < n && *count < cap; i++)
        strcpy(names[(*count)++], list[i].provider);
    return st;
}

gh_status oidc_unlink(struct app *app, const struct user *u, const char *provider,
                      const struct client_info *client)
{
    char names[IDENTITIES_MAX][PROVIDER_NAME_MAX];
    size_t count = 0;
    bool linked = false;
    gh_status st = oidc_linked(app, u->id, names, IDENTITIES_MAX, &count);
    for (size_t i = 0; st == GH_OK && i < count; i++)
        linked = linked || !strcmp(names[i], provider);
    if (st != GH_OK)
        return st;
    if (!linked)
        return GH_NOT_FOUND;
    /* The last way in stays: no password and no other provider would lock the owner out. */
    if (!u->password_hash[0] && count == 1)
        return GH_ERR_LAST_LOGIN;
    st = app->store->identity_delete(app->store, u->id, provider);
    if (st == GH_OK)
        audit_record(app, "social_unlink", u->id, u->email, client, provider);
    return st;
}
