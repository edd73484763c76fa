/* Housekeeping: one background thread that deletes what has expired — sessions, one-time
 * tokens, rate-limit windows — every ten minutes, so tables do not grow without bound (lookups
 * never rely on it: every read checks expiry itself), and that re-reads every minute what the
 * timing pad of password checks depends on (core/login_pad.h). */
#ifndef GH_HOUSEKEEPING_H
#define GH_HOUSEKEEPING_H

#include "../app.h"

struct housekeeping;

/* Starts the thread; it purges once at start, then every ten minutes, and refreshes the pad
 * every minute. */
GH_MUST_CHECK gh_status housekeeping_start(struct app *app, struct housekeeping **out);
/* Stops and joins the thread and frees it. NULL-safe. */
void housekeeping_stop(struct housekeeping **hk);

#endif
