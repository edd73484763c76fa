/* Profile updates. */
#include "profile.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../media/media.h"
#include "../store/store.h"
#include "audit.h"
#include "email.h"

gh_status profile_check_phone(const char *phone)
{
    size_t n = strlen(phone);
    if (n == 0)
        return GH_OK;
    if (phone[0] != '+' || n < 9 || n > 19)
        return GH_ERR_INVALID_PHONE;
    for (size_t i = 1; i < n; i++)
        if (phone[i] < '0' || phone[i] > '9')
            return GH_ERR_INVALID_PHONE;
    return GH_OK;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool parse_digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *out = *out * 10 + (s[i] - '0');
    }
    return true;
}

gh_status profile_check_birth_date(const char *date, int64_t now)
{
    static const int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    if (!date[0])
        return GH_OK;
    if (strlen(date) != 10 || date[4] != '-' || date[7] != '-' || !parse_digits(date, 4, &y) ||
        !parse_digits(date + 5, 2, &m) || !parse_digits(date + 8, 2, &d))
        return GH_ERR_INVALID_BIRTH_DATE;
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return GH_ERR_INVALID_BIRTH_DATE;
    int max_day = days_in_month[m - 1] + (m == 2 && is_leap(y));
    if (d > max_day)
        return GH_ERR_INVALID_BIRTH_DATE;
    char today[11];
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    if (strcmp(date, today) > 0) /* same format, so text order is date order */
        return GH_ERR_INVALID_BIRTH_DATE;
    return GH_OK;
}

gh_status profile_check_github_link(const char *link)
{
    size_t n = strlen(link);
    if (n == 0)
        return GH_OK;
    if (n > 255 || strncmp(link, "https://", 8))
        return GH_ERR_INVALID_GITHUB_LINK;
    for (const char *p = link; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return GH_ERR_INVALID_GITHUB_LINK; /* spaces, controls, raw non-ASCII bytes */
    gh_status st = GH_ERR_INVALID_GITHUB_LINK;
    char *host = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, link, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] && strchr(host, '.'))
        st = GH_OK;
    curl_free(host);
    curl_url_cleanup(u);
    return st;
}

const char *profile_image_type(const unsigned char *d, size_t len)
{
    if (len >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
        return "png";
    if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return "jpg";
    if (len >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6)))
        return "gif";
    if (len >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
        return "webp";
    return NULL;
}

/* Applies the text fields of in to u after checking them. A name that is empty after
 * trimming is ignored (names cannot be cleared); the other fields are cleared by "". */
static gh_status apply_fields(struct user *u, const struct profile_update *in, int64_t now,
                              const char **field)
{
    gh_status st;
    char name[NAME_MAX_BYTES + 1];
    if (in->first_name && (st = name_normalize(in->first_name, name)) != GH_ERR_EMPTY) {
        *field = "first_name";
        if (st != GH_OK)
            return GH_ERR_INVALID_FIRST_NAME;
        strcpy(u->first_name, name);
    }
    if (in->last_name && (st = name_normalize(in->last_name, name)) != GH_ERR_EMPTY) {
        *field = "last_name";
        if (st != GH_OK)
            return GH_ERR_INVALID_LAST_NAME;
        strcpy(u->last_name, name);
    }
    if (in->phone_number) {
        *field = "phone_number";
        if ((st = profile_check_phone(in->phone_number)) != GH_OK)
            return st;
        strcpy(u->profile.phone_number, in->phone_number);
    }
    if (in->birth_date) {
        *field = "birth_date";
        if ((st = profile_check_birth_date(in->birth_date, now)) != GH_OK)
            return st;
        strcpy(u->profile.birth_date, in->birth_date);
    }
    if (in->github_link) {
        *field = "github_link";
        if ((st = profile_check_github_link(in->github_link)) != GH_OK)
            return st;
        strcpy(u->profile.github_link, in->github_link);
    }
    *field = NULL;
    return GH_OK;
}

struct profile_tx {
    const struct user *u;
    const struct client_info *client;
};

static gh_status profile_in_tx(struct store *st, void *arg)
{
    struct profile_tx *tx = arg;
    gh_status status = st->user_update_profile(st, tx->u);
    if (status == GH_OK)
        status = audit_write(st, "profile_update", tx->u->id, tx->u->email, tx->client, NULL);
    return status;
}

gh_status profile_update(struct app *app, struct user *u, const struct profile_update *in,
                         const struct client_info *client, const char **field)
{
    struct user updated = *u;
    char old_key[URL_FIELD_MAX] = "";
    bool new_image = false;
    gh_status st = apply_fields(&updated, in, time(NULL), field);
    if (st != GH_OK)
        return st;
    if (in->image_too_large || (in->image && in->image_len > 0)) {
        *field = "thumbnail";
        if (in->image_too_large)
            return GH_ERR_FILE_TOO_LARGE;
        const char *ext = profile_image_type(in->image, in->image_len);
        if (!ext)
            return GH_ERR_NOT_AN_IMAGE;
        char id[UUID_LEN + 1];
        secret_uuid_new(id);
        snprintf(updated.thumbnail, sizeof updated.thumbnail, "avatars/%s.%s", id, ext);
        if (app->media->put(app->media, updated.thumbnail, in->image, in->image_len,
                            media_content_type(updated.thumbnail)) != GH_OK)
            return GH_ERR_MEDIA_STORE;
        strcpy(old_key, u->thumbnail);
        new_image = true;
        *field = NULL;
    }
    struct profile_tx tx = {&updated, client};
    st = store_transaction(app->store, profile_in_tx, &tx);
    if (st != GH_OK) {
        if (new_image) /* nothing points at the new file: do not leave it behind */
            (void)app->media->remove(app->media, updated.thumbnail);
        return st;
    }
    if (old_key[0] && app->media->remove(app->media, old_key) != GH_OK)
        audit_record(app, "media_delete_failed", u->id, NULL, client, old_key);
    *u = updated;
    return GH_OK;
}
