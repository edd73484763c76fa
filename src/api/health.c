/* GET /health-check/ (liveness) and GET /ready (readiness: the database and the kv backend
 * answer). */
#include "../kv/kv.h"
#include "../store/store.h"
#include "api.h"

void api_health_check(struct request *req)
{
    reply_message(req, 200, "ok");
}

void api_ready(struct request *req)
{
    struct app *app = req->app;
    bool db_ok = app->store->ping(app->store) == GH_OK;
    bool kv_ok = app->kv->ping(app->kv) == GH_OK;
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "status", db_ok && kv_ok ? "ready" : "unavailable", "database",
                  db_ok ? "ok" : "unavailable", "kv", kv_ok ? "ok" : "unavailable");
    if (body && !(db_ok && kv_ok))
        json_object_set_new(body, "error",
                            json_string("A service this server needs is unavailable."));
    reply_json(req, db_ok && kv_ok ? 200 : 503, body);
}
