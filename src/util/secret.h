/* Random identifiers and secrets: URL-safe tokens, their stored hashes, UUIDs. */
#ifndef GH_SECRET_H
#define GH_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "status.h"

/* 256 random bits as unpadded base64url: 43 characters of [A-Za-z0-9_-]. */
#define TOKEN_LEN 43
/* SHA-256 of a token, lowercase hex. */
#define TOKEN_HASH_LEN 64
#define UUID_LEN       36

/* Fills out (TOKEN_LEN + 1 bytes) with a fresh random token. */
void secret_token_new(char out[TOKEN_LEN + 1]);
/* True when s has the exact shape of a token; anything else is rejected before any lookup. */
bool secret_token_is_wellformed(const char *s);
/* Writes the hex SHA-256 of token into out (TOKEN_HASH_LEN + 1 bytes): what the database keeps. */
void secret_token_hash(const char *token, char out[TOKEN_HASH_LEN + 1]);
/* Bytes of a thread tag. */
#define THREAD_TAG_LEN 16
/* A 128-bit SipHash of data under a key random to the calling thread: what a per-thread cache
 * of things checked before (a token's signature, a cookie's MAC) finds them by. Without the
 * key no other data can be made to match a tag, and it costs a fraction of a SHA-256. */
void secret_thread_tag(const void *data, size_t len, unsigned char tag[THREAD_TAG_LEN]);
/* The slot of a tag in a cache of slots entries: the tag is uniformly random, so its first
 * bytes spread the entries evenly. */
static inline size_t secret_thread_tag_slot(const unsigned char tag[THREAD_TAG_LEN], size_t slots)
{
    size_t i;
    memcpy(&i, tag, sizeof i);
    return i % slots;
}
/* Fills out (UUID_LEN + 1 bytes) with a random version-4 UUID, lowercase and hyphenated. */
void secret_uuid_new(char out[UUID_LEN + 1]);
/* True when s is a UUID as gatehouse writes them: lowercase and hyphenated. */
bool secret_uuid_is_wellformed(const char *s);
/* Copies at most cap-1 bytes of src into dst and terminates it; GH_ERR_TOO_LONG when cut. */
GH_MUST_CHECK gh_status str_copy(char *dst, size_t cap, const char *src);

/* Makes jansson wipe every block it frees: parsed request bodies hold passwords and tokens.
 * Call once at start, before any JSON is parsed. */
void secret_wipe_json_memory(void);

#endif
