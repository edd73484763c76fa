/* UTF-8 validation and the small JSON writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "core/password.h"
#include "util/jsonw.h"

static void test_utf8_accepts_ascii_and_multibyte(void **state)
{
    (void)state;
    assert_true(utf8_is_valid(""));
    assert_true(utf8_is_valid("Ada Lovelace"));
    assert_true(utf8_is_valid("Ren\xc3\xa9"
                              "e"));                        /* é */
    assert_true(utf8_is_valid("\xe6\x97\xa5\xe6\x9c\xac")); /* 日本 */
    assert_true(utf8_is_valid("\xf0\x9f\x98\x80"));         /* U+1F600 */
    assert_true(utf8_is_valid("\xf4\x8f\xbf\xbf"));         /* U+10FFFF */
}

static void test_utf8_rejects_malformed_sequences(void **state)
{
    (void)state;
    assert_false(utf8_is_valid("\xc3"));             /* truncated */
    assert_false(utf8_is_valid("\xc3("));            /* bad continuation */
    assert_false(utf8_is_valid("\x80"));             /* lone continuation */
    assert_false(utf8_is_valid("\xc0\xaf"));         /* overlong '/' */
    assert_false(utf8_is_valid("\xe0\x80\xaf"));     /* overlong, 3 bytes */
    assert_false(utf8_is_valid("\xed\xa0\x80"));     /* surrogate U+D800 */
    assert_false(utf8_is_valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
    assert_false(utf8_is_valid("\xff"));
    assert_false(utf8_is_valid("ok\xfe"));
}

/* Writes s with jsonw_string and parses it back with jansson. */
static void assert_round_trip(const char *s)
{
    struct buf b = {0};
    assert_int_equal(jsonw_string(&b, s), GH_OK);
    json_error_t err;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, &err);
    assert_non_null(v);
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), s);
    json_decref(v);
    buf_free(&b);
}

static void test_jsonw_escapes_quotes_backslashes_and_controls(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(jsonw_string(&b, "a\"b\\c\nd\x01"), GH_OK);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\u0001\"");
    buf_free(&b);
    assert_round_trip("plain");
    assert_round_trip("");
    assert_round_trip("tab\there\r\n</script>");
    assert_round_trip("Ren\xc3\xa9"
                      "e \xf0\x9f\x98\x80");
}

static void test_jsonw_null_for_empty_and_keys_with_commas(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(buf_append_str(&b, "{"), GH_OK);
    assert_int_equal(jsonw_key(&b, "a", true), GH_OK);
    assert_int_equal(jsonw_string_or_null(&b, ""), GH_OK);
    assert_int_equal(jsonw_key(&b, "b", false), GH_OK);
    assert_int_equal(jsonw_string_or_null(&b, "x"), GH_OK);
    assert_int_equal(buf_append_str(&b, "}"), GH_OK);
    assert_string_equal(b.data, "{\"a\":null,\"b\":\"x\"}");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_accepts_ascii_and_multibyte),
        cmocka_unit_test(test_utf8_rejects_malformed_sequences),
        cmocka_unit_test(test_jsonw_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(test_jsonw_null_for_empty_and_keys_with_commas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
