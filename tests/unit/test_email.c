/* Email address normalisation and name trimming (core/email.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/email.h"

static void expect_email(const char *in, const char *want)
{
    char out[EMAIL_MAX + 1];
    gh_status st = email_normalize(in, out);
    if (st != GH_OK)
        fail_msg("\"%s\" was rejected (status %d)", in, st);
    assert_string_equal(out, want);
}

static void expect_bad_email(const char *in)
{
    char out[EMAIL_MAX + 1];
    gh_status st = email_normalize(in, out);
    if (st != GH_ERR_INVALID_EMAIL)
        fail_msg("\"%s\" gave status %d, want GH_ERR_INVALID_EMAIL", in, st);
}

/* Writes n copies of c into s and terminates it. */
static char *repeat(char *s, char c, size_t n)
{
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_email_accepts_ordinary_addresses(void **state)
{
    (void)state;
    expect_email("alice@example.com", "alice@example.com");
    expect_email("a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk");
    expect_email("first_last-99@my-host.example", "first_last-99@my-host.example");
    expect_email("x@a.io", "x@a.io");
}

static void test_email_trims_and_lower_cases(void **state)
{
    (void)state;
    expect_email("  Alice.Smith@Example.COM \t\n", "alice.smith@example.com");
}

static void test_email_rejects_missing_at(void **state)
{
    (void)state;
    expect_bad_email("alice.example.com");
    expect_bad_email("");
    expect_bad_email("   ");
}

static void test_email_rejects_two_at_signs(void **state)
{
    (void)state;
    expect_bad_email("alice@bob@example.com");
    expect_bad_email("alice@@example.com");
}

static void test_email_rejects_empty_local_part(void **state)
{
    (void)state;
    expect_bad_email("@example.com");
}

static void test_email_rejects_empty_domain(void **state)
{
    (void)state;
    expect_bad_email("alice@");
}

static void test_email_rejects_leading_trailing_and_double_dots(void **state)
{
    (void)state;
    expect_bad_email(".alice@example.com");
    expect_bad_email("alice.@example.com");
    expect_bad_email("al..ice@example.com");
    expect_bad_email("alice@.example.com");
    expect_bad_email("alice@example.com.");
    expect_bad_email("alice@example..com");
}

static void test_email_local_part_64_ok_65_rejected(void **state)
{
    (void)state;
    char local[80], addr[128];
    snprintf(addr, sizeof addr, "%s@example.com", repeat(local, 'a', 64));
    expect_email(addr, addr);
    snprintf(addr, sizeof addr, "%s@example.com", repeat(local, 'a', 65));
    expect_bad_email(addr);
}

static void test_email_rejects_domain_without_dot(void **state)
{
    (void)state;
    expect_bad_email("alice@localhost");
}

static void test_email_rejects_label_starting_or_ending_with_hyphen(void **state)
{
    (void)state;
    expect_bad_email("alice@-example.com");
    expect_bad_email("alice@example-.com");
    expect_bad_email("alice@example.-com");
    expect_bad_email("alice@example.com-");
    expect_email("alice@ex-ample.com", "alice@ex-ample.com");
}

static void test_email_rejects_spaces_inside(void **state)
{
    (void)state;
    expect_bad_email("ali ce@example.com");
    expect_bad_email("alice @example.com");
    expect_bad_email("alice@ example.com");
    expect_bad_email("alice@exa mple.com");
    expect_bad_email("alice\t@example.com");
}

static void test_email_rejects_non_ascii(void **state)
{
    (void)state;
    expect_bad_email("j\xc3\xb6rg@example.com");       /* jörg@ */
    expect_bad_email("jorg@b\xc3\xbc\x63her.example"); /* bücher */
}

static void test_email_rejects_special_characters(void **state)
{
    (void)state;
    expect_bad_email("alice<x>@example.com");
    expect_bad_email("\"alice\"@example.com");
    expect_bad_email("alice@exa_mple.com");
    expect_bad_email("alice(comment)@example.com");
    expect_bad_email("alice@[127.0.0.1]");
}

static void test_email_254_chars_ok_255_rejected(void **state)
{
    (void)state;
    /* 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 */
    char local[70], l1[70], l2[70], l3[70], addr[300];
    snprintf(addr, sizeof addr, "%s@%s.%s.%s", repeat(local, 'a', 64), repeat(l1, 'b', 63),
             repeat(l2, 'c', 63), repeat(l3, 'd', 61));
    assert_int_equal(strlen(addr), 254);
    expect_email(addr, addr);
    snprintf(addr, sizeof addr, "%s@%s.%s.%s", repeat(local, 'a', 64), repeat(l1, 'b', 63),
             repeat(l2, 'c', 63), repeat(l3, 'd', 62));
    assert_int_equal(strlen(addr), 255);
    expect_bad_email(addr);
}

static void test_email_rejects_very_long_input(void **state)
{
    (void)state;
    char addr[2100];
    repeat(addr, 'a', 2000);
    memcpy(addr + 1980, "@example.com", 13);
    expect_bad_email(addr);
}

static void test_email_length_is_checked_after_trimming(void **state)
{
    (void)state;
    char in[400];
    repeat(in, ' ', 300);
    strcat(in, "Ada@Example.com ");
    expect_email(in, "ada@example.com");
}

static void test_email_label_longer_than_63_rejected(void **state)
{
    (void)state;
    char label[80], addr[128];
    snprintf(addr, sizeof addr, "a@%s.com", repeat(label, 'b', 64));
    expect_bad_email(addr);
    snprintf(addr, sizeof addr, "a@%s.com", repeat(label, 'b', 63));
    expect_email(addr, addr);
}

/* ---- names ---- */

static void test_name_trims(void **state)
{
    (void)state;
    char out[NAME_MAX_BYTES + 1];
    assert_int_equal(name_normalize("  Ada Lovelace \t", out), GH_OK);
    assert_string_equal(out, "Ada Lovelace");
}

static void test_name_empty_or_whitespace_is_empty(void **state)
{
    (void)state;
    char out[NAME_MAX_BYTES + 1];
    assert_int_equal(name_normalize("", out), GH_ERR_EMPTY);
    assert_int_equal(name_normalize("   ", out), GH_ERR_EMPTY);
    assert_int_equal(name_normalize(" \t\n ", out), GH_ERR_EMPTY);
}

static void test_name_150_chars_ok_151_too_long(void **state)
{
    (void)state;
    char in[200], out[NAME_MAX_BYTES + 1];
    assert_int_equal(name_normalize(repeat(in, 'x', 150), out), GH_OK);
    assert_int_equal(strlen(out), 150);
    assert_int_equal(name_normalize(repeat(in, 'x', 151), out), GH_ERR_TOO_LONG);
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

static void test_name_counts_multibyte_characters(void **state)
{
    (void)state;
    char in[800], out[NAME_MAX_BYTES + 1];
    assert_int_equal(name_normalize(repeat_seq(in, "\xc3\xa9", 150), out), GH_OK); /* é */
    assert_string_equal(out, in);
    assert_int_equal(name_normalize(repeat_seq(in, "\xc3\xa9", 151), out), GH_ERR_TOO_LONG);
    assert_int_equal(name_normalize(repeat_seq(in, "\xe2\x82\xac", 150), out), GH_OK); /* € */
    assert_int_equal(name_normalize(repeat_seq(in, "\xf0\x9f\x98\x80", 150), out),
                     GH_OK); /* U+1F600, 600 bytes */
    assert_int_equal(name_normalize(repeat_seq(in, "\xf0\x9f\x98\x80", 151), out), GH_ERR_TOO_LONG);
}

static void test_name_rejects_control_characters(void **state)
{
    (void)state;
    char out[NAME_MAX_BYTES + 1];
    assert_int_equal(name_normalize("Ada\nLovelace", out), GH_ERR_INVALID_CHARACTERS);
    assert_int_equal(name_normalize("Ada\tLovelace", out), GH_ERR_INVALID_CHARACTERS);
    assert_int_equal(name_normalize("Ada\x01", out), GH_ERR_INVALID_CHARACTERS);
    assert_int_equal(name_normalize("Ada\x7f", out), GH_ERR_INVALID_CHARACTERS);
    assert_int_equal(name_normalize("\x1b[31mAda", out), GH_ERR_INVALID_CHARACTERS);
}

static void test_name_keeps_inner_spaces_and_punctuation(void **state)
{
    (void)state;
    char out[NAME_MAX_BYTES + 1];
    assert_int_equal(name_normalize("Jean-Luc O'Neil", out), GH_OK);
    assert_string_equal(out, "Jean-Luc O'Neil");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_accepts_ordinary_addresses),
        cmocka_unit_test(test_email_trims_and_lower_cases),
        cmocka_unit_test(test_email_rejects_missing_at),
        cmocka_unit_test(test_email_rejects_two_at_signs),
        cmocka_unit_test(test_email_rejects_empty_local_part),
        cmocka_unit_test(test_email_rejects_empty_domain),
        cmocka_unit_test(test_email_rejects_leading_trailing_and_double_dots),
        cmocka_unit_test(test_email_local_part_64_ok_65_rejected),
        cmocka_unit_test(test_email_rejects_domain_without_dot),
        cmocka_unit_test(test_email_rejects_label_starting_or_ending_with_hyphen),
        cmocka_unit_test(test_email_rejects_spaces_inside),
        cmocka_unit_test(test_email_rejects_non_ascii),
        cmocka_unit_test(test_email_rejects_special_characters),
        cmocka_unit_test(test_email_254_chars_ok_255_rejected),
        cmocka_unit_test(test_email_rejects_very_long_input),
        cmocka_unit_test(test_email_length_is_checked_after_trimming),
        cmocka_unit_test(test_email_label_longer_than_63_rejected),
        cmocka_unit_test(test_name_trims),
        cmocka_unit_test(test_name_empty_or_whitespace_is_empty),
        cmocka_unit_test(test_name_150_chars_ok_151_too_long),
        cmocka_unit_test(test_name_counts_multibyte_characters),
        cmocka_unit_test(test_name_rejects_control_characters),
        cmocka_unit_test(test_name_keeps_inner_spaces_and_punctuation),
    };
    return cmocka_run_group_tests_name("email", tests, NULL, NULL);
}
