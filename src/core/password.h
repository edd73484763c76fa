/* Password rules: the policy of SPEC §8 (length, common list, email local part) and Argon2id
 * hashing with the configured parameters. Hashing itself runs on the hash pool (hashpool.h). */
#ifndef GH_PASSWORD_H
#define GH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/status.h"

#define PASSWORD_MAX_CHARS 128

/* Builds the lookup index of the embedded common-password list; call once at start. */
GH_MUST_CHECK gh_status password_list_init(void);
void password_list_free(void);
/* True when the password, lower-cased, is in the common-password list. */
bool password_is_common(const char *password);

/* Checks password against the policy for an account with this (normalised) email.
 * Returns GH_OK or one of GH_ERR_PASSWORD_TOO_SHORT/TOO_LONG/COMMON/CONTAINS_EMAIL. */
GH_MUST_CHECK gh_status password_check_policy(const char *password, const char *email,
                                              int min_chars);

/* Argon2id hash of password into out (PHC string) with the given cost. */
GH_MUST_CHECK gh_status password_hash(const char *password, uint32_t iterations,
                                      uint32_t memory_kib, char *out, size_t outlen);
/* GH_OK when password matches the PHC hash, GH_ERR_INVALID_CREDENTIALS otherwise. */
GH_MUST_CHECK gh_status password_verify(const char *password, const char *hash);

/* True when s is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
bool utf8_is_valid(const char *s);

/* Number of Unicode code points in a valid UTF-8 string. */
size_t utf8_length(const char *s);

#endif
