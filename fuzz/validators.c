/* libFuzzer target for the validators of client text: email and name normalisation, the
 * password policy, the profile fields (phone, birth date, GitHub link), avatar recognition by
 * magic bytes, media keys from /media/ paths, token shape and UTF-8 checks. Every function gets
 * the whole input (as a C string, cut at its first NUL byte, as the decoders deliver text),
 * and what it accepts is checked against what the rest of gatehouse relies on. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/email.h"
#include "records.h"
#include "core/password.h"
#include "core/profile.h"
#include "media/media.h"
#include "util/secret.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz/validators: %s\n", what);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (password_list_init() != GH_OK)
        abort();
    return 0;
}

/* Well-formed UTF-8 as Unicode's table 3-7 lists it, written independently of utf8_is_valid. */
static bool reference_utf8_valid(const unsigned char *s)
{
    while (*s) {
        unsigned char c = s[0];
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c <= 0x7f)
            n = 1;
        else if (c >= 0xc2 && c <= 0xdf)
            n = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else
            return false;
        if (n > 1 && (s[1] < lo || s[1] > hi))
            return false;
        for (size_t i = 2; i < n; i++)
            if (s[i] < 0x80 || s[i] > 0xbf)
                return false;
        s += n;
    }
    return true;
}

static void check_utf8(const char *s)
{
    bool valid = utf8_is_valid(s);
    check(valid == reference_utf8_valid((const unsigned char *)s),
          "utf8_is_valid disagrees with the Unicode table");
    if (valid) {
        size_t leads = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            leads += (*p & 0xc0) != 0x80;
        check(utf8_length(s) == leads, "utf8_length miscounts");
    }
}

static void check_email(const char *s)
{
    char out[EMAIL_MAX + 1], again[EMAIL_MAX + 1];
    gh_status st = email_normalize(s, out);
    if (st != GH_OK) {
        check(st == GH_ERR_INVALID_EMAIL, "email_normalize: unexpected status");
        return;
    }
    size_t n = strlen(out), ats = 0;
    check(n > 0 && n <= EMAIL_MAX, "email_normalize: length");
    for (const char *p = out; *p; p++) {
        /* what goes into a To: header and a SQL column must be one printable ASCII word */
        check(*p > 0x20 && *p < 0x7f, "email_normalize: space, control or non-ASCII byte");
        check(!isupper((unsigned char)*p), "email_normalize: not lower-cased");
        ats += *p == '@';
    }
    check(ats == 1, "email_normalize: not exactly one @");
    check(email_normalize(out, again) == GH_OK && !strcmp(out, again),
          "email_normalize: not idempotent");
}

static void check_name(const char *s)
{
    char out[NAME_MAX_BYTES + 1], again[NAME_MAX_BYTES + 1];
    gh_status st = name_normalize(s, out);
    if (st != GH_OK) {
        check(st == GH_ERR_EMPTY || st == GH_ERR_TOO_LONG || st == GH_ERR_INVALID_CHARACTERS,
              "name_normalize: unexpected status");
        return;
    }
    size_t n = strlen(out);
    check(n > 0 && n <= NAME_MAX_BYTES, "name_normalize: length in bytes");
    check(utf8_is_valid(out), "name_normalize: not UTF-8");
    check(utf8_length(out) <= NAME_MAX_CHARS, "name_normalize: length in characters");
    check(!isspace((unsigned char)out[0]) && !isspace((unsigned char)out[n - 1]),
          "name_normalize: not trimmed");
    /* names go into mail bodies and headers-adjacent text: no line breaks, no controls */
    for (const unsigned char *p = (const unsigned char *)out; *p; p++)
        check(*p >= 0x20 && *p != 0x7f, "name_normalize: control byte");
    check(name_normalize(out, again) == GH_OK && !strcmp(out, again),
          "name_normalize: not idempotent");
}

static void check_password(const char *s)
{
    static const char *const emails[] = {"fuzz@example.com", "ab@example.com", "", "@", "x@"};
    for (size_t i = 0; i < sizeof emails / sizeof emails[0]; i++) {
        for (int min = 8; min <= 12; min += 4) {
            gh_status st = password_check_policy(s, emails[i], min);
            if (st != GH_OK) {
                check(st == GH_ERR_PASSWORD_TOO_SHORT || st == GH_ERR_PASSWORD_TOO_LONG ||
                          st == GH_ERR_PASSWORD_COMMON || st == GH_ERR_PASSWORD_CONTAINS_EMAIL,
                      "password_check_policy: unexpected status");
                continue;
            }
            size_t chars = utf8_length(s);
            check(chars >= (size_t)min && chars <= PASSWORD_MAX_CHARS,
                  "password_check_policy: accepted a wrong length");
            check(!password_is_common(s), "password_check_policy: accepted a common password");
        }
    }
    (void)password_check_policy(s, s, 12); /* the input as the email too */
}

/* Size of a struct profile member: apply_fields copies accepted values into these. */
#define COLUMN_SIZE(member) sizeof(((struct profile *)0)->member)

static void check_profile(const char *s)
{
    size_t n = strlen(s);
    if (profile_check_phone(s) == GH_OK) {
        check(n < COLUMN_SIZE(phone_number), "profile_check_phone: too long for its column");
        for (size_t i = 1; i < n; i++)
            check(isdigit((unsigned char)s[i]), "profile_check_phone: not digits");
        check(n == 0 || s[0] == '+', "profile_check_phone: no leading +");
    }
    int64_t moments[] = {0, time(NULL), (int64_t)253402300799}; /* 1970, now, 9999-12-31 */
    for (size_t i = 0; i < sizeof moments / sizeof moments[0]; i++)
        if (profile_check_birth_date(s, moments[i]) == GH_OK)
            check((n == 0 || n == 10) && n < COLUMN_SIZE(birth_date),
                  "profile_check_birth_date: not YYYY-MM-DD");
    if (profile_check_github_link(s) == GH_OK) {
        check(n < COLUMN_SIZE(github_link), "profile_check_github_link: too long for its column");
        check(n == 0 || !strncmp(s, "https://", 8), "profile_check_github_link: not https");
        for (size_t i = 0; i < n; i++)
            check((unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f,
                  "profile_check_github_link: space, control or non-ASCII byte");
    }
}

static void check_image_type(const uint8_t *data, size_t size)
{
    const char *ext = profile_image_type(data, size);
    if (!ext)
        return;
    char key[64];
    snprintf(key, sizeof key, "avatars/00000000-0000-4000-8000-000000000000.%s", ext);
    check(media_content_type(key) != NULL,
          "profile_image_type: a type the media store cannot serve");
    check(media_key_is_safe(key), "profile_image_type: an unsafe key");
}

static void check_media_key(const char *s)
{
    (void)media_content_type(s);
    if (!media_key_is_safe(s))
        return;
    size_t n = strlen(s);
    check(n > 0 && n <= 200, "media_key_is_safe: length");
    check(s[0] != '/' && s[n - 1] != '/' && !strstr(s, "//"), "media_key_is_safe: empty segment");
    check(s[0] != '.' && !strstr(s, "/."), "media_key_is_safe: a segment starting with a dot");
    for (const char *p = s; *p; p++)
        check(isalnum((unsigned char)*p) || strchr("-_./", *p),
              "media_key_is_safe: a character outside [A-Za-z0-9._-/]");
}

static void check_token(const char *s)
{
    if (!secret_token_is_wellformed(s))
        return;
    check(strlen(s) == TOKEN_LEN, "secret_token_is_wellformed: length");
    for (const char *p = s; *p; p++)
        check(isalnum((unsigned char)*p) || *p == '-' || *p == '_',
              "secret_token_is_wellformed: not base64url");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_utf8(s);
    check_email(s);
    check_name(s);
    check_password(s);
    check_profile(s);
    check_media_key(s);
    check_token(s);
    check_image_type(data, size);
    free(s);
    return 0;
}
