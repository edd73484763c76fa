/* The timing pad of password checks. While accounts keep hashes of other schemes or costs (an
 * import brought them; a login replaces each), a check of such a hash can take far longer than
 * the dummy verification of an unknown address: PBKDF2 with 600,000 iterations costs ~136 ms
 * against ~15 ms, which tells who has an account. So while any remain, the answer of every
 * password check (login, /api/token/) goes out no earlier than a floor after the check began:
 * the slowest verification of the hashes that remain, measured, with a margin, or the slowest
 * check of such a hash seen since the last refresh, whichever is longer. The wait costs no CPU
 * and no thread: the HTTP layer keeps the answer and the connection suspended until a timer
 * releases it (http/delay.c). The count is read by the housekeeping thread right after start
 * (a scan of the users table, so a start with a million accounts is not held up by it) and
 * then every minute; at zero the pad ends. A password check that comes before the first count
 * is done waits for it. */
#ifndef GH_LOGIN_PAD_H
#define GH_LOGIN_PAD_H

#include <stdint.h>

#include "../app.h"
#include "../util/status.h"

struct login_pad;

GH_MUST_CHECK gh_status login_pad_open(struct login_pad **out);
void login_pad_close(struct login_pad **pad);

/* Counts the hashes not made with the configured parameters; when there are more than at the
 * last scan, scans them for the costliest and times its verification. The first call, done or
 * failed, lets the checks waiting in login_pad_until go on. */
GH_MUST_CHECK gh_status login_pad_refresh(struct app *app);

/* When the answer of a password check begun at started_us (time_mono_us) may go out: 0 when no
 * pad is in force. Before the first refresh it waits for that (at most a few seconds): on a
 * worker thread, never on a connection's. */
int64_t login_pad_until(const struct app *app, int64_t started_us);

/* A check of a hash of another scheme or cost took us microseconds. */
void login_pad_observe(struct app *app, int64_t us);

/* The floor now, microseconds (0: none), and the count of such hashes at the last refresh. */
int64_t login_pad_floor_us(const struct app *app);
int64_t login_pad_legacy_count(const struct app *app);

#endif
