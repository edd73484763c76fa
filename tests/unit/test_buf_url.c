/* The growable buffer (util/buf.h) and percent-encoding (util/url.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/buf.h"
#include "util/url.h"

/* ---- buf ---- */

static void test_buf_append_grows_and_terminates(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_null(b.data);
    assert_int_equal(buf_append(&b, "abc", 3), GH_OK);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(buf_append_str(&b, "def"), GH_OK);
    assert_string_equal(b.data, "abcdef");
    /* Many appends force several reallocations. */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_append(&b, "0123456789", 10), GH_OK);
    assert_int_equal(b.len, 6 + 10000);
    assert_int_equal(strlen(b.data), b.len);
    assert_true(b.cap > b.len);
    assert_memory_equal(b.data + b.len - 10, "0123456789", 10);
    buf_free(&b);
}

static void test_buf_append_keeps_binary_bytes(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(buf_append(&b, "a\0b", 3), GH_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4);
    buf_free(&b);
}

static void test_buf_append_empty_gives_empty_string(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(buf_append(&b, "", 0), GH_OK);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_buf_printf_appends_formatted(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(buf_append_str(&b, "x="), GH_OK);
    assert_int_equal(buf_printf(&b, "%d, s=%s", 42, "hi"), GH_OK);
    assert_string_equal(b.data, "x=42, s=hi");
    assert_int_equal(b.len, strlen("x=42, s=hi"));
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", big), GH_OK);
    assert_int_equal(b.len, strlen("x=42, s=hi") + 2 + sizeof big - 1);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
}

static void test_buf_limit_is_busy_and_leaves_data_unchanged(void **state)
{
    (void)state;
    struct buf b = {.limit = 8};
    assert_int_equal(buf_append_str(&b, "12345"), GH_OK);
    assert_int_equal(buf_append_str(&b, "6789"), GH_ERR_TOO_LARGE);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(buf_printf(&b, "%s", "abcd"), GH_ERR_TOO_LARGE);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    /* Filling exactly up to the limit is allowed. */
    assert_int_equal(buf_append_str(&b, "678"), GH_OK);
    assert_string_equal(b.data, "12345678");
    assert_int_equal(buf_append(&b, "9", 1), GH_ERR_TOO_LARGE);
    assert_string_equal(b.data, "12345678");
    buf_free(&b);
}

static void test_buf_limit_on_first_append(void **state)
{
    (void)state;
    struct buf b = {.limit = 4};
    assert_int_equal(buf_append_str(&b, "too long"), GH_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_buf_free_resets_and_keeps_limit(void **state)
{
    (void)state;
    struct buf b = {.limit = 100};
    assert_int_equal(buf_append_str(&b, "hello"), GH_OK);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.limit, 100);
    /* Reusable after free, and freeing twice or NULL is harmless. */
    assert_int_equal(buf_append_str(&b, "again"), GH_OK);
    assert_string_equal(b.data, "again");
    buf_free(&b);
    buf_free(&b);
    buf_free(NULL);
}

/* ---- url_percent_encode ---- */

static void test_url_encode_space_is_percent_20(void **state)
{
    (void)state;
    char out[64];
    url_percent_encode("a b", out, sizeof out);
    assert_string_equal(out, "a%20b");
}

static void test_url_encode_keeps_unreserved(void **state)
{
    (void)state;
    const char *s = "ABCXYZabcxyz0123456789-._~";
    char out[64];
    url_percent_encode(s, out, sizeof out);
    assert_string_equal(out, s);
}

static void test_url_encode_escapes_reserved(void **state)
{
    (void)state;
    char out[128];
    url_percent_encode("=&#+,/?", out, sizeof out);
    assert_string_equal(out, "%3D%26%23%2B%2C%2F%3F");
    url_percent_encode("a@b.c:d%e", out, sizeof out);
    assert_string_equal(out, "a%40b.c%3Ad%25e");
}

static void test_url_encode_escapes_utf8_bytes(void **state)
{
    (void)state;
    char out[64];
    url_percent_encode("caf\xc3\xa9", out, sizeof out); /* "café" */
    assert_string_equal(out, "caf%C3%A9");
    url_percent_encode("\xe2\x82\xac", out, sizeof out); /* "€" */
    assert_string_equal(out, "%E2%82%AC");
}

static void test_url_encode_empty(void **state)
{
    (void)state;
    char out[4] = "zzz";
    url_percent_encode("", out, sizeof out);
    assert_string_equal(out, "");
}

static void test_url_encode_small_buffer_never_overflows(void **state)
{
    (void)state;
    const char *input = "a b=c&d\xc3\xa9~";
    char full[128];
    url_percent_encode(input, full, sizeof full);
    assert_string_equal(full, "a%20b%3Dc%26d%C3%A9~");
    for (size_t cap = 1; cap <= strlen(full) + 1; cap++) {
        char out[64];
        memset(out, '#', sizeof out);
        url_percent_encode(input, out, cap);
        size_t n = strlen(out);
        assert_true(n < cap);
        /* Bytes past cap untouched. */
        for (size_t i = cap; i < sizeof out; i++)
            assert_int_equal(out[i], '#');
        /* What was written is a prefix of the full encoding... */
        assert_memory_equal(out, full, n);
        /* ...that never ends inside an escape. */
        if (n >= 1)
            assert_int_not_equal(out[n - 1], '%');
        if (n >= 2)
            assert_int_not_equal(out[n - 2], '%');
    }
}

static void test_url_encode_zero_capacity_writes_nothing(void **state)
{
    (void)state;
    char out[1] = {'#'};
    url_percent_encode("abc", out, 0);
    assert_int_equal(out[0], '#');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_grows_and_terminates),
        cmocka_unit_test(test_buf_append_keeps_binary_bytes),
        cmocka_unit_test(test_buf_append_empty_gives_empty_string),
        cmocka_unit_test(test_buf_printf_appends_formatted),
        cmocka_unit_test(test_buf_limit_is_busy_and_leaves_data_unchanged),
        cmocka_unit_test(test_buf_limit_on_first_append),
        cmocka_unit_test(test_buf_free_resets_and_keeps_limit),
        cmocka_unit_test(test_url_encode_space_is_percent_20),
        cmocka_unit_test(test_url_encode_keeps_unreserved),
        cmocka_unit_test(test_url_encode_escapes_reserved),
        cmocka_unit_test(test_url_encode_escapes_utf8_bytes),
        cmocka_unit_test(test_url_encode_empty),
        cmocka_unit_test(test_url_encode_small_buffer_never_overflows),
        cmocka_unit_test(test_url_encode_zero_capacity_writes_nothing),
    };
    return cmocka_run_group_tests_name("buf_url", tests, NULL, NULL);
}
