/* Sign in with Google or any OpenID Connect provider (SPEC §4): the authorization code flow with
 * state, PKCE (S256) and a nonce, kept server-side, single use and bound to the browser by a
 * short-lived cookie. The endpoints come from the provider's discovery document; its JWKS is
 * cached and refetched when an ID token names an unknown kid (at most once a minute, so a forged
 * kid cannot make gatehouse hammer the provider). Outbound calls have a timeout
 * (GATEHOUSE_OIDC_TIMEOUT) and hold no lock; the routes that make them run on the I/O pool. */
#ifndef GH_OIDC_H
#define GH_OIDC_H

#include "../app.h"
#include "../records.h"

#define OIDC_BINDING_COOKIE "gh_oidc" /* binds a login in progress to the browser */
#define OIDC_STATE_LIFETIME 600       /* seconds a login at the provider may take */
#define OIDC_LOCATION_MAX   4096

struct oidc;

/* Prepares the configured providers (nothing is fetched before the first login). */
GH_MUST_CHECK gh_status oidc_open(struct app *app);
void oidc_close(struct oidc **o);

/* Where a login starts: the provider's authorization URL and the binding cookie's value. */
struct oidc_start {
    char location[OIDC_LOCATION_MAX];
    char binding[TOKEN_LEN + 1];
};

/* Starts a login at provider: state, PKCE verifier and nonce stored for OIDC_STATE_LIFETIME,
 * bound to a new browser cookie. next (may be NULL) is kept when it is a relative path of the
 * frontend, else "/". GH_NOT_FOUND for an unknown provider, GH_UNAVAILABLE when its discovery
 * document cannot be had. */
GH_MUST_CHECK gh_status oidc_login_start(struct app *app, const char *provider, const char *next,
                                         struct oidc_start *out);

/* Why a callback did not log in, for the error page. */
enum oidc_failure {
    OIDC_FAILED_STATE,    /* missing, unknown, expired, used, or another browser's */
    OIDC_FAILED_DENIED,   /* the provider answered with an error (access_denied, ...) */
    OIDC_FAILED_PROVIDER, /* the provider could not be reached or answered nonsense */
    OIDC_FAILED_TOKEN,    /* the ID token did not verify */
    OIDC_FAILED_EMAIL,    /* no email, or not verified by the provider */
    OIDC_FAILED_INTERNAL, /* our side */
};

/* The callback's query and what the browser sent along. */
struct oidc_callback {
    const char *provider;
    const char *code;
    const char *state;
    const char *error;             /* the provider's error parameter, NULL when none */
    const char *binding;           /* the binding cookie, NULL when absent */
    const char *old_session_token; /* a session cookie sent along: revoked (rotation) */
};

struct oidc_login {
    struct user user;
    char session_token[TOKEN_LEN + 1];
    char next[NEXT_PATH_MAX];
};

/* Finishes a login: checks the state against the browser, exchanges the code (client secret,
 * PKCE verifier), verifies the ID token (signature against the provider's JWKS — RS256 or
 * ES256 —, iss, aud and azp, exp and iat with a minute of leeway, nonce), reads the email and
 * names from the UserInfo endpoint when the ID token leaves them out, finds or links or creates
 * the account (the rules: README.md, "Sign in with Google / OpenID Connect") and creates a
 * session as a password login does. GH_OK, or an error with *why set. */
GH_MUST_CHECK gh_status oidc_login_finish(struct app *app, const struct oidc_callback *in,
                                          const struct client_info *client, struct oidc_login *out,
                                          enum oidc_failure *why);

/* The providers linked to user_id, at most cap names into names[]. */
GH_MUST_CHECK gh_status oidc_linked(struct app *app, const char *user_id,
                                    char names[][PROVIDER_NAME_MAX], size_t cap, size_t *count);

/* Unlinks provider from the user: GH_NOT_FOUND when not linked, GH_ERR_LAST_LOGIN when it would
 * leave the account without a way to log in (no password and no other provider). */
GH_MUST_CHECK gh_status oidc_unlink(struct app *app, const struct user *u, const char *provider,
                                    const struct client_info *client);

/* True when next is a relative path of the frontend: "/" then no second "/" or "\\", no scheme,
 * no control characters or backslashes, valid UTF-8, short enough to store. */
bool oidc_next_is_safe(const char *next);

#endif
