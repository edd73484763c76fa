/* Password policy, the common-password list and Argon2id hashing (core/password.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "core/password.h"

static int setup_list(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    return password_list_init() == GH_OK ? 0 : -1;
}

static int teardown_list(void **state)
{
    (void)state;
    password_list_free();
    return 0;
}

/* n copies of the UTF-8 sequence seq into s. */
static char *repeat_seq(char *s, const char *seq, size_t n)
{
    size_t len = strlen(seq);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, seq, len);
    s[n * len] = '\0';
    return s;
}

#define EMAIL   "someone@example.com"
#define E_ACUTE "\xc3\xa9"

static void test_password_11_chars_too_short_with_min_12(void **state)
{
    (void)state;
    assert_int_equal(password_check_policy("Vx7#kq2Lm9p", EMAIL, 12), GH_ERR_PASSWORD_TOO_SHORT);
}

static void test_password_12_chars_ok_with_min_12(void **state)
{
    (void)state;
    assert_int_equal(password_check_policy("Vx7#kq2Lm9pZ", EMAIL, 12), GH_OK);
}

static void test_password_min_8_respected(void **state)
{
    (void)state;
    assert_int_equal(password_check_policy("Vx7#kq2L", EMAIL, 8), GH_OK);
    assert_int_equal(password_check_policy("Vx7#kq2", EMAIL, 8), GH_ERR_PASSWORD_TOO_SHORT);
    assert_int_equal(password_check_policy("Vx7#kq2L", EMAIL, 12), GH_ERR_PASSWORD_TOO_SHORT);
}

static void test_password_empty_too_short(void **state)
{
    (void)state;
    assert_int_equal(password_check_policy("", EMAIL, 8), GH_ERR_PASSWORD_TOO_SHORT);
}

static void test_password_length_counts_code_points(void **state)
{
    (void)state;
    char pw[1024];
    /* 12 × "é" is 24 bytes but 12 characters. */
    assert_int_equal(password_check_policy(repeat_seq(pw, E_ACUTE, 12), EMAIL, 12), GH_OK);
    /* 11 × "é" is 22 bytes: still too short. */
    assert_int_equal(password_check_policy(repeat_seq(pw, E_ACUTE, 11), EMAIL, 12),
                     GH_ERR_PASSWORD_TOO_SHORT);
    /* 6 × U+1F600 is 24 bytes, 6 characters. */
    assert_int_equal(password_check_policy(repeat_seq(pw, "\xf0\x9f\x98\x80", 6), EMAIL, 8),
                     GH_ERR_PASSWORD_TOO_SHORT);
}

static void test_password_128_chars_ok_129_too_long(void **state)
{
    (void)state;
    char pw[1024];
    char base[] = "Zq8!wLp3#Rt6";
    for (size_t i = 0; i < 128; i++)
        pw[i] = base[i % 12];
    pw[128] = '\0';
    assert_int_equal(password_check_policy(pw, EMAIL, 12), GH_OK);
    pw[128] = 'x';
    pw[129] = '\0';
    assert_int_equal(password_check_policy(pw, EMAIL, 12), GH_ERR_PASSWORD_TOO_LONG);
}

static void test_password_128_multibyte_ok_129_too_long(void **state)
{
    (void)state;
    char pw[1024];
    assert_int_equal(password_check_policy(repeat_seq(pw, E_ACUTE, 128), EMAIL, 12), GH_OK);
    assert_int_equal(password_check_policy(repeat_seq(pw, E_ACUTE, 129), EMAIL, 12),
                     GH_ERR_PASSWORD_TOO_LONG);
    assert_int_equal(password_check_policy(repeat_seq(pw, "\xf0\x9f\x98\x80", 128), EMAIL, 12),
                     GH_OK);
}

static void test_password_rejects_common_case_insensitively(void **state)
{
    (void)state;
    assert_true(password_is_common("password"));
    assert_true(password_is_common("Password"));
    assert_true(password_is_common("PASSWORD"));
    assert_true(password_is_common("qwerty"));
    assert_true(password_is_common("QwErTy"));
    assert_true(password_is_common("iloveyou"));
    assert_true(password_is_common("ILoveYou"));
}

static void test_password_common_list_first_and_last_entries(void **state)
{
    (void)state;
    /* Entries at both ends of the sorted list are found too. */
    assert_true(password_is_common("!qaz2wsx"));
    assert_true(password_is_common("zzzzzzz1"));
}

static void test_password_long_random_phrase_not_common(void **state)
{
    (void)state;
    assert_false(password_is_common("correct-horse-battery-staple-9Xq"));
    assert_false(password_is_common("Vx7#kq2Lm9pZ"));
    assert_false(password_is_common(""));
    assert_false(password_is_common("passwordX7qk"));
    assert_false(password_is_common("password\n"));
}

static void test_password_policy_rejects_common(void **state)
{
    (void)state;
    /* Common passwords of at least 12 characters exist in the list. */
    assert_true(password_is_common("qwertyuiop123"));
    assert_int_equal(password_check_policy("QwertyUiop123", EMAIL, 12), GH_ERR_PASSWORD_COMMON);
    assert_int_equal(password_check_policy("Password", EMAIL, 8), GH_ERR_PASSWORD_COMMON);
}

static void test_password_rejects_email_local_part_case_insensitively(void **state)
{
    (void)state;
    assert_int_equal(password_check_policy("xx-someone-2024!", "someone@example.com", 12),
                     GH_ERR_PASSWORD_CONTAINS_EMAIL);
    assert_int_equal(password_check_policy("xx-SomeOne-2024!", "someone@example.com", 12),
                     GH_ERR_PASSWORD_CONTAINS_EMAIL);
    assert_int_equal(password_check_policy("someone-9Xq!kk", "someone@example.com", 12),
                     GH_ERR_PASSWORD_CONTAINS_EMAIL);
    assert_int_equal(password_check_policy("Vx7#kq2-bob", "bob@example.com", 8),
                     GH_ERR_PASSWORD_CONTAINS_EMAIL);
}

static void test_password_email_local_part_under_3_chars_ignored(void **state)
{
    (void)state;
    assert_int_equal(password_check_policy("Vx7#kq2-jo-Lm9", "jo@example.com", 12), GH_OK);
    assert_int_equal(password_check_policy("Vx7#kq2-a-Lm9", "a@example.com", 12), GH_OK);
}

static void test_password_domain_is_not_the_local_part(void **state)
{
    (void)state;
    /* Only the local part counts; a password with the domain in it is fine. */
    assert_int_equal(password_check_policy("Vx7#example.com", "someone@example.com", 12), GH_OK);
    assert_int_equal(password_check_policy("Vx7#kq2Lm9pZ", NULL, 12), GH_OK);
}

static void test_password_hash_verify_round_trip(void **state)
{
    (void)state;
    char hash[256];
    assert_int_equal(password_hash("Vx7#kq2Lm9pZ", 1, 8192, hash, sizeof hash), GH_OK);
    assert_true(strncmp(hash, "$argon2id$v=19$m=8192,t=1,p=1$", 30) == 0);
    assert_int_equal(password_verify("Vx7#kq2Lm9pZ", hash), GH_OK);
}

static void test_password_verify_wrong_password_is_invalid_credentials(void **state)
{
    (void)state;
    char hash[256];
    assert_int_equal(password_hash("Vx7#kq2Lm9pZ", 1, 8192, hash, sizeof hash), GH_OK);
    assert_int_equal(password_verify("Vx7#kq2Lm9pz", hash), GH_ERR_INVALID_CREDENTIALS);
    assert_int_equal(password_verify("", hash), GH_ERR_INVALID_CREDENTIALS);
    assert_int_equal(password_verify("Vx7#kq2Lm9pZ", "not a hash"), GH_ERR_INVALID_CREDENTIALS);
    assert_int_equal(password_verify("Vx7#kq2Lm9pZ", ""), GH_ERR_INVALID_CREDENTIALS);
}

static void test_password_hash_is_salted(void **state)
{
    (void)state;
    char h1[256], h2[256];
    assert_int_equal(password_hash("Vx7#kq2Lm9pZ", 1, 8192, h1, sizeof h1), GH_OK);
    assert_int_equal(password_hash("Vx7#kq2Lm9pZ", 1, 8192, h2, sizeof h2), GH_OK);
    assert_string_not_equal(h1, h2);
}

static void test_password_hash_multibyte_round_trip(void **state)
{
    (void)state;
    char hash[256], pw[64];
    repeat_seq(pw, E_ACUTE, 12);
    assert_int_equal(password_hash(pw, 1, 8192, hash, sizeof hash), GH_OK);
    assert_int_equal(password_verify(pw, hash), GH_OK);
}

static void test_password_hash_small_output_buffer_refused(void **state)
{
    (void)state;
    char hash[16];
    assert_int_not_equal(password_hash("Vx7#kq2Lm9pZ", 1, 8192, hash, sizeof hash), GH_OK);
}

static void test_utf8_length_counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(utf8_length(""), 0);
    assert_int_equal(utf8_length("abc"), 3);
    assert_int_equal(utf8_length(E_ACUTE), 1);
    assert_int_equal(utf8_length("caf" E_ACUTE), 4);
    assert_int_equal(utf8_length("\xe2\x82\xac"), 1); /* € */
    assert_int_equal(utf8_length("\xf0\x9f\x98\x80"
                                 "a"),
                     2); /* U+1F600 a */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_11_chars_too_short_with_min_12),
        cmocka_unit_test(test_password_12_chars_ok_with_min_12),
        cmocka_unit_test(test_password_min_8_respected),
        cmocka_unit_test(test_password_empty_too_short),
        cmocka_unit_test(test_password_length_counts_code_points),
        cmocka_unit_test(test_password_128_chars_ok_129_too_long),
        cmocka_unit_test(test_password_128_multibyte_ok_129_too_long),
        cmocka_unit_test(test_password_rejects_common_case_insensitively),
        cmocka_unit_test(test_password_common_list_first_and_last_entries),
        cmocka_unit_test(test_password_long_random_phrase_not_common),
        cmocka_unit_test(test_password_policy_rejects_common),
        cmocka_unit_test(test_password_rejects_email_local_part_case_insensitively),
        cmocka_unit_test(test_password_email_local_part_under_3_chars_ignored),
        cmocka_unit_test(test_password_domain_is_not_the_local_part),
        cmocka_unit_test(test_password_hash_verify_round_trip),
        cmocka_unit_test(test_password_verify_wrong_password_is_invalid_credentials),
        cmocka_unit_test(test_password_hash_is_salted),
        cmocka_unit_test(test_password_hash_multibyte_round_trip),
        cmocka_unit_test(test_password_hash_small_output_buffer_refused),
        cmocka_unit_test(test_utf8_length_counts_code_points),
    };
    return cmocka_run_group_tests_name("password", tests, setup_list, teardown_list);
}
