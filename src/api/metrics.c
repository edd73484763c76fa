/* GET /metrics: Prometheus text format — requests by route and status, latency, logins, the
 * password-hash queue and the mail outbox. */
#include "../util/workpool.h"
#include "../http/router.h"
#include "../store/store.h"
#include "../util/metrics.h"
#include "api.h"

static const char *route_path(size_t i)
{
    return api_routes[i].path;
}

static const char *route_method(size_t i)
{
    return api_routes[i].method;
}

void api_metrics(struct request *req)
{
    struct buf out = {0};
    int64_t pending = -1;
    gh_status st = metrics_render(&out, api_route_count, route_path, route_method);
    if (st == GH_OK)
        st = buf_printf(&out,
                        "# HELP gatehouse_hash_queue_depth Password hash jobs waiting or running.\n"
                        "# TYPE gatehouse_hash_queue_depth gauge\n"
                        "gatehouse_hash_queue_depth %d\n",
                        workpool_depth(req->app->cpu_pool));
    if (st == GH_OK && req->app->store->outbox_pending(req->app->store, &pending) == GH_OK)
        st = buf_printf(&out,
                        "# HELP gatehouse_mail_outbox_pending Mails queued and not yet sent.\n"
                        "# TYPE gatehouse_mail_outbox_pending gauge\n"
                        "gatehouse_mail_outbox_pending %lld\n",
                        (long long)pending);
    if (st != GH_OK) {
        buf_free(&out);
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    reply_text(req, 200, out.data, out.len, "text/plain; version=0.0.4; charset=utf-8");
}
