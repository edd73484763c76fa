/* The route handlers, one group per file; the route table in routes.c lists them all. */
#ifndef GH_API_H
#define GH_API_H

#include "../http/request.h"
#include "../http/server.h"

/* The route table (routes.c). */
extern const struct route api_routes[];
extern const size_t api_route_count;

/* What the HTTP layer needs from the API (auth.c): the routes, the pools they run on and the
 * hooks that resolve the principal and apply the per-client limit. */
void api_http_setup(struct app *app, struct http_setup *out);

/* Shared helpers for handlers (common.c, user_json.c). */

/* Decode limits: generous, so the rules in core/ give the precise error (e.g. a 129-character
 * password is "too long" by the password policy, not by the decoder). */
#define PASSWORD_INPUT_MAX 1024
#define NAME_INPUT_MAX     1024

struct json_field;

/* Decodes req->json into out with fields; answers the 400 and returns false on failure. */
bool api_decode(struct request *req, const struct json_field *fields, size_t n, void *out);
/* Answers a core status; password policy errors name password_field, others the field of the
 * error table. */
void reply_account_error(struct request *req, gh_status st, const char *password_field);
/* Why a confirmation or reset link sent the browser to a frontend page (the ?reason= text). */
enum redirect_reason {
    REASON_NONE,            /* no ?reason= */
    REASON_CONFIRM_INVALID, /* confirmation token missing, unknown, used or expired */
    REASON_CONFIRM_FAILED,  /* confirmation failed for another reason (database down) */
    REASON_RESET_INVALID,   /* reset token missing, unknown, used or expired */
    REASON_RESET_FAILED,    /* reset link failed for another reason */
    REASON_SOCIAL_STATE,    /* a provider login that this browser did not start, or too old */
    REASON_SOCIAL_DENIED,   /* the provider refused or the person cancelled */
    REASON_SOCIAL_PROVIDER, /* the provider could not be reached or answered wrongly */
    REASON_SOCIAL_TOKEN,    /* the provider's ID token did not verify */
    REASON_SOCIAL_EMAIL,    /* the provider did not vouch for an email address */
    REASON_SOCIAL_FAILED,   /* our side */
    REDIRECT_REASON_COUNT
};
/* The sentence shown for reason, NULL for REASON_NONE. Every text holds only letters, digits,
 * spaces and full stops: percent-encoded, only spaces become escapes (%20), so a frontend that
 * decodes nothing but %20 still shows it right (tests/unit/test_redirect.c checks them all). */
const char *redirect_reason_text(enum redirect_reason reason);
/* Room for a percent-encoded reason in the Location header (its terminating NUL included). */
#define REDIRECT_REASON_ENCODED_MAX 400
/* 303 to {FRONTEND_URL}{page}, with ?reason=<text> (percent-encoded) unless REASON_NONE. */
void redirect_to_frontend(struct request *req, const char *page, enum redirect_reason reason);

/* Answers the user object of SPEC §2.1 with status, plus "providers": the names of the
 * identity providers linked to the account. */
void reply_user(struct request *req, unsigned status, const struct user *u);

/* health.c */
void api_health_check(struct request *req);
void api_ready(struct request *req);

/* metrics.c */
void api_metrics(struct request *req);

/* users.c */
void api_users_register(struct request *req);
void api_users_confirm(struct request *req);
void api_users_regenerate_token(struct request *req);
void api_users_login(struct request *req);
void api_users_current_user(struct request *req);
void api_users_logout(struct request *req);

/* profile.c */
void api_users_update_user(struct request *req);

/* password.c */
void api_password_request_reset(struct request *req);
void api_password_confirm_reset(struct request *req);
void api_password_reset(struct request *req);
void api_password_change(struct request *req);

/* sessions.c */
void api_sessions_list(struct request *req);
void api_sessions_delete(struct request *req);

/* tokens.c: the SimpleJWT-shaped token routes */
void api_token_obtain(struct request *req);
void api_token_refresh(struct request *req);
void api_token_verify(struct request *req);
void api_token_revoke(struct request *req);

/* oauth.c */
void api_oauth_token(struct request *req);
void api_oauth_introspect(struct request *req);
void api_oauth_revoke(struct request *req);

/* oidc.c */
void api_oidc_providers(struct request *req);
void api_oidc_login(struct request *req);
void api_oidc_callback(struct request *req);
void api_oidc_unlink(struct request *req);

/* wellknown.c */
void api_wellknown_jwks(struct request *req);
void api_wellknown_metadata(struct request *req);

/* media.c */
void api_media_get(struct request *req);

/* web.c */
void api_web_get(struct request *req);

/* openapi.c */
void api_openapi_get(struct request *req);

#endif
