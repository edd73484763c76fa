/* The error table. Messages never contain '=', '&', '#' or '+' (SPEC §1). */
#include "errors.h"

static const struct error_info errors[GH_STATUS_COUNT] = {
    [GH_NOT_FOUND] = {404, "not_found", "Not found."},
    [GH_CONFLICT] = {409, "conflict", "The request conflicts with existing data."},
    [GH_BUSY] = {503, "busy", "The server is busy. Please try again in a moment."},
    [GH_INTERNAL] = {500, "internal", "Something went wrong on our side. Please try again."},
    [GH_UNAVAILABLE] = {503, "unavailable",
                        "A service this server needs is unavailable. Please try again."},
    [GH_NO_MEMORY] = {503, "unavailable", "The server is out of resources. Please try again."},
    [GH_ERR_INVALID_JSON] = {400, "invalid_json", "The request body must be a JSON object."},
    [GH_ERR_MISSING_FIELD] = {400, "missing_field", "The field %s is required."},
    [GH_ERR_WRONG_TYPE] = {400, "wrong_type", "The field %s must be a string."},
    [GH_ERR_UNKNOWN_FIELD] = {400, "unknown_field", "The field %s is not accepted here."},
    [GH_ERR_TOO_LONG] = {400, "too_long", "The field %s is too long."},
    [GH_ERR_BODY_TOO_LARGE] = {413, "body_too_large", "The request body is too large."},
    [GH_ERR_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type",
                                       "The request body must be sent as application/json."},
    [GH_ERR_NOT_FOUND_ROUTE] = {404, "not_found", "There is nothing at this address."},
    [GH_ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed",
                                   "This method is not allowed at this address."},
    [GH_ERR_BAD_ORIGIN] = {403, "bad_origin", "Requests from this origin are not allowed."},
    [GH_ERR_INVALID_FORM] = {400, "invalid_form", "The form data could not be read."},
    [GH_ERR_DUPLICATE_FIELD] = {400, "duplicate_field", "The field %s is given more than once."},
    [GH_ERR_INVALID_CHARACTERS] = {400, "invalid_characters",
                                   "The field %s contains characters that are not allowed."},
    [GH_ERR_BAD_FRAMING] = {400, "bad_framing",
                            "The request length is given more than once or in conflicting ways."},
    [GH_ERR_INVALID_EMAIL] = {400, "invalid_email", "Please enter a valid email address."},
    [GH_ERR_EMAIL_TAKEN] = {409, "email_taken", "An account with this email already exists."},
    [GH_ERR_INVALID_FIRST_NAME] = {400, "invalid_first_name",
                                   "The first name must have 1 to 150 characters."},
    [GH_ERR_INVALID_LAST_NAME] = {400, "invalid_last_name",
                                  "The last name must have 1 to 150 characters."},
    [GH_ERR_PASSWORD_TOO_SHORT] = {400, "password_too_short", "The password is too short."},
    [GH_ERR_PASSWORD_TOO_LONG] = {400, "password_too_long",
                                  "The password must have at most 128 characters."},
    [GH_ERR_PASSWORD_COMMON] = {400, "password_common",
                                "This password is too common. Please choose another one."},
    [GH_ERR_PASSWORD_CONTAINS_EMAIL] = {400, "password_contains_email",
                                        "The password must not contain your email address."},
    [GH_ERR_INVALID_CREDENTIALS] = {401, "invalid_credentials", "Invalid email or password."},
    [GH_ERR_INACTIVE] = {403, "inactive",
                         "Please confirm your email address before logging in. Check your inbox "
                         "for the confirmation link."},
    [GH_ERR_NOT_AUTHENTICATED] = {401, "not_authenticated", "You are not logged in."},
    [GH_ERR_INVALID_TOKEN] = {400, "invalid_token", "This link is invalid or has expired."},
    [GH_ERR_RATE_LIMITED] = {429, "rate_limited", "Too many attempts. Please wait and try again."},
    [GH_ERR_WRONG_PASSWORD] = {400, "wrong_password", "The current password is not correct."},
    [GH_ERR_INVALID_PHONE] = {400, "invalid_phone_number",
                              "The phone number must be a plus sign followed by 8 to 18 digits."},
    [GH_ERR_INVALID_BIRTH_DATE] = {400, "invalid_birth_date",
                                   "The birth date must be a real past date written YYYY-MM-DD."},
    [GH_ERR_INVALID_GITHUB_LINK] = {400, "invalid_github_link",
                                    "The link must be an https address of at most 255 characters."},
    [GH_ERR_NOT_AN_IMAGE] = {415, "not_an_image",
                             "The picture must be a PNG, JPEG, WebP or GIF image."},
    [GH_ERR_FILE_TOO_LARGE] = {413, "file_too_large", "The picture is too large."},
    [GH_ERR_MEDIA_STORE] = {502, "media_store_failed",
                            "The picture could not be stored. Please try again later."},
};

const struct error_info *error_lookup(gh_status st)
{
    if (st > GH_OK && st < GH_STATUS_COUNT && errors[st].http_status)
        return &errors[st];
    return &errors[GH_INTERNAL];
}
