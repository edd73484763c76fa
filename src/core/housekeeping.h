/* Housekeeping: one background thread that deletes what has expired — sessions, one-time
 * tokens, rate-limit windows — every ten minutes, so tables do not grow without bound. Lookups
 * never rely on it: every read checks expiry itself. */
#ifndef GH_HOUSEKEEPING_H
#define GH_HOUSEKEEPING_H

#include "../app.h"

struct housekeeping;

/* Starts the thread; it purges once at start, then every ten minutes. */
GH_MUST_CHECK gh_status housekeeping_start(struct store *store, struct housekeeping **out);
/* Stops and joins the thread and frees it. NULL-safe. */
void housekeeping_stop(struct housekeeping **hk);

#endif
