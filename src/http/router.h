/* The route table: method, path, handler, where the handler runs, who may call it and the
 * checks the HTTP layer runs before it. The table is data (api/routes.c) handed to the HTTP
 * layer at start. */
#ifndef GH_ROUTER_H
#define GH_ROUTER_H

#include <stddef.h>

#include "request.h"

#define ROUTE_JSON_BODY    (1u << 0) /* the body must be a JSON object */
#define ROUTE_IGNORE_BODY  (1u << 1) /* any body is read and ignored */
#define ROUTE_ORIGIN_CHECK (1u << 2) /* an Origin header, when present, must be allowed */
#define ROUTE_FORM_BODY    (1u << 3) /* multipart/form-data or urlencoded, parsed into form */
#define ROUTE_RATE_IP      (1u << 5) /* counts against the per-IP credential limit */
#define ROUTE_ON_CPU_POOL  (1u << 6) /* the handler runs on the CPU pool (it hashes passwords) */
#define ROUTE_ON_IO_POOL   (1u << 7) /* the handler runs on the I/O pool (it blocks on I/O) */
#define ROUTE_CORS         (1u << 8) /* browsers of GATEHOUSE_CORS_ORIGINS may call it */

/* Who may call a route (route.auth): 0 = anyone; otherwise a principal resolved from one of
 * the accepted credentials is required, and handlers find it in req->principal. */
#define AUTH_SESSION (1u << 0) /* the session cookie */
#define AUTH_BEARER  (1u << 1) /* an Authorization: Bearer access token */
#define AUTH_STAFF   (1u << 2) /* besides a credential: the principal must be staff */

typedef void (*handler_fn)(struct request *req);

struct route {
    const char *method;
    /* Without trailing slash. A "*" segment matches one segment, a final "**" the non-empty
     * rest of the path; either is copied into req->param. */
    const char *path;
    handler_fn handler;
    unsigned flags; /* ROUTE_* */
    unsigned auth;  /* AUTH_* */
};

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };

/* Finds the route of method and path in the count routes. On ROUTE_FOUND copies the wildcard
 * part into param; on ROUTE_NO_METHOD writes the allowed methods ("GET, POST") into allow and
 * the first route of the path into *out. */
enum route_match router_find(const struct route *routes, size_t count, const char *method,
                             const char *path, const struct route **out, char *param,
                             size_t param_cap, char *allow, size_t allow_cap);

#endif
