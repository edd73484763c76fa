/* Helpers shared by the handlers: JSON input decoding, account errors, frontend redirects. */
#include <stdio.h>
#include <stdlib.h>

#include "../http/json_input.h"
#include "../util/url.h"
#include "api.h"

bool api_decode(struct request *req, const struct json_field *fields, size_t n, void *out)
{
    const char *bad = NULL;
    gh_status st = json_input_decode(req->json, fields, n, out, &bad);
    if (st != GH_OK) {
        reply_error(req, st, bad);
        return false;
    }
    return true;
}

void reply_account_error(struct request *req, gh_status st, const char *password_field)
{
    if (st == GH_ERR_PASSWORD_TOO_SHORT) {
        char text[96];
        snprintf(text, sizeof text, "The password must have at least %d characters.",
                 req->app->cfg->password_min_length);
        reply_error_text(req, st, password_field, text);
        return;
    }
    bool about_password = st == GH_ERR_PASSWORD_TOO_SHORT || st == GH_ERR_PASSWORD_TOO_LONG ||
                          st == GH_ERR_PASSWORD_COMMON || st == GH_ERR_PASSWORD_CONTAINS_EMAIL;
    reply_error(req, st, about_password ? password_field : NULL);
}

static const char *const reason_texts[REDIRECT_REASON_COUNT] = {
    [REASON_NONE] = NULL,
    [REASON_CONFIRM_INVALID] = "This confirmation link is no longer valid. It may have expired or "
                               "been used already. Request a new one below.",
    [REASON_CONFIRM_FAILED] = "Something went wrong while confirming your email. Please try the "
                              "link again in a moment.",
    [REASON_RESET_INVALID] = "This password reset link is no longer valid. It may have expired or "
                             "been used already. Please request a new one.",
    [REASON_RESET_FAILED] = "Something went wrong while checking your link. Please try again in a "
                            "moment.",
    [REASON_SOCIAL_STATE] = "This sign in was not started here or took too long. Please try again.",
    [REASON_SOCIAL_DENIED] = "The sign in at the provider was cancelled or refused.",
    [REASON_SOCIAL_PROVIDER] = "The sign in provider could not be reached. Please try again later.",
    [REASON_SOCIAL_TOKEN] = "The answer of the sign in provider could not be verified.",
    [REASON_SOCIAL_EMAIL] = "The sign in provider did not confirm your email address.",
    [REASON_SOCIAL_FAILED] = "Something went wrong while signing you in. Please try again.",
};

const char *redirect_reason_text(enum redirect_reason reason)
{
    return (unsigned)reason < REDIRECT_REASON_COUNT ? reason_texts[reason] : NULL;
}

void redirect_to_frontend(struct request *req, const char *page, enum redirect_reason reason)
{
    char location[CONFIG_URL_MAX + 512], encoded[REDIRECT_REASON_ENCODED_MAX];
    const char *text = redirect_reason_text(reason);
    if (text) {
        url_percent_encode(text, encoded, sizeof encoded);
        snprintf(location, sizeof location, "%s%s?reason=%s", req->app->cfg->frontend_url, page,
                 encoded);
    } else {
        snprintf(location, sizeof location, "%s%s", req->app->cfg->frontend_url, page);
    }
    reply_redirect(req, location);
}
