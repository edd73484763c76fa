#define _GNU_SOURCE /* memmem */
/* Secrets do not outlive their use in freed memory: buffers (request bodies) wipe what they let
 * go of when they grow and when freed, and so does jansson after secret_wipe_json_memory().
 * Linked with -Wl,--wrap=free: every free() of gatehouse's code passes through __wrap_free
 * below, which looks for the secret in the block before it is released. */
#include <jansson.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/buf.h"
#include "util/secret.h"

void __real_free(void *p);
void __wrap_free(void *p);

static const char secret[] = "correct horse battery staple 42";
static int freed_with_secret; /* blocks freed while still holding the secret */
static int freed_blocks;

void __wrap_free(void *p)
{
    if (p) {
        size_t n = malloc_usable_size(p);
        freed_blocks++;
        if (n >= sizeof secret - 1 && memmem(p, n, secret, sizeof secret - 1))
            freed_with_secret++;
    }
    __real_free(p);
}

static int reset(void **state)
{
    (void)state;
    freed_with_secret = 0;
    freed_blocks = 0;
    return 0;
}

static void test_buf_wipes_the_block_it_outgrows(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(buf_append_str(&b, secret), GH_OK);
    for (int i = 0; i < 100; i++) /* grows several times past the first block */
        assert_int_equal(buf_append_str(&b, "padding padding padding"), GH_OK);
    assert_true(freed_blocks > 0);
    assert_int_equal(freed_with_secret, 0);
    buf_free(&b);
    assert_int_equal(freed_with_secret, 0);
}

static void test_buf_free_wipes(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(buf_append_str(&b, secret), GH_OK);
    buf_free(&b);
    assert_int_equal(freed_blocks, 1);
    assert_int_equal(freed_with_secret, 0);
    assert_null(b.data);
}

static void test_parsed_json_is_wiped_when_freed(void **state)
{
    (void)state;
    secret_wipe_json_memory();
    char text[128];
    snprintf(text, sizeof text, "{\"email\":\"a@example.com\",\"password\":\"%s\"}", secret);
    json_t *body = json_loads(text, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "password")), secret);
    json_decref(body);
    assert_true(freed_blocks > 0);
    assert_int_equal(freed_with_secret, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_buf_wipes_the_block_it_outgrows, reset),
        cmocka_unit_test_setup(test_buf_free_wipes, reset),
        cmocka_unit_test_setup(test_parsed_json_is_wiped_when_freed, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
