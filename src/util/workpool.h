/* A bounded pool of worker threads: jobs are reserved first (failing at once when the queue is
 * full, so a flood costs bounded memory and latency), then submitted, and run in FIFO order.
 * The HTTP layer runs whole handlers on two of them: one for CPU work (password hashing, sized
 * to the cores) and one for blocking I/O (S3, outbound HTTP). */
#ifndef GH_WORKPOOL_H
#define GH_WORKPOOL_H

#include "status.h"

struct work {
    void (*run)(struct work *w); /* called on a worker thread; may free w's owner */
    struct work *next;           /* queue link, owned by the pool */
};

struct workpool;

/* Starts threads workers with room for queue_cap waiting jobs; name is for logs. Workers
 * lower their scheduling priority by nice (0: as the process), so that when the cores are
 * busy the threads that answer connections come first. */
GH_MUST_CHECK gh_status workpool_start(const char *name, int threads, int queue_cap, int nice,
                                       struct workpool **out);
/* Runs every queued job, stops the threads and frees the pool. NULL-safe. */
void workpool_stop(struct workpool **pool);
/* Reserves a place for one job; GH_BUSY when the queue is full or the pool stopping. */
GH_MUST_CHECK gh_status workpool_reserve(struct workpool *pool);
/* Gives back a place reserved before that no job will take. */
void workpool_release(struct workpool *pool);
/* Queues a job into a place reserved before. Never fails. */
void workpool_submit(struct workpool *pool, struct work *w);
/* While watched has refused a job (workpool_reserve failed) within the last second, pool runs
 * at most threads of its jobs at once (at least one); the others wait in its queue. A flood
 * that fills the queue of the work feeding this pool so leaves the rest of the cores to
 * everything else. Set once, before watched is in use. */
void workpool_yield_under_pressure(struct workpool *pool, const struct workpool *watched,
                                   int threads);
/* Jobs reserved, waiting or running (for metrics and shutdown). */
int workpool_depth(struct workpool *pool);
/* Runs fn(arg) on one of pool's threads and returns when it has run; on the calling thread
 * when pool is NULL or has no room (GH_BUSY from workpool_reserve). For work that must run at
 * the pool's priority, handed over by a thread that waits for it. */
void workpool_run_and_wait(struct workpool *pool, void (*fn)(void *arg), void *arg);

#endif
