/* The bounded Argon2id worker pool. */
#include "hashpool.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"

struct hashpool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct hash_job *head, *tail; /* FIFO of submitted jobs */
    int reserved;                 /* reserved + queued + running */
    int capacity;
    bool stopping;
    uint32_t iterations, memory_kib;
    int thread_count;
    pthread_t *threads;
};

static void run_job(struct hashpool *p, struct hash_job *job)
{
    if (job->kind == HASH_JOB_HASH) {
        job->result =
            password_hash(job->password, p->iterations, p->memory_kib, job->hash, sizeof job->hash);
        return;
    }
    job->result = password_verify(job->password, job->hash);
    if (job->result == GH_OK)
        job->needs_rehash = crypto_pwhash_str_needs_rehash(job->hash, p->iterations,
                                                           (size_t)p->memory_kib * 1024u) != 0;
}

static void *worker_main(void *arg)
{
    struct hashpool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        if (!p->head)
            break; /* stopping and drained */
        struct hash_job *job = p->head;
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        run_job(p, job);
        pthread_mutex_lock(&p->lock);
        p->reserved--;
        pthread_mutex_unlock(&p->lock);
        job->done(job, job->arg); /* may free the job's owner: not touched after this */
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

gh_status hashpool_start(int threads, int queue_cap, uint32_t iterations, uint32_t memory_kib,
                         struct hashpool **out)
{
    struct hashpool *p = calloc(1, sizeof *p);
    if (!p)
        return GH_NO_MEMORY;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->capacity = queue_cap + threads; /* the running jobs plus the waiting ones */
    p->iterations = iterations;
    p->memory_kib = memory_kib;
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (!p->threads) {
        hashpool_stop(&p);
        return GH_NO_MEMORY;
    }
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            hashpool_stop(&p);
            return GH_INTERNAL;
        }
        p->thread_count++;
    }
    *out = p;
    return GH_OK;
}

void hashpool_stop(struct hashpool **pool)
{
    struct hashpool *p = pool ? *pool : NULL;
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->thread_count; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
    *pool = NULL;
}

gh_status hashpool_reserve(struct hashpool *p)
{
    gh_status st = GH_BUSY;
    pthread_mutex_lock(&p->lock);
    if (!p->stopping && p->reserved < p->capacity) {
        p->reserved++;
        st = GH_OK;
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

void hashpool_submit(struct hashpool *p, struct hash_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

int hashpool_depth(struct hashpool *p)
{
    pthread_mutex_lock(&p->lock);
    int n = p->reserved;
    pthread_mutex_unlock(&p->lock);
    return n;
}
