/* Status codes returned by every fallible function in gatehouse.
 * GH_OK is 0; everything else names what went wrong, and http/errors.c maps each to an answer. */
#ifndef GH_STATUS_H
#define GH_STATUS_H

#define GH_MUST_CHECK __attribute__((warn_unused_result))

typedef enum gh_status {
    GH_OK = 0,
    /* generic */
    GH_NOT_FOUND,   /* a looked-up row does not exist */
    GH_CONFLICT,    /* a unique constraint was violated */
    GH_BUSY,        /* a queue or lock is full: try again shortly */
    GH_INTERNAL,    /* a bug or an unexpected library failure */
    GH_UNAVAILABLE, /* a backend (database, mail) cannot be reached */
    GH_NO_MEMORY,   /* an allocation failed */
    GH_PREFLIGHT,   /* not an error: a CORS preflight, answered by the HTTP layer */
    /* request shape */
    GH_ERR_INVALID_JSON,
    GH_ERR_MISSING_FIELD,
    GH_ERR_WRONG_TYPE,
    GH_ERR_UNKNOWN_FIELD,
    GH_ERR_TOO_LONG,
    GH_ERR_TOO_LARGE, /* a size limit of a buffer was reached */
    GH_ERR_EMPTY,     /* a value that must not be empty is */
    GH_ERR_CONFIG,    /* a setting is not valid */
    GH_ERR_BODY_TOO_LARGE,
    GH_ERR_UNSUPPORTED_MEDIA_TYPE,
    GH_ERR_NOT_FOUND_ROUTE,
    GH_ERR_METHOD_NOT_ALLOWED,
    GH_ERR_BAD_ORIGIN,
    GH_ERR_INVALID_FORM,
    GH_ERR_DUPLICATE_FIELD,
    GH_ERR_INVALID_CHARACTERS,
    GH_ERR_BAD_FRAMING,
    /* accounts */
    GH_ERR_INVALID_EMAIL,
    GH_ERR_EMAIL_TAKEN,
    GH_ERR_INVALID_FIRST_NAME,
    GH_ERR_INVALID_LAST_NAME,
    GH_ERR_PASSWORD_TOO_SHORT,
    GH_ERR_PASSWORD_TOO_LONG,
    GH_ERR_PASSWORD_COMMON,
    GH_ERR_PASSWORD_CONTAINS_EMAIL,
    GH_ERR_INVALID_CREDENTIALS,
    GH_ERR_INACTIVE,
    GH_ERR_NOT_AUTHENTICATED,
    GH_ERR_FORBIDDEN,
    GH_ERR_INVALID_TOKEN,
    /* the token API (OAuth 2.0 error codes) */
    GH_ERR_INVALID_GRANT,
    GH_ERR_INVALID_CLIENT,
    GH_ERR_UNSUPPORTED_GRANT_TYPE,
    GH_ERR_UNAUTHORIZED_CLIENT,
    GH_ERR_INVALID_REQUEST,
    GH_ERR_RATE_LIMITED,
    GH_ERR_WRONG_PASSWORD,
    GH_ERR_LAST_LOGIN,
    GH_ERR_INVALID_PHONE,
    GH_ERR_INVALID_BIRTH_DATE,
    GH_ERR_INVALID_GITHUB_LINK,
    GH_ERR_NOT_AN_IMAGE,
    GH_ERR_FILE_TOO_LARGE,
    GH_ERR_MEDIA_STORE,
    GH_STATUS_COUNT
} gh_status;

#endif
