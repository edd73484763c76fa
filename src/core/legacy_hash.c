/* Password hash strings by scheme: parsing within bounds, and constant-time verification with
 * libsodium (Argon2id, p=1), libargon2 (other Argon2 parameters) and OpenSSL (PBKDF2). */
#include "legacy_hash.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

const struct hash_bounds hash_default_bounds = {
    .pbkdf2_min_iterations = 1000,
    .pbkdf2_max_iterations = 2000000,
    .argon2_max_memory_kib = 1024 * 1024,
    .argon2_max_iterations = 10,
    .argon2_max_parallelism = 16,
    .argon2_max_cost = 1024 * 1024,
};

/* Lengths the Argon2 parts must have, in bytes. */
#define ARGON2_SALT_MIN   8
#define ARGON2_SALT_MAX   64
#define ARGON2_DIGEST_MIN 16

static const struct {
    const char *prefix;
    enum hash_scheme scheme;
} prefixes[] = {
    {"$argon2", HASH_ARGON2},
    {"argon2$", HASH_DJANGO_ARGON2},
    {"pbkdf2_sha256$", HASH_PBKDF2_SHA256},
    {"pbkdf2_sha1$", HASH_PBKDF2_SHA1},
    {"!", HASH_UNUSABLE},
};

enum hash_scheme hash_scheme_of(const char *hash)
{
    if (!hash || !hash[0])
        return HASH_NONE;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(hash, prefixes[i].prefix, strlen(prefixes[i].prefix)))
            return prefixes[i].scheme;
    return HASH_UNKNOWN;
}

const char *hash_scheme_name(enum hash_scheme scheme)
{
    static const char *const names[HASH_SCHEME_COUNT] = {
        [HASH_NONE] = "none",
        [HASH_ARGON2] = "argon2",
        [HASH_DJANGO_ARGON2] = "django_argon2",
        [HASH_PBKDF2_SHA256] = "pbkdf2_sha256",
        [HASH_PBKDF2_SHA1] = "pbkdf2_sha1",
        [HASH_UNUSABLE] = "unusable",
        [HASH_UNKNOWN] = "unknown",
    };
    return (unsigned)scheme < HASH_SCHEME_COUNT ? names[scheme] : "unknown";
}

const char *hash_verdict_reason(enum hash_verdict verdict)
{
    switch (verdict) {
    case HASH_VERIFIABLE:
        return "";
    case HASH_NO_PASSWORD:
        return "unusable password";
    case HASH_OUT_OF_BOUNDS:
        return "hash parameters out of bounds";
    case HASH_MALFORMED:
        return "malformed hash";
    case HASH_UNKNOWN_SCHEME:
        return "unknown hash scheme";
    }
    return "unknown hash scheme";
}

/* ---- parsing ---- */

/* Reads a decimal number of at most 10 digits without a sign or a leading zero into out and
 * moves *s past it; false when there is none or it does not fit 32 bits. */
static bool read_u32(const char **s, uint32_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    size_t n = 0;
    while (p[n] >= '0' && p[n] <= '9' && n <= 10) {
        v = v * 10 + (uint64_t)(p[n] - '0');
        n++;
    }
    if (n == 0 || n > 10 || (n > 1 && p[0] == '0') || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    *s = p + n;
    return true;
}

/* Moves *s past the literal text; false when *s does not start with it. */
static bool read_literal(const char **s, const char *text)
{
    size_t n = strlen(text);
    if (strncmp(*s, text, n))
        return false;
    *s += n;
    return true;
}

/* Decodes the base64 text of [s, end) (variant: libsodium's) into out (cap bytes); false when
 * it is not exactly such text or does not fit. */
static bool read_base64(const char *s, const char *end, int variant, unsigned char *out, size_t cap,
                        size_t *len)
{
    const char *stop = NULL;
    size_t n = 0;
    if (end <= s || sodium_base642bin(out, cap, s, (size_t)(end - s), NULL, &n, &stop, variant) ||
        stop != end)
        return false;
    *len = n;
    return true;
}

/* Parses a PHC Argon2 string: $argon2{id,i,d}$[v=V$]m=M,t=T,p=P$salt$hash. */
static enum hash_verdict parse_argon2(const char *phc, const struct hash_bounds *b,
                                      struct hash_params *out)
{
    const char *s = phc;
    if (read_literal(&s, "$argon2id$"))
        out->argon2_type = Argon2_id;
    else if (read_literal(&s, "$argon2i$"))
        out->argon2_type = Argon2_i;
    else if (read_literal(&s, "$argon2d$"))
        out->argon2_type = Argon2_d;
    else
        return HASH_MALFORMED;
    out->version = ARGON2_VERSION_10;
    if (read_literal(&s, "v=") && (!read_u32(&s, &out->version) || !read_literal(&s, "$")))
        return HASH_MALFORMED;
    if (!read_literal(&s, "m=") || !read_u32(&s, &out->memory_kib) || !read_literal(&s, ",t=") ||
        !read_u32(&s, &out->iterations) || !read_literal(&s, ",p=") ||
        !read_u32(&s, &out->parallelism) || !read_literal(&s, "$"))
        return HASH_MALFORMED;
    const char *salt_end = strchr(s, '$');
    if (!salt_end)
        return HASH_MALFORMED;
    const char *digest_end = salt_end + 1 + strlen(salt_end + 1);
    if (!read_base64(s, salt_end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING, out->salt,
                     sizeof out->salt, &out->salt_len) ||
        !read_base64(salt_end + 1, digest_end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                     out->digest, sizeof out->digest, &out->digest_len))
        return HASH_MALFORMED;
    if (out->version != ARGON2_VERSION_10 && out->version != ARGON2_VERSION_13)
        return HASH_MALFORMED;
    if (out->parallelism < 1 || out->iterations < 1 || out->memory_kib < 8u * out->parallelism ||
        out->salt_len < ARGON2_SALT_MIN || out->salt_len > ARGON2_SALT_MAX ||
        out->digest_len < ARGON2_DIGEST_MIN)
        return HASH_MALFORMED;
    if (out->memory_kib > b->argon2_max_memory_kib || out->iterations > b->argon2_max_iterations ||
        out->parallelism > b->argon2_max_parallelism ||
        (uint64_t)out->memory_kib * out->iterations > b->argon2_max_cost)
        return HASH_OUT_OF_BOUNDS;
    out->phc = phc;
    return HASH_VERIFIABLE;
}

/* Parses Django's PBKDF2 form after its prefix: iterations$salt$base64(digest). */
static enum hash_verdict parse_pbkdf2(const char *s, size_t digest_len, const struct hash_bounds *b,
                                      struct hash_params *out)
{
    if (!read_u32(&s, &out->iterations) || !read_literal(&s, "$"))
        return HASH_MALFORMED;
    const char *salt_end = strchr(s, '$');
    if (!salt_end || salt_end == s || (size_t)(salt_end - s) > sizeof out->salt)
        return HASH_MALFORMED;
    for (const char *c = s; c < salt_end; c++)
        if (*c < 0x21 || *c > 0x7e)
            return HASH_MALFORMED;
    out->salt_len = (size_t)(salt_end - s);
    memcpy(out->salt, s, out->salt_len);
    const char *digest = salt_end + 1;
    if (!read_base64(digest, digest + strlen(digest), sodium_base64_VARIANT_ORIGINAL, out->digest,
                     sizeof out->digest, &out->digest_len) ||
        out->digest_len != digest_len)
        return HASH_MALFORMED;
    if (out->iterations < b->pbkdf2_min_iterations || out->iterations > b->pbkdf2_max_iterations)
        return HASH_OUT_OF_BOUNDS;
    return HASH_VERIFIABLE;
}

enum hash_verdict hash_parse(const char *hash, const struct hash_bounds *bounds,
                             struct hash_params *out)
{
    const struct hash_bounds *b = bounds ? bounds : &hash_default_bounds;
    memset(out, 0, sizeof *out);
    out->scheme = hash_scheme_of(hash);
    switch (out->scheme) {
    case HASH_NONE:
    case HASH_UNUSABLE:
        return HASH_NO_PASSWORD;
    case HASH_ARGON2:
        return parse_argon2(hash, b, out);
    case HASH_DJANGO_ARGON2:
        return parse_argon2(hash + strlen("argon2"), b, out);
    case HASH_PBKDF2_SHA256:
        return parse_pbkdf2(hash + strlen("pbkdf2_sha256$"), 32, b, out);
    case HASH_PBKDF2_SHA1:
        return parse_pbkdf2(hash + strlen("pbkdf2_sha1$"), 20, b, out);
    case HASH_UNKNOWN:
    case HASH_SCHEME_COUNT:
        break;
    }
    return HASH_UNKNOWN_SCHEME;
}

uint64_t hash_cost(const struct hash_params *p)
{
    switch (p->scheme) {
    case HASH_PBKDF2_SHA256:
    case HASH_PBKDF2_SHA1:
        return p->iterations;
    case HASH_ARGON2:
    case HASH_DJANGO_ARGON2:
        /* measured here: a KiB-pass of Argon2 costs about 1.5 PBKDF2-SHA256 iterations */
        return (uint64_t)p->memory_kib * p->iterations * 3 / 2;
    default:
        return 0;
    }
}

/* ---- verification ---- */

static gh_status verify_pbkdf2(const char *password, const struct hash_params *p)
{
    unsigned char got[HASH_DIGEST_MAX];
    const EVP_MD *md = p->scheme == HASH_PBKDF2_SHA256 ? EVP_sha256() : EVP_sha1();
    gh_status st = GH_INTERNAL;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), p->salt, (int)p->salt_len,
                          (int)p->iterations, md, (int)p->digest_len, got) != 1)
        goto out;
    st = CRYPTO_memcmp(got, p->digest, p->digest_len) == 0 ? GH_OK : GH_ERR_INVALID_CREDENTIALS;
out:
    sodium_memzero(got, sizeof got);
    return st;
}

/* Argon2 with libargon2 on the calling thread alone (threads = 1, whatever the lanes): a
 * verification takes one core of the CPU pool, as every other password check does. */
static gh_status verify_argon2_lib(const char *password, const struct hash_params *p)
{
    unsigned char got[HASH_DIGEST_MAX], salt[HASH_SALT_MAX];
    char pwd[1024];
    size_t len = strlen(password);
    gh_status st = GH_ERR_INVALID_CREDENTIALS;
    if (len >= sizeof pwd) /* longer than any password the policy lets through */
        return st;
    memcpy(pwd, password, len);
    memcpy(salt, p->salt, p->salt_len);
    argon2_context ctx = {
        .out = got,
        .outlen = (uint32_t)p->digest_len,
        .pwd = (uint8_t *)pwd,
        .pwdlen = (uint32_t)len,
        .salt = salt,
        .saltlen = (uint32_t)p->salt_len,
        .t_cost = p->iterations,
        .m_cost = p->memory_kib,
        .lanes = p->parallelism,
        .threads = 1,
        .version = p->version,
        .flags = ARGON2_DEFAULT_FLAGS,
    };
    int rc = argon2_ctx(&ctx, (argon2_type)p->argon2_type);
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
        st = GH_NO_MEMORY;
    else if (rc == ARGON2_OK)
        st = CRYPTO_memcmp(got, p->digest, p->digest_len) == 0 ? GH_OK : GH_ERR_INVALID_CREDENTIALS;
    sodium_memzero(pwd, sizeof pwd);
    sodium_memzero(got, sizeof got);
    return st;
}

gh_status hash_verify_params(const char *password, const struct hash_params *p)
{
    switch (p->scheme) {
    case HASH_PBKDF2_SHA256:
    case HASH_PBKDF2_SHA1:
        return verify_pbkdf2(password, p);
    case HASH_ARGON2:
    case HASH_DJANGO_ARGON2:
        /* libsodium verifies Argon2id v=19 with one lane (gatehouse's own hashes) */
        if (p->argon2_type == Argon2_id && p->version == ARGON2_VERSION_13 && p->parallelism == 1 &&
            p->digest_len == 32 && p->salt_len == 16)
            return crypto_pwhash_str_verify(p->phc, password, strlen(password)) == 0
                       ? GH_OK
                       : GH_ERR_INVALID_CREDENTIALS;
        return verify_argon2_lib(password, p);
    default:
        return GH_ERR_INVALID_CREDENTIALS;
    }
}
