/* The connection guard: what one client may hold of the server. It caps the connections per
 * client address, and gives every connection deadlines that trickled bytes cannot extend: the
 * whole header block of a request must arrive within GATEHOUSE_HEADER_TIMEOUT, the whole body
 * within GATEHOUSE_BODY_TIMEOUT. A reaper thread shuts down connections past their deadline. */
#ifndef GH_GUARD_H
#define GH_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include "../config.h"
#include "../util/status.h"

struct conn_guard;
struct guarded_conn;

/* Starts the guard and its reaper thread. cfg must outlive the guard. */
GH_MUST_CHECK gh_status guard_start(const struct config *cfg, struct conn_guard **out);
/* Stops the reaper and frees the guard; every connection must have been closed. NULL-safe. */
void guard_stop(struct conn_guard **guard);

/* Accept-time check (before a connection is set up): false when the client address holds its
 * share of connections already. */
bool guard_admit(struct conn_guard *g, const struct sockaddr *addr);
/* A connection was set up: tracks it with the header deadline. A connection over its address's
 * cap (several threads accept at once) is shut down at once. Returns the tracking record to pass
 * to the other calls, or NULL when it could not be tracked (then the connection is shut down). */
struct guarded_conn *guard_opened(struct conn_guard *g, int fd, const struct sockaddr *addr);
/* The connection was closed: forgets it. NULL-safe. */
void guard_closed(struct conn_guard *g, struct guarded_conn *c);

/* A request's headers are complete: its body must arrive within the body deadline. */
void guard_headers_done(struct guarded_conn *c);
/* The request is complete: no deadline while the server works on it and answers. */
void guard_body_done(struct guarded_conn *c);
/* The answer was sent: the next request's headers must arrive within the header deadline. */
void guard_request_done(struct guarded_conn *c);

/* Lingering close: the connection is being answered before its body was read, and
 * libmicrohttpd will close it right after the answer. Closing a socket with unread data makes
 * the kernel send a reset, and a client still writing its body would then lose the answer. So
 * the guard keeps a duplicate of the socket open for a few seconds and reads and drops what the
 * client still sends (bounded in time, bytes and number of such sockets), as nginx does. */
void guard_linger(struct conn_guard *g, struct guarded_conn *c);

#endif
