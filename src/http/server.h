/* The HTTP server on libmicrohttpd: its epoll thread pool reads requests, enforces the limits
 * and the route table, and calls the handlers. */
#ifndef GH_SERVER_H
#define GH_SERVER_H

#include <stdint.h>

#include "../app.h"
#include "../util/status.h"

struct http_server;

/* Binds and listens on host:port (0 = any free port); writes the bound port into bound. */
GH_MUST_CHECK gh_status http_listen(const char *host, uint16_t port, int *fd, uint16_t *bound);

/* Starts serving on the listening socket fd (owned by the server after this). */
GH_MUST_CHECK gh_status http_server_start(struct app *app, int fd, struct http_server **out);

/* Stops accepting new connections (in-flight requests go on). */
void http_server_quiesce(struct http_server *srv);
/* Number of requests started and not yet completed (idle keep-alive connections not counted). */
unsigned http_server_in_flight(struct http_server *srv);
/* Closes everything and frees the server. NULL-safe. */
void http_server_stop(struct http_server **srv);

#endif
