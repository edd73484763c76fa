/* Wall-clock helpers. */
#include "timeutil.h"

#include <string.h>
#include <time.h>

int64_t time_now(void)
{
    return (int64_t)time(NULL);
}

int64_t time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes the last `width` decimal digits of v (v >= 0) at out. */
static void put_digits(char *out, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

/* The date is computed, not asked of gmtime_r, which takes glibc's time-zone lock: this runs
 * for every access-log line and user answer, on every thread at once. The civil date of a day
 * count is Howard Hinnant's days-to-civil algorithm for the proleptic Gregorian calendar. */
void time_format_rfc3339(int64_t t, char out[RFC3339_LEN + 1])
{
    if (t < RFC3339_MIN)
        t = RFC3339_MIN;
    if (t > RFC3339_MAX)
        t = RFC3339_MAX;
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    days += 719468; /* from 1970-01-01 to 0000-03-01 */
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;                                   /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* from March: [0, 11] */
    int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    memcpy(out, "0000-00-00T00:00:00Z", RFC3339_LEN + 1);
    put_digits(out, year, 4);
    put_digits(out + 5, month, 2);
    put_digits(out + 8, day, 2);
    put_digits(out + 11, secs / 3600, 2);
    put_digits(out + 14, secs / 60 % 60, 2);
    put_digits(out + 17, secs % 60, 2);
}

int64_t time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct timespec time_mono_timespec(int64_t us)
{
    return (struct timespec){.tv_sec = (time_t)(us / 1000000),
                             .tv_nsec = (long)(us % 1000000) * 1000};
}
