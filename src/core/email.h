/* Email address syntax and normalisation. */
#ifndef GH_EMAIL_H
#define GH_EMAIL_H

#include "../util/status.h"
#include "../records.h"

/* Trims surrounding whitespace, checks the syntax (an ASCII local part of atext and dots, a
 * domain of at least two DNS labels) and lower-cases the result into out.
 * Returns GH_OK or GH_ERR_INVALID_EMAIL. */
GH_MUST_CHECK gh_status email_normalize(const char *in, char out[EMAIL_MAX + 1]);

/* Trims a person's name into out. Returns GH_OK for 1..NAME_MAX_CHARS characters of UTF-8
 * without control characters; GH_ERR_EMPTY when nothing is left, GH_ERR_TOO_LONG, or
 * GH_ERR_INVALID_CHARACTERS. The caller turns a failure into the error that names its field. */
GH_MUST_CHECK gh_status name_normalize(const char *in, char out[NAME_MAX_BYTES + 1]);

#endif
