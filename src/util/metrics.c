/* Request, latency and login counters. */
#include "metrics.h"

#include <stdatomic.h>

#define METRICS_MAX_ROUTES 64
#define STATUS_MIN         100
#define STATUS_COUNT       500 /* 100..599 */

/* Upper bounds of the latency buckets, in microseconds (the last bucket is +Inf). */
static const int64_t bucket_us[] = {500,   1000,   2500,   5000,   10000,   25000,
                                    50000, 100000, 250000, 500000, 1000000, 2500000};
#define BUCKETS (sizeof bucket_us / sizeof bucket_us[0])

/* Row METRICS_MAX_ROUTES counts requests that matched no route. */
static atomic_ullong requests[METRICS_MAX_ROUTES + 1][STATUS_COUNT];
static atomic_ullong latency_buckets[BUCKETS + 1];
static atomic_ullong latency_count;
static atomic_ullong latency_sum_us;
static atomic_ullong logins_ok, logins_failed;
static atomic_ullong connections_refused, connections_timed_out;

void metrics_request(int route_index, unsigned status, int64_t us)
{
    size_t row = (route_index >= 0 && route_index < METRICS_MAX_ROUTES) ? (size_t)route_index
                                                                        : METRICS_MAX_ROUTES;
    if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_COUNT)
        atomic_fetch_add_explicit(&requests[row][status - STATUS_MIN], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < BUCKETS && us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&latency_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_us, (unsigned long long)(us > 0 ? us : 0),
                              memory_order_relaxed);
}

void metrics_login(bool ok)
{
    atomic_fetch_add_explicit(ok ? &logins_ok : &logins_failed, 1, memory_order_relaxed);
}

void metrics_connection_refused(void)
{
    atomic_fetch_add_explicit(&connections_refused, 1, memory_order_relaxed);
}

void metrics_connection_timed_out(void)
{
    atomic_fetch_add_explicit(&connections_timed_out, 1, memory_order_relaxed);
}

static unsigned long long load(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

gh_status metrics_render(struct buf *out, size_t n, const char *(*route_path)(size_t i),
                         const char *(*route_method)(size_t i))
{
    gh_status st = buf_append_str(out, "# HELP gatehouse_http_requests_total Requests answered, "
                                       "by route, method and status.\n"
                                       "# TYPE gatehouse_http_requests_total counter\n");
    for (size_t r = 0; st == GH_OK && r <= METRICS_MAX_ROUTES; r++) {
        if (r >= n && r != METRICS_MAX_ROUTES)
            continue;
        for (size_t s = 0; st == GH_OK && s < STATUS_COUNT; s++) {
            unsigned long long v = load(&requests[r][s]);
            if (!v)
                continue;
            if (r == METRICS_MAX_ROUTES)
                st = buf_printf(out,
                                "gatehouse_http_requests_total{route=\"unmatched\",method=\"\","
                                "status=\"%zu\"} %llu\n",
                                s + STATUS_MIN, v);
            else
                st = buf_printf(out,
                                "gatehouse_http_requests_total{route=\"%s\",method=\"%s\","
                                "status=\"%zu\"} %llu\n",
                                route_path(r), route_method(r), s + STATUS_MIN, v);
        }
    }
    if (st == GH_OK)
        st = buf_append_str(out, "# HELP gatehouse_http_request_duration_seconds Time from the "
                                 "request's headers to its completion.\n"
                                 "# TYPE gatehouse_http_request_duration_seconds histogram\n");
    unsigned long long cumulative = 0;
    for (size_t b = 0; st == GH_OK && b <= BUCKETS; b++) {
        cumulative += load(&latency_buckets[b]);
        if (b < BUCKETS)
            st = buf_printf(out, "gatehouse_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                            (double)bucket_us[b] / 1e6, cumulative);
        else
            st = buf_printf(out,
                            "gatehouse_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                            cumulative);
    }
    if (st == GH_OK)
        st = buf_printf(out,
                        "gatehouse_http_request_duration_seconds_sum %.6f\n"
                        "gatehouse_http_request_duration_seconds_count %llu\n",
                        (double)load(&latency_sum_us) / 1e6, load(&latency_count));
    if (st == GH_OK)
        st = buf_printf(out,
                        "# HELP gatehouse_logins_total Password logins by outcome.\n"
                        "# TYPE gatehouse_logins_total counter\n"
                        "gatehouse_logins_total{result=\"ok\"} %llu\n"
                        "gatehouse_logins_total{result=\"failed\"} %llu\n",
                        load(&logins_ok), load(&logins_failed));
    if (st == GH_OK)
        st = buf_printf(out,
                        "# HELP gatehouse_connections_refused_total Connections refused because "
                        "their client address held its share.\n"
                        "# TYPE gatehouse_connections_refused_total counter\n"
                        "gatehouse_connections_refused_total %llu\n"
                        "# HELP gatehouse_connections_timed_out_total Connections closed because "
                        "their headers or body did not arrive in time.\n"
                        "# TYPE gatehouse_connections_timed_out_total counter\n"
                        "gatehouse_connections_timed_out_total %llu\n",
                        load(&connections_refused), load(&connections_timed_out));
    return st;
}
