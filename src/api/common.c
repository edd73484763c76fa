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

void *api_state_decode(struct request *req, size_t size, const struct json_field *fields,
                       size_t nfields)
{
    void *state = calloc(1, size);
    if (!state) {
        reply_error(req, GH_NO_MEMORY, NULL);
        return NULL;
    }
    req->state = state;
    req->state_free = free;
    if (fields && !api_decode(req, fields, nfields, state))
        return NULL;
    return state;
}

/* The field a core status is about, for the "field" key of the error. */
static const char *field_of(gh_status st, const char *password_field)
{
    switch (st) {
    case GH_ERR_INVALID_EMAIL:
    case GH_ERR_EMAIL_TAKEN:
        return "email";
    case GH_ERR_INVALID_FIRST_NAME:
        return "first_name";
    case GH_ERR_INVALID_LAST_NAME:
        return "last_name";
    case GH_ERR_PASSWORD_TOO_SHORT:
    case GH_ERR_PASSWORD_TOO_LONG:
    case GH_ERR_PASSWORD_COMMON:
    case GH_ERR_PASSWORD_CONTAINS_EMAIL:
        return password_field;
    default:
        return NULL;
    }
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
    reply_error(req, st, field_of(st, password_field));
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
