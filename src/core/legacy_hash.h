/* Password hash strings by scheme: gatehouse's own Argon2id, and the hashes of the systems
 * gatehouse imports accounts from, kept as they were and verified at login until the next
 * successful login replaces them with the configured Argon2id:
 *
 *   $argon2id$v=19$m=…,t=…,p=…$salt$hash     PHC string: gatehouse, rust-auth, argon2-cffi,
 *   $argon2i$… $argon2d$…                     passlib (libsodium for p=1, libargon2 otherwise)
 *   argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash   Django's Argon2PasswordHasher (libargon2)
 *   pbkdf2_sha256$iterations$salt$base64      Django's PBKDF2 hashers (OpenSSL's PBKDF2)
 *   pbkdf2_sha1$iterations$salt$base64
 *   !…                                        an unusable password: no login, reset required
 *
 * Parameters outside the bounds below make a hash unusable too (a reset is needed): a source
 * database must not be able to make every login cost seconds or gigabytes. */
#ifndef GH_LEGACY_HASH_H
#define GH_LEGACY_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/status.h"

enum hash_scheme {
    HASH_NONE,          /* empty: no password (an account made by a provider login) */
    HASH_ARGON2,        /* a PHC Argon2 string ($argon2id$, $argon2i$, $argon2d$) */
    HASH_DJANGO_ARGON2, /* argon2$ + a PHC Argon2 string without its first '$' */
    HASH_PBKDF2_SHA256, /* pbkdf2_sha256$ (Django) */
    HASH_PBKDF2_SHA1,   /* pbkdf2_sha1$ (Django) */
    HASH_UNUSABLE,      /* !… (Django's set_unusable_password, or a reset required) */
    HASH_UNKNOWN,       /* anything else */
    HASH_SCHEME_COUNT
};

/* What a parse found: a verifiable hash, or why it cannot be verified. */
enum hash_verdict {
    HASH_VERIFIABLE,
    HASH_NO_PASSWORD,    /* empty or unusable */
    HASH_OUT_OF_BOUNDS,  /* well-formed, but a parameter is beyond the bounds */
    HASH_MALFORMED,      /* the scheme is known but the string is not one of its hashes */
    HASH_UNKNOWN_SCHEME, /* no scheme gatehouse knows */
};

#define HASH_SALT_MAX   128 /* bytes of salt (PBKDF2: its text) */
#define HASH_DIGEST_MAX 64

/* The bounds of parameters a hash may have to be verified. */
struct hash_bounds {
    uint32_t pbkdf2_min_iterations, pbkdf2_max_iterations;
    uint32_t argon2_max_memory_kib, argon2_max_iterations, argon2_max_parallelism;
    uint64_t argon2_max_cost; /* memory_kib × iterations */
};

/* The defaults: PBKDF2 1000…2,000,000 iterations; Argon2 up to 1 GiB, t ≤ 10, p ≤ 16 and
 * memory × iterations ≤ 1 GiB (about a second on one core). */
extern const struct hash_bounds hash_default_bounds;

/* A parsed hash. */
struct hash_params {
    enum hash_scheme scheme;
    int argon2_type; /* 0 Argon2d, 1 Argon2i, 2 Argon2id (libargon2's argon2_type) */
    uint32_t version;
    uint32_t iterations; /* PBKDF2 iterations or Argon2 t */
    uint32_t memory_kib; /* Argon2 m */
    uint32_t parallelism;
    unsigned char salt[HASH_SALT_MAX];
    size_t salt_len;
    unsigned char digest[HASH_DIGEST_MAX];
    size_t digest_len;
    const char *phc; /* Argon2: the PHC string inside hash (after "argon2" for Django) */
};

/* Parses hash (a NUL-terminated string) within bounds (NULL: the defaults). */
enum hash_verdict hash_parse(const char *hash, const struct hash_bounds *bounds,
                             struct hash_params *out);

/* The scheme of hash from its prefix alone (no parse). */
enum hash_scheme hash_scheme_of(const char *hash);
/* A short name of a scheme for reports: "argon2", "django_argon2", "pbkdf2_sha256", … */
const char *hash_scheme_name(enum hash_scheme scheme);
/* Why a hash cannot be verified, as a short phrase for audit rows and reports ("" for
 * HASH_VERIFIABLE). */
const char *hash_verdict_reason(enum hash_verdict verdict);
/* A rough cost of verifying p, in units of one SHA-256 PBKDF2 iteration: only for comparing
 * hashes (which of them is slowest), not for predicting times. */
uint64_t hash_cost(const struct hash_params *p);

/* Verifies password against a parsed, verifiable hash in constant time: GH_OK on a match,
 * GH_ERR_INVALID_CREDENTIALS otherwise, GH_NO_MEMORY when Argon2's memory cannot be had. */
GH_MUST_CHECK gh_status hash_verify_params(const char *password, const struct hash_params *p);

#endif
