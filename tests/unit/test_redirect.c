/* The ?reason= texts of the frontend redirects (api/common.c): what a naive frontend sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/api.h"
#include "util/url.h"

/* Letters, digits, spaces and full stops: nothing a frontend that decodes only %20 trips on,
 * and none of the = & # + that SPEC §1 keeps out of reasons. */
static int is_plain(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '.';
}

static void test_redirect_no_reason_has_no_text(void **state)
{
    (void)state;
    assert_null(redirect_reason_text(REASON_NONE));
}

static void test_redirect_every_reason_is_a_plain_sentence(void **state)
{
    (void)state;
    for (int r = REASON_NONE + 1; r < REDIRECT_REASON_COUNT; r++) {
        const char *text = redirect_reason_text((enum redirect_reason)r);
        assert_non_null(text);
        assert_true(strlen(text) > 10);
        for (const char *p = text; *p; p++) {
            if (!is_plain(*p))
                fail_msg("reason %d has %c at %zu: %s", r, *p, (size_t)(p - text), text);
        }
        assert_int_equal(text[strlen(text) - 1], '.');
    }
}

static void test_redirect_every_encoded_reason_escapes_only_spaces(void **state)
{
    (void)state;
    for (int r = REASON_NONE + 1; r < REDIRECT_REASON_COUNT; r++) {
        const char *text = redirect_reason_text((enum redirect_reason)r);
        char encoded[REDIRECT_REASON_ENCODED_MAX * 2];
        url_percent_encode(text, encoded, sizeof encoded);
        /* Fits the Location buffer whole: a cut reason would be a cut sentence. */
        assert_true(strlen(encoded) < REDIRECT_REASON_ENCODED_MAX);
        for (const char *p = strchr(encoded, '%'); p; p = strchr(p + 1, '%')) {
            if (strncmp(p, "%20", 3))
                fail_msg("reason %d encodes to %.3s: %s", r, p, encoded);
        }
    }
}

static void test_redirect_reason_out_of_range_has_no_text(void **state)
{
    (void)state;
    assert_null(redirect_reason_text(REDIRECT_REASON_COUNT));
    assert_null(redirect_reason_text((enum redirect_reason) - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redirect_no_reason_has_no_text),
        cmocka_unit_test(test_redirect_every_reason_is_a_plain_sentence),
        cmocka_unit_test(test_redirect_every_encoded_reason_escapes_only_spaces),
        cmocka_unit_test(test_redirect_reason_out_of_range_has_no_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
