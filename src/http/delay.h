/* The delay queue: answers that must not go out before a given time (the timing pad of
 * password checks, core/login_pad.c) wait here with their connection suspended, costing neither
 * CPU nor a pool thread. One timer thread sleeps until the earliest is due and resumes its
 * connection; libmicrohttpd's thread then sends the answer the handler built. */
#ifndef GH_DELAY_H
#define GH_DELAY_H

#include <microhttpd.h>
#include <stdint.h>

#include "../util/status.h"

struct delay_queue;

/* Starts the queue and its timer thread. */
GH_MUST_CHECK gh_status delay_start(struct delay_queue **out);
/* Resumes every waiting connection at once, stops the thread and frees the queue. NULL-safe. */
void delay_stop(struct delay_queue **q);
/* Resumes the suspended connection conn at due_us (time_mono_us), or at once when that has
 * passed or the queue cannot hold it. */
void delay_resume_at(struct delay_queue *q, struct MHD_Connection *conn, int64_t due_us);
/* Connections waiting (for tests and metrics). */
unsigned delay_waiting(struct delay_queue *q);

#endif
