/* Which next values a provider login keeps (core/oidc.h oidc_next_is_safe): relative paths of
 * the frontend only, so a login can never land on another site. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/oidc.h"

static void test_next_keeps_relative_paths(void **state)
{
    (void)state;
    assert_true(oidc_next_is_safe("/"));
    assert_true(oidc_next_is_safe("/welcome"));
    assert_true(oidc_next_is_safe("/search?q=a%26b&page=2#results"));
    assert_true(oidc_next_is_safe("/caf\xc3\xa9"));
}

static void test_next_refuses_other_sites(void **state)
{
    (void)state;
    assert_false(oidc_next_is_safe(NULL));
    assert_false(oidc_next_is_safe(""));
    assert_false(oidc_next_is_safe("//evil.example"));
    assert_false(oidc_next_is_safe("/\\evil.example"));
    assert_false(oidc_next_is_safe("\\/evil.example"));
    assert_false(oidc_next_is_safe("https://evil.example"));
    assert_false(oidc_next_is_safe("javascript:alert(1)"));
    assert_false(oidc_next_is_safe("evil.example"));
    assert_false(oidc_next_is_safe(" /x"));
    assert_false(oidc_next_is_safe("/a\\b"));
}

static void test_next_refuses_control_characters_and_bad_utf8(void **state)
{
    (void)state;
    assert_false(oidc_next_is_safe("/a\r\nSet-Cookie: x=1"));
    assert_false(oidc_next_is_safe("/a\tb"));
    assert_false(oidc_next_is_safe("/a\x7f"));
    assert_false(oidc_next_is_safe("/\xff\xfe"));
    assert_false(oidc_next_is_safe("/\xc0\xaf"));     /* overlong "/" */
    assert_false(oidc_next_is_safe("/\xed\xa0\x80")); /* a surrogate */
}

static void test_next_must_fit_the_state(void **state)
{
    (void)state;
    char next[NEXT_PATH_MAX + 1];
    memset(next, 'a', sizeof next);
    next[0] = '/';
    next[NEXT_PATH_MAX - 1] = '\0';
    assert_true(oidc_next_is_safe(next));
    next[NEXT_PATH_MAX - 1] = 'a';
    next[NEXT_PATH_MAX] = '\0';
    assert_false(oidc_next_is_safe(next));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_keeps_relative_paths),
        cmocka_unit_test(test_next_refuses_other_sites),
        cmocka_unit_test(test_next_refuses_control_characters_and_bad_utf8),
        cmocka_unit_test(test_next_must_fit_the_state),
    };
    return cmocka_run_group_tests_name("oidc", tests, NULL, NULL);
}
