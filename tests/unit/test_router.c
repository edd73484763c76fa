/* Route matching against the real route table (http/router.h, api/routes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/api.h"
#include "http/router.h"

static enum route_match find(const char *method, const char *path, const struct route **r,
                             char *allow, size_t allow_cap)
{
    char param[64];
    *r = NULL;
    return router_find(api_routes, api_route_count, method, path, r, param, sizeof param, allow,
                       allow_cap);
}

static void test_router_login_post_found(void **state)
{
    (void)state;
    const struct route *r;
    char allow[64];
    assert_int_equal(find("POST", "/users/login", &r, allow, sizeof allow), ROUTE_FOUND);
    assert_non_null(r);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, "/users/login");
    assert_non_null(r->handler);
    assert_true(r->flags & ROUTE_JSON_BODY);
    assert_true(r->flags & ROUTE_ORIGIN_CHECK);
}

static void test_router_login_get_is_no_method_allow_post(void **state)
{
    (void)state;
    const struct route *r;
    char allow[64];
    assert_int_equal(find("GET", "/users/login", &r, allow, sizeof allow), ROUTE_NO_METHOD);
    assert_string_equal(allow, "POST");
    assert_int_equal(find("DELETE", "/users/login", &r, allow, sizeof allow), ROUTE_NO_METHOD);
    assert_string_equal(allow, "POST");
}

static void test_router_unknown_path_is_no_path(void **state)
{
    (void)state;
    const struct route *r;
    char allow[64];
    assert_int_equal(find("GET", "/nope", &r, allow, sizeof allow), ROUTE_NO_PATH);
    assert_string_equal(allow, "");
    assert_int_equal(find("POST", "/users/login/extra", &r, allow, sizeof allow), ROUTE_NO_PATH);
    assert_int_equal(find("POST", "/users/logi", &r, allow, sizeof allow), ROUTE_NO_PATH);
    assert_int_equal(find("POST", "/Users/Login", &r, allow, sizeof allow), ROUTE_NO_PATH);
    assert_int_equal(find("GET", "", &r, allow, sizeof allow), ROUTE_NO_PATH);
}

static void test_router_head_on_get_route_found(void **state)
{
    (void)state;
    const struct route *r;
    char allow[64];
    assert_int_equal(find("HEAD", "/health-check", &r, allow, sizeof allow), ROUTE_FOUND);
    assert_non_null(r);
    assert_string_equal(r->method, "GET");
    assert_int_equal(find("HEAD", "/users/current-user", &r, allow, sizeof allow), ROUTE_FOUND);
}

static void test_router_head_on_post_route_is_no_method(void **state)
{
    (void)state;
    const struct route *r;
    char allow[64];
    assert_int_equal(find("HEAD", "/users/login", &r, allow, sizeof allow), ROUTE_NO_METHOD);
    assert_string_equal(allow, "POST");
}

static void test_router_every_route_is_found_by_its_method(void **state)
{
    (void)state;
    assert_true(api_route_count > 0);
    for (size_t i = 0; i < api_route_count; i++) {
        const struct route *r;
        char allow[64];
        assert_int_equal(find(api_routes[i].method, api_routes[i].path, &r, allow, sizeof allow),
                         ROUTE_FOUND);
        assert_ptr_equal(r, &api_routes[i]);
    }
}

static void test_router_small_allow_buffer_does_not_overflow(void **state)
{
    (void)state;
    const struct route *r;
    char allow[8];
    memset(allow, '#', sizeof allow);
    enum route_match m = find("GET", "/users/login", &r, allow, 3);
    assert_int_equal(m, ROUTE_NO_METHOD);
    assert_true(strlen(allow) < 3);
    for (size_t i = 3; i < sizeof allow; i++)
        assert_int_equal(allow[i], '#');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_login_post_found),
        cmocka_unit_test(test_router_login_get_is_no_method_allow_post),
        cmocka_unit_test(test_router_unknown_path_is_no_path),
        cmocka_unit_test(test_router_head_on_get_route_found),
        cmocka_unit_test(test_router_head_on_post_route_is_no_method),
        cmocka_unit_test(test_router_every_route_is_found_by_its_method),
        cmocka_unit_test(test_router_small_allow_buffer_does_not_overflow),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
