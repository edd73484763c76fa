/* Profile updates (SPEC §2.4): field rules, avatar recognition by magic bytes, and the update
 * that stores a new avatar and deletes the old one. */
#ifndef GH_PROFILE_H
#define GH_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../app.h"
#include "../records.h"

/* What a client sent; NULL (or image NULL) = the part was absent, so the value is kept. */
struct profile_update {
    const char *first_name;
    const char *last_name;
    const char *phone_number;
    const char *birth_date;
    const char *github_link;
    const unsigned char *image;
    size_t image_len;
    bool image_too_large;
};

/* Field checks: GH_OK or the GH_ERR_INVALID_* of the field. An empty value is valid (clears). */
GH_MUST_CHECK gh_status profile_check_phone(const char *phone);
GH_MUST_CHECK gh_status profile_check_birth_date(const char *date, int64_t now);
GH_MUST_CHECK gh_status profile_check_github_link(const char *link);

/* The file extension ("png", "jpg", "webp", "gif") of an image recognised by its first bytes,
 * or NULL when the data is none of these. */
const char *profile_image_type(const unsigned char *data, size_t len);

/* Validates every field first, then stores the new avatar (if any), writes the changes and
 * deletes the replaced avatar. On success *u holds the updated user. *field names the field at
 * fault on a validation error. */
GH_MUST_CHECK gh_status profile_update(struct app *app, struct user *u,
                                       const struct profile_update *in,
                                       const struct client_info *client, const char **field);

#endif
