/* PATCH /users/update-user/: profile fields and the avatar, from a multipart form. */
#include "../core/profile.h"
#include "api.h"

/* The text of a form part, "" for an empty one, NULL when the part is absent. */
static const char *form_text(struct request *req, const char *name, bool *too_large)
{
    const struct form_field *f = request_form_field(req, name);
    if (!f || f->is_file)
        return NULL;
    if (f->too_large)
        *too_large = true;
    return f->value.data ? f->value.data : "";
}

void api_users_update_user(struct request *req)
{
    static const char *const text_fields[] = {"first_name", "last_name", "phone_number",
                                              "birth_date", "github_link"};
    struct profile_update in = {0};
    const char **slots[] = {&in.first_name, &in.last_name, &in.phone_number, &in.birth_date,
                            &in.github_link};
    for (size_t i = 0; i < sizeof text_fields / sizeof text_fields[0]; i++) {
        bool too_large = false;
        *slots[i] = form_text(req, text_fields[i], &too_large);
        if (too_large) {
            reply_error(req, GH_ERR_TOO_LONG, text_fields[i]);
            return;
        }
    }
    const struct form_field *file = request_form_field(req, "thumbnail");
    if (file && file->is_file) {
        in.image = (const unsigned char *)file->value.data;
        in.image_len = file->value.len;
        in.image_too_large = file->too_large;
    }
    const char *field = NULL;
    gh_status st = profile_update(req->app, &req->principal.user, &in, &req->client, &field);
    if (st != GH_OK) {
        reply_error(req, st, field);
        return;
    }
    reply_user(req, 200, &req->principal.user);
}
