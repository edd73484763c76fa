/* Random identifiers and secrets on top of libsodium's CSPRNG and SHA-256. */
#include "secret.h"

#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void secret_token_new(char out[TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, TOKEN_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

bool secret_token_is_wellformed(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || i >= TOKEN_LEN)
            return false;
    }
    return i == TOKEN_LEN;
}

/* Each thread remembers the hash of the last token it hashed, by the token's thread tag: a
 * client sends the same session cookie with every request. */
void secret_token_hash(const char *token, char out[TOKEN_HASH_LEN + 1])
{
    static _Thread_local unsigned char last_tag[THREAD_TAG_LEN];
    static _Thread_local char last_hash[TOKEN_HASH_LEN + 1];
    unsigned char tag[THREAD_TAG_LEN];
    unsigned char digest[crypto_hash_sha256_BYTES];
    size_t len = strlen(token);
    secret_thread_tag(token, len, tag);
    if (last_hash[0] && !sodium_memcmp(tag, last_tag, sizeof tag)) {
        memcpy(out, last_hash, sizeof last_hash);
        return;
    }
    crypto_hash_sha256(digest, (const unsigned char *)token, len);
    sodium_bin2hex(out, TOKEN_HASH_LEN + 1, digest, sizeof digest);
    memcpy(last_tag, tag, sizeof tag);
    memcpy(last_hash, out, sizeof last_hash);
}

void secret_thread_tag(const void *data, size_t len, unsigned char tag[THREAD_TAG_LEN])
{
    static _Thread_local unsigned char key[crypto_shorthash_siphashx24_KEYBYTES];
    static _Thread_local bool keyed;
    _Static_assert(THREAD_TAG_LEN == crypto_shorthash_siphashx24_BYTES, "a SipHash-128 tag");
    if (!keyed) {
        randombytes_buf(key, sizeof key);
        keyed = true;
    }
    crypto_shorthash_siphashx24(tag, data, len, key);
}

void secret_uuid_new(char out[UUID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

bool secret_uuid_is_wellformed(const char *s)
{
    if (!s || strlen(s) != UUID_LEN)
        return false;
    for (int i = 0; i < UUID_LEN; i++) {
        char ch = s[i];
        bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
        if (hyphen ? ch != '-' : !hex)
            return false;
    }
    return true;
}

gh_status str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        if (cap) {
            memcpy(dst, src, cap - 1);
            dst[cap - 1] = '\0';
        }
        return GH_ERR_TOO_LONG;
    }
    memcpy(dst, src, n + 1);
    return GH_OK;
}

/* jansson does not pass the size to free: glibc knows the usable size of each block. */
static void wiping_free(void *p)
{
    if (p)
        sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

void secret_wipe_json_memory(void)
{
    json_set_alloc_funcs(malloc, wiping_free);
}
