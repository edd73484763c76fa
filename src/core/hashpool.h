/* A bounded pool of threads that run Argon2id hashing off the connection threads.
 * A job is reserved first (failing at once when the queue is full), then submitted; when it
 * finishes, the pool calls its done callback on the worker thread. */
#ifndef GH_HASHPOOL_H
#define GH_HASHPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "../util/status.h"
#include "../records.h"

enum hash_job_kind { HASH_JOB_HASH, HASH_JOB_VERIFY };

struct hash_job {
    enum hash_job_kind kind;
    const char *password;         /* borrowed; must live until done is called */
    char hash[PASSWORD_HASH_MAX]; /* VERIFY: the stored hash; HASH: the result */
    gh_status result;             /* GH_OK, GH_ERR_INVALID_CREDENTIALS or an error */
    bool needs_rehash;            /* VERIFY: the hash uses other parameters than now */
    void (*done)(struct hash_job *job, void *arg);
    void *arg;
    struct hash_job *next; /* queue link, owned by the pool */
};

struct hashpool;

/* Starts threads workers with room for queue_cap waiting jobs. */
GH_MUST_CHECK gh_status hashpool_start(int threads, int queue_cap, uint32_t iterations,
                                       uint32_t memory_kib, struct hashpool **out);
/* Finishes every queued job, stops the threads and frees the pool. NULL-safe. */
void hashpool_stop(struct hashpool **pool);
/* Reserves a place for one job; GH_BUSY when the queue is full. */
GH_MUST_CHECK gh_status hashpool_reserve(struct hashpool *pool);
/* Queues a job into a place reserved before. Never fails. */
void hashpool_submit(struct hashpool *pool, struct hash_job *job);
/* Jobs waiting or running, for metrics. */
int hashpool_depth(struct hashpool *pool);

#endif
