/* util/timeutil.c: RFC 3339 formatting, computed without gmtime_r, must write the date gmtime_r
 * gives, across the whole range it covers; times outside it are clamped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/timeutil.h"

/* t as the C library's gmtime_r reads it (strftime's %Y would not pad years before 1000). */
static void libc_rfc3339(int64_t t, char out[RFC3339_LEN + 1])
{
    time_t tt = (time_t)t;
    struct tm tm;
    assert_non_null(gmtime_r(&tt, &tm));
    assert_int_equal(snprintf(out, RFC3339_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec),
                     RFC3339_LEN);
}

static void assert_as_libc(int64_t t)
{
    char got[RFC3339_LEN + 1], want[RFC3339_LEN + 1];
    time_format_rfc3339(t, got);
    libc_rfc3339(t, want);
    if (strcmp(got, want)) {
        fprintf(stderr, "t=%lld: got %s, want %s\n", (long long)t, got, want);
        fail();
    }
}

static void test_rfc3339_known_instants(void **state)
{
    (void)state;
    const struct {
        int64_t t;
        const char *text;
    } known[] = {
        {0, "1970-01-01T00:00:00Z"},           {-1, "1969-12-31T23:59:59Z"},
        {951782400, "2000-02-29T00:00:00Z"},   {951868800, "2000-03-01T00:00:00Z"},
        {1700000000, "2023-11-14T22:13:20Z"},  {4107456000, "2100-02-28T00:00:00Z"},
        {4107542400, "2100-03-01T00:00:00Z"},  {-2203891200, "1900-03-01T00:00:00Z"},
        {RFC3339_MIN, "0000-01-01T00:00:00Z"}, {RFC3339_MAX, "9999-12-31T23:59:59Z"},
    };
    char out[RFC3339_LEN + 1];
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        time_format_rfc3339(known[i].t, out);
        assert_string_equal(out, known[i].text);
    }
}

static void test_rfc3339_agrees_with_gmtime_everywhere(void **state)
{
    (void)state;
    /* every day boundary and a second either side over 1960..2110, then a stride through the
     * whole range that visits every second of the day and every day of the 400-year cycle */
    for (int64_t day = -3653; day <= 51500; day++)
        for (int64_t d = -1; d <= 1; d++)
            assert_as_libc(day * 86400 + d);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        int64_t span = RFC3339_MAX - RFC3339_MIN + 1;
        assert_as_libc(RFC3339_MIN + (int64_t)(x % (uint64_t)span));
    }
}

static void test_rfc3339_clamps_what_four_digits_cannot_hold(void **state)
{
    (void)state;
    char out[RFC3339_LEN + 1];
    time_format_rfc3339(RFC3339_MIN - 1, out);
    assert_string_equal(out, "0000-01-01T00:00:00Z");
    time_format_rfc3339(INT64_MIN, out);
    assert_string_equal(out, "0000-01-01T00:00:00Z");
    time_format_rfc3339(RFC3339_MAX + 1, out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
    time_format_rfc3339(INT64_MAX, out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_known_instants),
        cmocka_unit_test(test_rfc3339_agrees_with_gmtime_everywhere),
        cmocka_unit_test(test_rfc3339_clamps_what_four_digits_cannot_hold),
    };
    return cmocka_run_group_tests_name("timeutil", tests, NULL, NULL);
}
