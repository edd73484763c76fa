/* GET /openapi.yaml: the OpenAPI 3.1 description of this API (docs/openapi.yaml), compiled into
 * the binary, so the document a client or a code generator reads is the one of the server it
 * talks to. It changes only with the binary: caches may keep it for an hour. */
#include "../embed.h"
#include "api.h"

void api_openapi_get(struct request *req)
{
    reply_static(req, embed_openapi_yaml_start, EMBED_LEN(openapi_yaml), "application/yaml",
                 "public, max-age=3600", NULL);
}
