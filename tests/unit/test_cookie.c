/* The Set-Cookie values of the session and device cookies (http/cookie.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "config.h"
#include "config_table.h"
#include "http/cookie.h"

#define TOKEN "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK012-_"

static void test_cookie_session_default_form(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, TOKEN, out, sizeof out);
    assert_string_equal(out, "sessionid=" TOKEN "; HttpOnly; SameSite=Lax; Path=/");
}

static void test_cookie_session_has_no_max_age(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, TOKEN, out, sizeof out);
    assert_null(strstr(out, "Max-Age"));
    assert_null(strstr(out, "Expires"));
}

static void test_cookie_secure_for_https_public_url(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com/"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, TOKEN, out, sizeof out);
    assert_string_equal(out, "sessionid=" TOKEN "; HttpOnly; SameSite=Lax; Path=/; Secure");
}

static void test_cookie_not_secure_for_http_public_url(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "http://auth.example.com"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, TOKEN, out, sizeof out);
    assert_null(strstr(out, "Secure"));
}

static void test_cookie_secure_when_forced(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_COOKIE_SECURE", "true"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, TOKEN, out, sizeof out);
    assert_string_equal(out, "sessionid=" TOKEN "; HttpOnly; SameSite=Lax; Path=/; Secure");
}

static void test_cookie_not_secure_when_disabled_with_https(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"},
                          {"GATEHOUSE_COOKIE_SECURE", "false"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, TOKEN, out, sizeof out);
    assert_null(strstr(out, "Secure"));
}

static void test_cookie_removal_form(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, NULL, out, sizeof out);
    assert_string_equal(out, "sessionid=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/");
}

static void test_cookie_removal_form_secure(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, NULL, out, sizeof out);
    assert_string_equal(out, "sessionid=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/; Secure");
}

static void test_cookie_custom_name(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_COOKIE_NAME", "gh_sid"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[256];
    cookie_format_session(&cfg, TOKEN, out, sizeof out);
    assert_string_equal(out, "gh_sid=" TOKEN "; HttpOnly; SameSite=Lax; Path=/");
    cookie_format_session(&cfg, NULL, out, sizeof out);
    assert_string_equal(out, "gh_sid=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/");
}

static void test_cookie_small_buffer_is_terminated(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{NULL, NULL}};
    config_load_ok(&cfg, t);
    char out[32];
    memset(out, '#', sizeof out);
    cookie_format_session(&cfg, TOKEN, out, 16);
    assert_int_equal(strlen(out), 15);
    assert_int_equal(out[16], '#');
}

static void test_cookie_device_form(void **state)
{
    (void)state;
    struct config cfg;
    struct setting plain[] = {{NULL, NULL}};
    struct setting https[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"}, {NULL, NULL}};
    char out[256];
    config_load_ok(&cfg, plain);
    cookie_format_device(&cfg, "gh_device", "1.2.abc.def", 31536000, out, sizeof out);
    assert_string_equal(out, "gh_device=1.2.abc.def; Max-Age=31536000; HttpOnly; SameSite=Lax; "
                             "Path=/");
    config_load_ok(&cfg, https);
    cookie_format_device(&cfg, "gh_device", "1.2.abc.def", 60, out, sizeof out);
    assert_string_equal(out, "gh_device=1.2.abc.def; Max-Age=60; HttpOnly; SameSite=Lax; Path=/; "
                             "Secure");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_session_default_form),
        cmocka_unit_test(test_cookie_session_has_no_max_age),
        cmocka_unit_test(test_cookie_secure_for_https_public_url),
        cmocka_unit_test(test_cookie_not_secure_for_http_public_url),
        cmocka_unit_test(test_cookie_secure_when_forced),
        cmocka_unit_test(test_cookie_not_secure_when_disabled_with_https),
        cmocka_unit_test(test_cookie_removal_form),
        cmocka_unit_test(test_cookie_removal_form_secure),
        cmocka_unit_test(test_cookie_custom_name),
        cmocka_unit_test(test_cookie_small_buffer_is_terminated),
        cmocka_unit_test(test_cookie_device_form),
    };
    return cmocka_run_group_tests_name("cookie", tests, NULL, NULL);
}
