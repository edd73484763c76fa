/* Password rules: the policy of SPEC §8 (length, common list, email local part) and Argon2id
 * hashing with the configured parameters. A hash costs about 15 ms and 19 MiB: only flows on
 * the CPU pool call it, and the hashing itself runs on the hash pool when one is set. */
#ifndef GH_PASSWORD_H
#define GH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../config.h"
#include "../records.h"
#include "../util/status.h"
#include "../util/utf8.h"

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

struct workpool;
/* From now on, hashing and verifying run on pool's threads, the calling thread waiting (NULL:
 * on the calling thread). A serving process sets its hash pool, one thread per core at a lower
 * priority, so that the database work of the flows around a hash overlaps other hashes and a
 * flood of them cannot crowd out the connection threads. Set before the threads that hash
 * start, and back to NULL after they stop. */
void password_use_pool(struct workpool *pool);

/* Argon2id hash of password into out (PHC string) with the given cost. */
GH_MUST_CHECK gh_status password_hash(const char *password, uint32_t iterations,
                                      uint32_t memory_kib, char *out, size_t outlen);
/* Argon2id hash of password with the configured parameters into out. */
GH_MUST_CHECK gh_status password_hash_for(const struct config *cfg, const char *password,
                                          char out[PASSWORD_HASH_MAX]);
/* True when hash was made with other parameters than the configured ones (it is upgraded at
 * the next successful login). */
bool password_needs_rehash(const struct config *cfg, const char *hash);
/* GH_OK when password matches the stored hash (any scheme of core/legacy_hash.h, within the
 * default bounds), GH_ERR_INVALID_CREDENTIALS otherwise. */
GH_MUST_CHECK gh_status password_verify(const char *password, const char *hash);
/* Like password_verify, with the bounds widened to the configured Argon2 parameters (cfg may
 * be NULL). A hash that cannot be verified at all — unusable, beyond the bounds, malformed, of
 * an unknown scheme — answers GH_ERR_INVALID_CREDENTIALS at once with *why naming the reason
 * (the account needs a password reset); *why is NULL otherwise. GH_NO_MEMORY when Argon2's
 * memory cannot be had. */
GH_MUST_CHECK gh_status password_verify_stored(const struct config *cfg, const char *password,
                                               const char *hash, const char **why);
struct hash_bounds;
/* The bounds a stored hash must keep: the defaults of core/legacy_hash.h, widened so that
 * hashes made with the configured Argon2 parameters always fit. */
void password_bounds_for(const struct config *cfg, struct hash_bounds *out);

#endif
