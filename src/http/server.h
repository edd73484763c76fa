/* The HTTP server on libmicrohttpd: its epoll thread pool reads requests, enforces the limits
 * and the route table, and calls the handlers. */
#ifndef GH_SERVER_H
#define GH_SERVER_H

#include <stdint.h>

#include "../app.h"
#include "../util/status.h"
#include "router.h"

struct http_server;
struct workpool;

/* What the layers above decide for the HTTP layer, which knows nothing of sessions or limits. */
struct http_hooks {
    /* Resolves the principal of a request to a route that accepts the credentials in accepted
     * (AUTH_*): GH_ERR_NOT_AUTHENTICATED without a valid one, GH_ERR_FORBIDDEN when the route
     * needs staff. */
    gh_status (*authenticate)(struct request *req, unsigned accepted, struct principal *out);
    /* Counts a request of a ROUTE_RATE_IP route against its client's limit: GH_OK, or
     * GH_ERR_RATE_LIMITED with req->retry_after set. */
    gh_status (*admit)(struct request *req);
};

struct http_setup {
    struct app *app; /* handed to the handlers as req->app */
    const struct route *routes;
    size_t route_count;
    struct workpool *cpu_pool; /* where ROUTE_ON_CPU_POOL handlers run */
    struct workpool *io_pool;  /* where ROUTE_ON_IO_POOL handlers run */
    struct http_hooks hooks;
};

/* Binds and listens on host:port (0 = any free port); writes the bound port into bound. */
GH_MUST_CHECK gh_status http_listen(const char *host, uint16_t port, int *fd, uint16_t *bound);

/* Starts serving setup's routes on the listening socket fd (owned by the server after this).
 * setup is copied; what it points to must outlive the server. */
GH_MUST_CHECK gh_status http_server_start(const struct http_setup *setup, int fd,
                                          struct http_server **out);

/* Stops taking new connections: each is closed as soon as it is accepted (in-flight requests
 * go on); the listening socket closes with http_server_stop. */
void http_server_stop_accepting(struct http_server *srv);
/* Number of requests started and not yet completed (idle keep-alive connections not counted). */
unsigned http_server_in_flight(struct http_server *srv);
/* Closes everything and frees the server. NULL-safe. */
void http_server_stop(struct http_server **srv);

#endif
