/* libFuzzer target for the parsers of stored password hashes (core/legacy_hash.c): Django's
 * PBKDF2 and Argon2 forms, PHC Argon2 strings, unusable passwords. A source database of an
 * import is untrusted input: every string gets parsed, and what the parser accepts is checked
 * to keep the bounds; hashes cheap enough are verified as well. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/legacy_hash.h"
#include "core/password.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz/hash: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *hash = malloc(size + 1);
    if (!hash)
        return 0;
    memcpy(hash, data, size);
    hash[size] = '\0';
    struct hash_params p;
    const struct hash_bounds *b = &hash_default_bounds;
    enum hash_verdict v = hash_parse(hash, NULL, &p);
    check(p.scheme == hash_scheme_of(hash), "the parse and the prefix name one scheme");
    if (v == HASH_VERIFIABLE) {
        check(p.salt_len > 0 && p.salt_len <= sizeof p.salt, "a salt within its buffer");
        check(p.digest_len > 0 && p.digest_len <= sizeof p.digest, "a digest within its buffer");
        if (p.scheme == HASH_PBKDF2_SHA256 || p.scheme == HASH_PBKDF2_SHA1) {
            check(p.iterations >= b->pbkdf2_min_iterations &&
                      p.iterations <= b->pbkdf2_max_iterations,
                  "PBKDF2 iterations within the bounds");
            check(p.digest_len == (p.scheme == HASH_PBKDF2_SHA256 ? 32u : 20u),
                  "a PBKDF2 digest of the hash's size");
        } else {
            check(p.scheme == HASH_ARGON2 || p.scheme == HASH_DJANGO_ARGON2, "a verifiable scheme");
            check(p.memory_kib <= b->argon2_max_memory_kib &&
                      p.iterations <= b->argon2_max_iterations && p.iterations >= 1 &&
                      p.parallelism >= 1 && p.parallelism <= b->argon2_max_parallelism &&
                      (uint64_t)p.memory_kib * p.iterations <= b->argon2_max_cost &&
                      p.memory_kib >= 8 * p.parallelism,
                  "Argon2 parameters within the bounds");
            check(p.phc && p.phc[0] == '$', "the PHC string found");
        }
        /* verify what is cheap; the answer is a match or not, never an error */
        if (hash_cost(&p) <= 20000) {
            gh_status st = hash_verify_params("fuzz password 1", &p);
            check(st == GH_OK || st == GH_ERR_INVALID_CREDENTIALS, "a verification answers");
        }
    } else {
        const char *why = NULL;
        gh_status st = password_verify_stored(NULL, "fuzz password 1", hash, &why);
        check(st == GH_ERR_INVALID_CREDENTIALS && why && why[0], "refused with a reason");
    }
    free(hash);
    return 0;
}
