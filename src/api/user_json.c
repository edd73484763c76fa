/* The user object of SPEC §2.1. */
#include <stdio.h>

#include "../media/media.h"
#include "../util/timeutil.h"
#include "api.h"

/* A string, or JSON null for the empty string. */
static json_t *string_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

void reply_user(struct request *req, unsigned status, const struct user *u)
{
    char joined[RFC3339_LEN + 1];
    char thumbnail[CONFIG_URL_MAX + URL_FIELD_MAX + 8] = "";
    time_format_rfc3339(u->date_joined, joined);
    if (u->thumbnail[0])
        req->app->media->url(req->app->media, u->thumbnail, thumbnail, sizeof thumbnail);
    json_t *profile = json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", u->profile.id, "user_id", u->id,
                                "phone_number", string_or_null(u->profile.phone_number),
                                "birth_date", string_or_null(u->profile.birth_date), "github_link",
                                string_or_null(u->profile.github_link));
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:o, s:s, s:o*}", "id", u->id,
                             "email", u->email, "first_name", u->first_name, "last_name",
                             u->last_name, "is_active", u->is_active, "is_staff", u->is_staff,
                             "is_superuser", u->is_superuser, "thumbnail",
                             string_or_null(thumbnail), "date_joined", joined, "profile", profile);
    if (!profile || !body) {
        json_decref(body);
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    reply_json(req, status, body);
}
