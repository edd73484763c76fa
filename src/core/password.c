/* Password policy, Argon2id hashing (libsodium's crypto_pwhash), and the verification of
 * stored hashes of every scheme gatehouse reads (core/legacy_hash.c). */
#include "password.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../embed.h"
#include "../util/workpool.h"
#include "legacy_hash.h"

static struct workpool *hash_pool; /* where hashes run; NULL: on the calling thread */

void password_use_pool(struct workpool *pool)
{
    hash_pool = pool;
}

/* Sorted pointers into the embedded list (which is sorted with LC_ALL=C, one per line). */
static const char **common_words;
static size_t common_count;

gh_status password_list_init(void)
{
    const char *text = embed_common_passwords_start;
    size_t len = EMBED_LEN(common_passwords);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    common_words = calloc(lines + 1, sizeof *common_words);
    if (!common_words)
        return GH_NO_MEMORY;
    /* Entries end at '\n'; comparisons below stop there, so the text is used in place. */
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        if (nl > p)
            common_words[common_count++] = p;
        p = nl + 1;
    }
    return GH_OK;
}

void password_list_free(void)
{
    free(common_words);
    common_words = NULL;
    common_count = 0;
}

/* Compares a NUL-terminated key with a list entry that ends at '\n' or NUL. */
static int compare_entry(const void *key, const void *elem)
{
    const unsigned char *k = key;
    const unsigned char *e = *(const unsigned char *const *)elem;
    for (;; k++, e++) {
        unsigned char ec = (*e == '\n') ? 0 : *e;
        if (*k != ec || !*k)
            return (int)*k - (int)ec;
    }
}

bool password_is_common(const char *password)
{
    char lower[PASSWORD_MAX_CHARS * 4 + 1];
    size_t n = strlen(password);
    if (n >= sizeof lower || !common_count)
        return false;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)password[i]);
    return bsearch(lower, common_words, common_count, sizeof *common_words, compare_entry) != NULL;
}

/* Case-insensitive substring search for ASCII text. */
static bool contains_ci(const char *hay, const char *needle, size_t nlen)
{
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, nlen))
            return true;
    return false;
}

gh_status password_check_policy(const char *password, const char *email, int min_chars)
{
    size_t chars = utf8_length(password);
    if (chars < (size_t)min_chars)
        return GH_ERR_PASSWORD_TOO_SHORT;
    if (chars > PASSWORD_MAX_CHARS)
        return GH_ERR_PASSWORD_TOO_LONG;
    if (password_is_common(password))
        return GH_ERR_PASSWORD_COMMON;
    /* A local part of one or two letters would forbid ordinary passwords; check from three. */
    const char *at = email ? strchr(email, '@') : NULL;
    size_t local = at ? (size_t)(at - email) : 0;
    if (local >= 3 && contains_ci(password, email, local))
        return GH_ERR_PASSWORD_CONTAINS_EMAIL;
    return GH_OK;
}

/* One Argon2id hash, as run on the hash pool. */
struct hash_job {
    const char *password;
    uint32_t iterations, memory_kib;
    char *out;
    gh_status status;
};

static void run_hash_job(void *arg)
{
    struct hash_job *job = arg;
    job->status =
        crypto_pwhash_str_alg(job->out, job->password, strlen(job->password), job->iterations,
                              (size_t)job->memory_kib * 1024u, crypto_pwhash_ALG_ARGON2ID13) == 0
            ? GH_OK
            : GH_NO_MEMORY;
}

gh_status password_hash(const char *password, uint32_t iterations, uint32_t memory_kib, char *out,
                        size_t outlen)
{
    if (outlen < crypto_pwhash_STRBYTES)
        return GH_INTERNAL;
    struct hash_job job = {password, iterations, memory_kib, out, GH_INTERNAL};
    workpool_run_and_wait(hash_pool, run_hash_job, &job);
    return job.status;
}

/* One verification of parsed parameters, as run on the hash pool. */
struct verify_job {
    const char *password;
    const struct hash_params *params;
    gh_status status;
};

static void run_verify_job(void *arg)
{
    struct verify_job *job = arg;
    job->status = hash_verify_params(job->password, job->params);
}

void password_bounds_for(const struct config *cfg, struct hash_bounds *out)
{
    *out = hash_default_bounds;
    if (!cfg)
        return;
    /* hashes made with the configured parameters are always verified */
    if (cfg->argon2_memory_kib > out->argon2_max_memory_kib)
        out->argon2_max_memory_kib = cfg->argon2_memory_kib;
    if (cfg->argon2_iterations > out->argon2_max_iterations)
        out->argon2_max_iterations = cfg->argon2_iterations;
    uint64_t cost = (uint64_t)cfg->argon2_memory_kib * cfg->argon2_iterations;
    if (cost > out->argon2_max_cost)
        out->argon2_max_cost = cost;
}

gh_status password_verify_stored(const struct config *cfg, const char *password, const char *hash,
                                 const char **why)
{
    struct hash_bounds bounds;
    struct hash_params params;
    *why = NULL;
    password_bounds_for(cfg, &bounds);
    enum hash_verdict verdict = hash_parse(hash, &bounds, &params);
    gh_status st = GH_ERR_INVALID_CREDENTIALS;
    if (verdict != HASH_VERIFIABLE)
        *why = hash_verdict_reason(verdict);
    else {
        struct verify_job job = {password, &params, GH_INTERNAL};
        workpool_run_and_wait(hash_pool, run_verify_job, &job);
        st = job.status;
    }
    sodium_memzero(&params, sizeof params);
    return st;
}

gh_status password_verify(const char *password, const char *hash)
{
    const char *why = NULL;
    return password_verify_stored(NULL, password, hash, &why);
}

gh_status password_hash_for(const struct config *cfg, const char *password,
                            char out[PASSWORD_HASH_MAX])
{
    return password_hash(password, cfg->argon2_iterations, cfg->argon2_memory_kib, out,
                         PASSWORD_HASH_MAX);
}

bool password_needs_rehash(const struct config *cfg, const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, cfg->argon2_iterations,
                                          (size_t)cfg->argon2_memory_kib * 1024u) != 0;
}
