/* GET /health-check/: liveness. */
#include "api.h"

void api_health_check(struct request *req)
{
    reply_message(req, 200, "ok");
}
