/* The delay queue: a binary min-heap of (due time, connection) under a mutex, and one thread
 * that waits on a condition variable (monotonic clock) until the earliest entry is due. */
#include "delay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "../util/log.h"
#include "../util/timeutil.h"

struct delayed {
    int64_t due_us;
    struct MHD_Connection *conn;
};

struct delay_queue {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stopping;
    struct delayed *heap;
    size_t count, cap;
};

static void swap(struct delayed *a, struct delayed *b)
{
    struct delayed t = *a;
    *a = *b;
    *b = t;
}

static void sift_up(struct delayed *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].due_us > h[i].due_us) {
        swap(&h[(i - 1) / 2], &h[i]);
        i = (i - 1) / 2;
    }
}

static void sift_down(struct delayed *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].due_us < h[m].due_us)
            m = l;
        if (r < n && h[r].due_us < h[m].due_us)
            m = r;
        if (m == i)
            return;
        swap(&h[m], &h[i]);
        i = m;
    }
}

/* Removes and returns the earliest entry; the caller holds the lock and count > 0. */
static struct delayed pop(struct delay_queue *q)
{
    struct delayed top = q->heap[0];
    q->heap[0] = q->heap[--q->count];
    sift_down(q->heap, q->count, 0);
    return top;
}

static void *delay_main(void *arg)
{
    struct delay_queue *q = arg;
    pthread_mutex_lock(&q->lock);
    while (!q->stopping) {
        if (q->count == 0) {
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        int64_t now = time_mono_us();
        if (q->heap[0].due_us > now) {
            struct timespec until = time_mono_timespec(q->heap[0].due_us);
            pthread_cond_timedwait(&q->wake, &q->lock, &until);
            continue;
        }
        struct delayed d = pop(q);
        pthread_mutex_unlock(&q->lock);
        MHD_resume_connection(d.conn);
        pthread_mutex_lock(&q->lock);
    }
    /* Stopping: nothing may stay suspended when the daemon stops. */
    while (q->count > 0) {
        struct delayed d = pop(q);
        MHD_resume_connection(d.conn);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

gh_status delay_start(struct delay_queue **out)
{
    pthread_condattr_t attr;
    struct delay_queue *q = calloc(1, sizeof *q);
    if (!q)
        return GH_NO_MEMORY;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&q->thread, NULL, delay_main, q) != 0) {
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->lock);
        free(q);
        return GH_INTERNAL;
    }
    *out = q;
    return GH_OK;
}

void delay_stop(struct delay_queue **qp)
{
    struct delay_queue *q = qp ? *qp : NULL;
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    free(q->heap);
    free(q);
    *qp = NULL;
}

void delay_resume_at(struct delay_queue *q, struct MHD_Connection *conn, int64_t due_us)
{
    bool queued = false;
    if (due_us > time_mono_us()) {
        pthread_mutex_lock(&q->lock);
        if (!q->stopping && q->count == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 64;
            struct delayed *h = realloc(q->heap, cap * sizeof *h);
            if (h) {
                q->heap = h;
                q->cap = cap;
            }
        }
        if (!q->stopping && q->count < q->cap) {
            q->heap[q->count] = (struct delayed){due_us, conn};
            sift_up(q->heap, q->count++);
            queued = true;
            if (q->heap[0].conn == conn) /* a new earliest: the thread sleeps too long */
                pthread_cond_signal(&q->wake);
        }
        pthread_mutex_unlock(&q->lock);
        if (!queued)
            log_msg(LOG_WARN, "an answer could not be delayed; sent at once");
    }
    if (!queued)
        MHD_resume_connection(conn);
}

unsigned delay_waiting(struct delay_queue *q)
{
    pthread_mutex_lock(&q->lock);
    unsigned n = (unsigned)q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}
