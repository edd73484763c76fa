/* Process-wide counters for GET /metrics (Prometheus text format): requests by route, method
 * and status, a latency histogram, and login outcomes. Lock-free (relaxed atomics); the only
 * global mutable state besides struct app, since every thread adds to it. */
#ifndef GH_METRICS_H
#define GH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Counts a finished request. route_index is the route's position in the table, or -1 when no
 * route matched; us is its duration in microseconds. */
void metrics_request(int route_index, unsigned status, int64_t us);
/* Counts a login that succeeded or failed (wrong password, unknown email, inactive). */
void metrics_login(bool ok);
/* Counts a connection refused for its address's cap, or closed past its deadline. */
void metrics_connection_refused(void);
void metrics_connection_timed_out(void);

/* Appends the counters in Prometheus text format. route_path(i) and route_method(i) name the
 * routes; n is their number. */
GH_MUST_CHECK gh_status metrics_render(struct buf *out, size_t n,
                                       const char *(*route_path)(size_t i),
                                       const char *(*route_method)(size_t i));

#endif
