/* Wall-clock helpers: unix seconds and RFC 3339 formatting. */
#ifndef GH_TIMEUTIL_H
#define GH_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

#define RFC3339_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

int64_t time_now(void);
/* Monotonic milliseconds, for durations only. */
int64_t time_mono_ms(void);
int64_t time_mono_us(void);
/* A time_mono_us() value as a timespec, for waits on a condition variable set to
 * CLOCK_MONOTONIC. */
struct timespec time_mono_timespec(int64_t us);
/* The times time_format_rfc3339 can write: 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define RFC3339_MIN (-62167219200LL)
#define RFC3339_MAX 253402300799LL
/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out; a time outside [RFC3339_MIN,
 * RFC3339_MAX] as the nearer of the two. Takes no lock. */
void time_format_rfc3339(int64_t t, char out[RFC3339_LEN + 1]);

#endif
