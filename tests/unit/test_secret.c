/* Tokens, token hashes, UUIDs and str_copy (util/secret.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "util/secret.h"

static int setup_sodium(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static int is_urlsafe(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_token_is_43_urlsafe_chars(void **state)
{
    (void)state;
    for (int n = 0; n < 200; n++) {
        char tok[TOKEN_LEN + 1];
        memset(tok, 'X', sizeof tok);
        secret_token_new(tok);
        assert_int_equal(strlen(tok), 43);
        for (size_t i = 0; i < TOKEN_LEN; i++)
            assert_true(is_urlsafe(tok[i]));
    }
}

static void test_two_tokens_differ(void **state)
{
    (void)state;
    char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];
    secret_token_new(a);
    secret_token_new(b);
    assert_string_not_equal(a, b);
}

static void test_new_token_is_wellformed(void **state)
{
    (void)state;
    char tok[TOKEN_LEN + 1];
    secret_token_new(tok);
    assert_true(secret_token_is_wellformed(tok));
}

static void test_wellformed_accepts_exactly_43_urlsafe_chars(void **state)
{
    (void)state;
    char s[64];
    memset(s, 'a', 43);
    s[43] = '\0';
    assert_true(secret_token_is_wellformed(s));
    assert_true(secret_token_is_wellformed("AZaz09-_AZaz09-_AZaz09-_AZaz09-_AZaz09-_Zz9"));
}

static void test_wellformed_rejects_42_and_44_chars(void **state)
{
    (void)state;
    char s[64];
    memset(s, 'a', sizeof s);
    s[42] = '\0';
    assert_false(secret_token_is_wellformed(s));
    s[42] = 'a';
    s[44] = '\0';
    assert_false(secret_token_is_wellformed(s));
}

static void test_wellformed_rejects_empty(void **state)
{
    (void)state;
    assert_false(secret_token_is_wellformed(""));
}

static void test_wellformed_rejects_other_characters(void **state)
{
    (void)state;
    const char bad[] = {'=', '%', '+', '/', ' ', '.', '~', '\t', '\n', (char)0xc3};
    for (size_t k = 0; k < sizeof bad; k++) {
        char s[TOKEN_LEN + 1];
        memset(s, 'a', TOKEN_LEN);
        s[TOKEN_LEN] = '\0';
        s[k * 4] = bad[k]; /* at various positions, first and middle */
        assert_false(secret_token_is_wellformed(s));
        memset(s, 'a', TOKEN_LEN);
        s[TOKEN_LEN - 1] = bad[k]; /* and last */
        assert_false(secret_token_is_wellformed(s));
    }
    /* A padded standard-base64 token: 42 chars plus '='. */
    char padded[TOKEN_LEN + 1];
    memset(padded, 'a', TOKEN_LEN);
    padded[TOKEN_LEN - 1] = '=';
    padded[TOKEN_LEN] = '\0';
    assert_false(secret_token_is_wellformed(padded));
}

static void test_token_hash_is_64_lowercase_hex(void **state)
{
    (void)state;
    char tok[TOKEN_LEN + 1], h[TOKEN_HASH_LEN + 1];
    secret_token_new(tok);
    secret_token_hash(tok, h);
    assert_int_equal(strlen(h), 64);
    for (size_t i = 0; i < TOKEN_HASH_LEN; i++)
        assert_true(is_lower_hex(h[i]));
}

static void test_token_hash_is_deterministic(void **state)
{
    (void)state;
    char tok[TOKEN_LEN + 1], h1[TOKEN_HASH_LEN + 1], h2[TOKEN_HASH_LEN + 1];
    char other[TOKEN_LEN + 1], h3[TOKEN_HASH_LEN + 1];
    secret_token_new(tok);
    secret_token_new(other);
    secret_token_hash(tok, h1);
    secret_token_hash(tok, h2);
    secret_token_hash(other, h3);
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
}

/* The SHA-256 of s in lowercase hex, computed here. */
static void sha256_hex(const char *s, char out[TOKEN_HASH_LEN + 1])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, TOKEN_HASH_LEN + 1, d, sizeof d);
}

/* A thread remembers the hash of the last token it hashed; the memory answers for that token
 * only: one character changed, one dropped or one added, each gets its own hash. */
static void test_token_hash_remembered_is_that_tokens_only(void **state)
{
    (void)state;
    char tok[TOKEN_LEN + 1], h[TOKEN_HASH_LEN + 1], want[TOKEN_HASH_LEN + 1];
    secret_token_new(tok);
    for (size_t i = 0; i < TOKEN_LEN; i += 7) {
        char changed[TOKEN_LEN + 1];
        strcpy(changed, tok);
        changed[i] = changed[i] == 'A' ? 'B' : 'A';
        secret_token_hash(tok, h); /* remembered */
        secret_token_hash(changed, h);
        sha256_hex(changed, want);
        assert_string_equal(h, want);
    }
    const char *variants[3];
    char shorter[TOKEN_LEN + 1], longer[TOKEN_LEN + 2];
    strcpy(shorter, tok);
    shorter[TOKEN_LEN - 1] = '\0';
    memcpy(longer, tok, TOKEN_LEN);
    memcpy(longer + TOKEN_LEN, "x", 2);
    variants[0] = shorter;
    variants[1] = longer;
    variants[2] = tok;
    for (size_t i = 0; i < 3; i++) {
        secret_token_hash(tok, h);
        secret_token_hash(variants[i], h);
        sha256_hex(variants[i], want);
        assert_string_equal(h, want);
    }
}

static void test_token_hash_is_sha256(void **state)
{
    (void)state;
    char h[TOKEN_HASH_LEN + 1];
    secret_token_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    secret_token_hash("", h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* The thread tag of some data, taken on a thread of its own (so under another key). */
static void *tag_on_a_new_thread(void *tag)
{
    secret_thread_tag("the same data", 13, tag);
    return NULL;
}

static void test_thread_tag_is_stable_in_a_thread_and_keyed_per_thread(void **state)
{
    (void)state;
    unsigned char a[THREAD_TAG_LEN], b[THREAD_TAG_LEN], c[THREAD_TAG_LEN], other[THREAD_TAG_LEN];
    secret_thread_tag("the same data", 13, a);
    secret_thread_tag("the same data", 13, b);
    assert_memory_equal(a, b, sizeof a);
    secret_thread_tag("the same dat", 12, c);
    assert_memory_not_equal(a, c, sizeof a);
    secret_thread_tag("the same datA", 13, c);
    assert_memory_not_equal(a, c, sizeof a);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, tag_on_a_new_thread, other), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_memory_not_equal(a, other, sizeof a);
}

static void test_uuid_is_v4_shape(void **state)
{
    (void)state;
    for (int n = 0; n < 200; n++) {
        char u[UUID_LEN + 1];
        secret_uuid_new(u);
        assert_int_equal(strlen(u), 36);
        for (size_t i = 0; i < UUID_LEN; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(u[i], '-');
            else
                assert_true(is_lower_hex(u[i]));
        }
        assert_int_equal(u[14], '4');
        assert_non_null(strchr("89ab", u[19]));
    }
}

/* Only the spelling gatehouse writes is a well-formed id: lowercase, hyphenated, 36 bytes. */
static void test_uuid_wellformed_only_as_written(void **state)
{
    (void)state;
    char u[UUID_LEN + 1];
    secret_uuid_new(u);
    assert_true(secret_uuid_is_wellformed(u));
    assert_true(secret_uuid_is_wellformed("00000000-0000-0000-0000-000000000000"));
    assert_false(secret_uuid_is_wellformed(NULL));
    assert_false(secret_uuid_is_wellformed(""));
    assert_false(secret_uuid_is_wellformed("0123ABCD-0000-4000-8000-000000000000"));
    assert_false(secret_uuid_is_wellformed("0123abcd00004000800000000000000000000"));
    assert_false(secret_uuid_is_wellformed("0123abcd-0000-4000-8000-00000000000"));
    assert_false(secret_uuid_is_wellformed("0123abcd-0000-4000-8000-0000000000000"));
    assert_false(secret_uuid_is_wellformed("0123abcg-0000-4000-8000-000000000000"));
    assert_false(secret_uuid_is_wellformed("0123abcd-0000-4000-8000_000000000000"));
}

static void test_two_uuids_differ(void **state)
{
    (void)state;
    char a[UUID_LEN + 1], b[UUID_LEN + 1];
    secret_uuid_new(a);
    secret_uuid_new(b);
    assert_string_not_equal(a, b);
}

static void test_str_copy_fits(void **state)
{
    (void)state;
    char dst[6];
    assert_int_equal(str_copy(dst, sizeof dst, "hello"), GH_OK);
    assert_string_equal(dst, "hello");
    assert_int_equal(str_copy(dst, sizeof dst, ""), GH_OK);
    assert_string_equal(dst, "");
}

static void test_str_copy_truncation_is_too_long(void **state)
{
    (void)state;
    char dst[8];
    memset(dst, 'Z', sizeof dst);
    assert_int_equal(str_copy(dst, 6, "hello!"), GH_ERR_TOO_LONG);
    assert_string_equal(dst, "hello");
    assert_int_equal(dst[6], 'Z'); /* nothing written past cap */
}

static void test_str_copy_zero_capacity_writes_nothing(void **state)
{
    (void)state;
    char dst[2] = {'Z', 'Z'};
    assert_int_equal(str_copy(dst, 0, "x"), GH_ERR_TOO_LONG);
    assert_int_equal(dst[0], 'Z');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_is_43_urlsafe_chars),
        cmocka_unit_test(test_two_tokens_differ),
        cmocka_unit_test(test_new_token_is_wellformed),
        cmocka_unit_test(test_wellformed_accepts_exactly_43_urlsafe_chars),
        cmocka_unit_test(test_wellformed_rejects_42_and_44_chars),
        cmocka_unit_test(test_wellformed_rejects_empty),
        cmocka_unit_test(test_wellformed_rejects_other_characters),
        cmocka_unit_test(test_token_hash_is_64_lowercase_hex),
        cmocka_unit_test(test_token_hash_remembered_is_that_tokens_only),
        cmocka_unit_test(test_token_hash_is_deterministic),
        cmocka_unit_test(test_token_hash_is_sha256),
        cmocka_unit_test(test_uuid_is_v4_shape),
        cmocka_unit_test(test_uuid_wellformed_only_as_written),
        cmocka_unit_test(test_two_uuids_differ),
        cmocka_unit_test(test_thread_tag_is_stable_in_a_thread_and_keyed_per_thread),
        cmocka_unit_test(test_str_copy_fits),
        cmocka_unit_test(test_str_copy_truncation_is_too_long),
        cmocka_unit_test(test_str_copy_zero_capacity_writes_nothing),
    };
    return cmocka_run_group_tests_name("secret", tests, setup_sodium, NULL);
}
