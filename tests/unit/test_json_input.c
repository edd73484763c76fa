/* Declarative JSON body decoding (http/json_input.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/json_input.h"

struct login_input {
    const char *email;
    const char *password;
    const char *nickname;
};

static const struct json_field login_fields[] = {
    JSON_FIELD(struct login_input, email, true, 254),
    JSON_FIELD(struct login_input, password, true, 8),
    JSON_FIELD(struct login_input, nickname, false, 5),
};
#define NFIELDS (sizeof login_fields / sizeof login_fields[0])

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad JSON in test: %s", e.text);
    return j;
}

static gh_status decode(json_t *j, struct login_input *in, const char **bad)
{
    memset(in, 0x5a, sizeof *in); /* garbage, so NULL outputs are really written */
    *bad = "unset";
    return json_input_decode(j, login_fields, NFIELDS, in, bad);
}

static void test_json_all_fields_decoded(void **state)
{
    (void)state;
    json_t *j = parse("{\"email\":\"a@example.com\",\"password\":\"secret\","
                      "\"nickname\":\"ann\"}");
    struct login_input in;
    const char *bad;
    assert_int_equal(decode(j, &in, &bad), GH_OK);
    assert_null(bad);
    assert_string_equal(in.email, "a@example.com");
    assert_string_equal(in.password, "secret");
    assert_string_equal(in.nickname, "ann");
    json_decref(j);
}

static void test_json_optional_absent_is_null(void **state)
{
    (void)state;
    json_t *j = parse("{\"email\":\"a@example.com\",\"password\":\"secret\"}");
    struct login_input in;
    const char *bad;
    assert_int_equal(decode(j, &in, &bad), GH_OK);
    assert_null(in.nickname);
    json_decref(j);
}

static void test_json_null_is_treated_as_absent(void **state)
{
    (void)state;
    json_t *j = parse("{\"email\":\"a@example.com\",\"password\":\"secret\",\"nickname\":null}");
    struct login_input in;
    const char *bad;
    assert_int_equal(decode(j, &in, &bad), GH_OK);
    assert_null(in.nickname);
    json_decref(j);
}

static void test_json_null_required_is_wrong_type_naming_field(void **state)
{
    (void)state;
    json_t *j = parse("{\"email\":\"a@example.com\",\"password\":null}");
    struct login_input in;
    const char *bad;
    gh_status st = decode(j, &in, &bad);
    assert_int_equal(st, GH_ERR_WRONG_TYPE);
    assert_string_equal(bad, "password");
    json_decref(j);
}

static void test_json_missing_required_names_field(void **state)
{
    (void)state;
    json_t *j = parse("{\"password\":\"secret\"}");
    struct login_input in;
    const char *bad;
    assert_int_equal(decode(j, &in, &bad), GH_ERR_MISSING_FIELD);
    assert_string_equal(bad, "email");
    json_decref(j);
    j = parse("{}");
    assert_int_equal(decode(j, &in, &bad), GH_ERR_MISSING_FIELD);
    assert_string_equal(bad, "email");
    json_decref(j);
}

static void test_json_number_is_wrong_type(void **state)
{
    (void)state;
    json_t *j = parse("{\"email\":\"a@example.com\",\"password\":12345678}");
    struct login_input in;
    const char *bad;
    assert_int_equal(decode(j, &in, &bad), GH_ERR_WRONG_TYPE);
    assert_string_equal(bad, "password");
    json_decref(j);
}

static void test_json_other_types_are_wrong_type(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{\"email\":true,\"password\":\"x\"}",
        "{\"email\":[\"a@example.com\"],\"password\":\"x\"}",
        "{\"email\":{\"v\":\"a\"},\"password\":\"x\"}",
        "{\"email\":1.5,\"password\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *j = parse(bodies[i]);
        struct login_input in;
        const char *bad;
        assert_int_equal(decode(j, &in, &bad), GH_ERR_WRONG_TYPE);
        assert_string_equal(bad, "email");
        json_decref(j);
    }
}

static void test_json_unknown_key_names_it(void **state)
{
    (void)state;
    json_t *j = parse("{\"email\":\"a@example.com\",\"password\":\"secret\",\"admin\":true}");
    struct login_input in;
    const char *bad;
    assert_int_equal(decode(j, &in, &bad), GH_ERR_UNKNOWN_FIELD);
    assert_string_equal(bad, "admin");
    json_decref(j);
}

static void test_json_too_long_counts_code_points(void **state)
{
    (void)state;
    struct login_input in;
    const char *bad;
    /* password max 8: 8 ASCII ok, 9 too long. */
    json_t *j = parse("{\"email\":\"a@example.com\",\"password\":\"12345678\"}");
    assert_int_equal(decode(j, &in, &bad), GH_OK);
    json_decref(j);
    j = parse("{\"email\":\"a@example.com\",\"password\":\"123456789\"}");
    assert_int_equal(decode(j, &in, &bad), GH_ERR_TOO_LONG);
    assert_string_equal(bad, "password");
    json_decref(j);
    /* 8 × "é" is 16 bytes but 8 code points: ok; 9 is too long. */
    j = parse("{\"email\":\"a@example.com\",\"password\":\"\\u00e9\\u00e9\\u00e9\\u00e9"
              "\\u00e9\\u00e9\\u00e9\\u00e9\"}");
    assert_int_equal(decode(j, &in, &bad), GH_OK);
    assert_int_equal(strlen(in.password), 16);
    json_decref(j);
    j = parse("{\"email\":\"a@example.com\",\"password\":\"\\u00e9\\u00e9\\u00e9\\u00e9"
              "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}");
    assert_int_equal(decode(j, &in, &bad), GH_ERR_TOO_LONG);
    assert_string_equal(bad, "password");
    json_decref(j);
    /* 8 emoji (4 bytes each, surrogate pairs in JSON) are 8 code points. */
    j = parse("{\"email\":\"a@example.com\",\"password\":\"\\ud83d\\ude00\\ud83d\\ude00"
              "\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
              "\\ud83d\\ude00\"}");
    assert_int_equal(decode(j, &in, &bad), GH_OK);
    json_decref(j);
}

static void test_json_optional_too_long(void **state)
{
    (void)state;
    json_t *j = parse("{\"email\":\"a@example.com\",\"password\":\"x\",\"nickname\":\"abcdef\"}");
    struct login_input in;
    const char *bad;
    assert_int_equal(decode(j, &in, &bad), GH_ERR_TOO_LONG);
    assert_string_equal(bad, "nickname");
    json_decref(j);
}

static void test_json_empty_string_is_present(void **state)
{
    (void)state;
    json_t *j = parse("{\"email\":\"\",\"password\":\"\"}");
    struct login_input in;
    const char *bad;
    assert_int_equal(decode(j, &in, &bad), GH_OK);
    assert_non_null(in.email);
    assert_string_equal(in.email, "");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_all_fields_decoded),
        cmocka_unit_test(test_json_optional_absent_is_null),
        cmocka_unit_test(test_json_null_is_treated_as_absent),
        cmocka_unit_test(test_json_null_required_is_wrong_type_naming_field),
        cmocka_unit_test(test_json_missing_required_names_field),
        cmocka_unit_test(test_json_number_is_wrong_type),
        cmocka_unit_test(test_json_other_types_are_wrong_type),
        cmocka_unit_test(test_json_unknown_key_names_it),
        cmocka_unit_test(test_json_too_long_counts_code_points),
        cmocka_unit_test(test_json_optional_too_long),
        cmocka_unit_test(test_json_empty_string_is_present),
    };
    return cmocka_run_group_tests_name("json_input", tests, NULL, NULL);
}
