/* The user object of SPEC §2.1, written straight into the answer: it is on the hot path
 * (GET /users/current-user/ on every page load), so no JSON tree is built. */
#include <stdio.h>

#include "../core/oidc.h"
#include "../media/media.h"
#include "../util/jsonw.h"
#include "../util/timeutil.h"
#include "api.h"

static gh_status write_string_field(struct buf *b, const char *key, const char *value, bool first)
{
    gh_status st = jsonw_key(b, key, first);
    return st == GH_OK ? jsonw_string(b, value) : st;
}

static gh_status write_nullable_field(struct buf *b, const char *key, const char *value)
{
    gh_status st = jsonw_key(b, key, false);
    return st == GH_OK ? jsonw_string_or_null(b, value) : st;
}

static gh_status write_bool_field(struct buf *b, const char *key, bool value)
{
    gh_status st = jsonw_key(b, key, false);
    return st == GH_OK ? buf_append_str(b, value ? "true" : "false") : st;
}

static gh_status write_user(struct buf *b, const struct user *u, const char *thumbnail,
                            const char *joined, const char (*providers)[PROVIDER_NAME_MAX],
                            size_t provider_count)
{
    gh_status st = buf_append(b, "{", 1);
    if (st == GH_OK)
        st = write_string_field(b, "id", u->id, true);
    if (st == GH_OK)
        st = write_string_field(b, "email", u->email, false);
    if (st == GH_OK)
        st = write_string_field(b, "first_name", u->first_name, false);
    if (st == GH_OK)
        st = write_string_field(b, "last_name", u->last_name, false);
    if (st == GH_OK)
        st = write_bool_field(b, "is_active", u->is_active);
    if (st == GH_OK)
        st = write_bool_field(b, "is_staff", u->is_staff);
    if (st == GH_OK)
        st = write_bool_field(b, "is_superuser", u->is_superuser);
    if (st == GH_OK)
        st = write_nullable_field(b, "thumbnail", thumbnail);
    if (st == GH_OK)
        st = write_string_field(b, "date_joined", joined, false);
    if (st == GH_OK)
        st = buf_append_str(b, ",\"profile\":{");
    if (st == GH_OK)
        st = write_string_field(b, "id", u->profile.id, true);
    if (st == GH_OK)
        st = write_string_field(b, "user_id", u->id, false);
    if (st == GH_OK)
        st = write_nullable_field(b, "phone_number", u->profile.phone_number);
    if (st == GH_OK)
        st = write_nullable_field(b, "birth_date", u->profile.birth_date);
    if (st == GH_OK)
        st = write_nullable_field(b, "github_link", u->profile.github_link);
    if (st == GH_OK)
        st = buf_append_str(b, "}");
    if (st == GH_OK && providers) {
        st = buf_append_str(b, ",\"providers\":[");
        for (size_t i = 0; st == GH_OK && i < provider_count; i++) {
            if (i)
                st = buf_append(b, ",", 1);
            if (st == GH_OK)
                st = jsonw_string(b, providers[i]);
        }
        if (st == GH_OK)
            st = buf_append(b, "]", 1);
    }
    if (st == GH_OK)
        st = buf_append(b, "}", 1);
    return st;
}

/* Bytes an account's JSON takes with names, a phone number and an avatar: the body is
 * allocated once at this size. */
#define USER_JSON_TYPICAL 1024

static void reply_user_object(struct request *req, unsigned status, const struct user *u,
                              const char (*providers)[PROVIDER_NAME_MAX], size_t count)
{
    char joined[RFC3339_LEN + 1];
    char thumbnail[CONFIG_URL_MAX + URL_FIELD_MAX + 8] = "";
    struct buf body = {0};
    time_format_rfc3339(u->date_joined, joined);
    if (u->thumbnail[0])
        req->app->media->url(req->app->media, u->thumbnail, thumbnail, sizeof thumbnail);
    if (buf_reserve(&body, USER_JSON_TYPICAL) != GH_OK ||
        write_user(&body, u, thumbnail, joined, providers, count) != GH_OK) {
        buf_free(&body);
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    reply_json_text(req, status, body.data, body.len);
}

void reply_user(struct request *req, unsigned status, const struct user *u)
{
    char providers[CONFIG_MAX_PROVIDERS][PROVIDER_NAME_MAX];
    size_t count = 0;
    /* No lookup unless providers are configured: current-user is the hot path. */
    if (req->app->cfg->provider_count &&
        oidc_linked(req->app, u->id, providers, CONFIG_MAX_PROVIDERS, &count) != GH_OK)
        count = 0;
    reply_user_object(req, status, u, (const char(*)[PROVIDER_NAME_MAX])providers, count);
}
