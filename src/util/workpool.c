/* The bounded worker pool declared in workpool.h. */
#include "workpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

struct workpool {
    const char *name;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct work *head, *tail; /* FIFO of submitted jobs */
    int reserved;             /* reserved + queued + running */
    int capacity;
    int running; /* jobs taken by a worker and not finished */
    int nice;
    bool stopping;
    int thread_count;
    pthread_t *threads;
    _Atomic int64_t refused_at_ms;  /* when workpool_reserve last failed (monotonic); 0: never */
    const struct workpool *watched; /* see workpool_yield_under_pressure; NULL: none */
    int pressed_threads;            /* jobs at once while watched refuses work */
};

/* How long a refusal by the watched pool keeps a pool at its pressed size, milliseconds. */
#define PRESSURE_MS 1000
/* How often a worker held back by pressure looks again, when no job ends before. */
#define PRESSURE_RECHECK_MS 50

/* The time slice a lowered worker asks for, nanoseconds: the shortest Linux grants (0.1 ms).
 * Since Linux 6.12 the scheduler lets a running thread finish its slice before a thread that
 * wakes up gets the core; with the default slice (about 1.5 ms on two cores) a session check
 * that wakes while every core hashes waits that long, and with it each database and Redis
 * reply it needs. Older kernels ignore the field. */
#define LOWERED_SLICE_NS 100000u

/* The first version of the kernel's struct sched_attr (SCHED_ATTR_SIZE_VER0, 48 bytes), which
 * glibc does not declare and <linux/sched/types.h> cannot be included beside <pthread.h>. */
struct sched_attr_v0 {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

/* Lowers the calling thread's priority by nice and shortens its time slice; on Linux a
 * thread's nice value and slice are its own. Without sched_setattr, only the nice value is
 * set (through the thread id). A failure only leaves the priority as it was. */
static void lower_own_priority(const struct workpool *p)
{
    if (p->nice <= 0)
        return;
    id_t self = (id_t)syscall(SYS_gettid);
    errno = 0;
    int now = getpriority(PRIO_PROCESS, self);
    if (errno != 0)
        return;
    int lowered = now + p->nice > 19 ? 19 : now + p->nice;
    struct sched_attr_v0 attr = {.size = sizeof attr,
                                 .sched_policy = SCHED_OTHER,
                                 .sched_nice = lowered,
                                 .sched_runtime = LOWERED_SLICE_NS};
    if (syscall(SYS_sched_setattr, 0, &attr, 0) == 0)
        return;
    if (setpriority(PRIO_PROCESS, self, lowered) != 0)
        log_msg(LOG_WARN, "the %s pool could not lower its priority", p->name);
}

static bool refused_lately(const struct workpool *p)
{
    int64_t at = atomic_load_explicit(&p->refused_at_ms, memory_order_relaxed);
    return at != 0 && time_mono_ms() - at < PRESSURE_MS;
}

/* Whether one more job may start now (called with the lock held): always, unless the watched
 * pool refused work lately and the pressed number of jobs already run. */
static bool may_start_another(const struct workpool *p)
{
    return !p->watched || p->running < p->pressed_threads || p->stopping ||
           !refused_lately(p->watched);
}

/* Waits, with the lock held, a little while for a running job to end. */
static void wait_for_a_job_to_end(struct workpool *p)
{
    struct timespec until = time_mono_timespec(time_mono_us() + PRESSURE_RECHECK_MS * 1000);
    pthread_cond_timedwait(&p->wake, &p->lock, &until);
}

static void *worker_main(void *arg)
{
    struct workpool *p = arg;
    lower_own_priority(p);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        if (!p->head)
            break; /* stopping and drained */
        if (!may_start_another(p)) {
            wait_for_a_job_to_end(p);
            continue;
        }
        struct work *w = p->head;
        p->head = w->next;
        if (!p->head)
            p->tail = NULL;
        p->running++;
        pthread_mutex_unlock(&p->lock);
        w->run(w); /* may free w: not touched after this */
        pthread_mutex_lock(&p->lock);
        p->running--; /* this worker takes the next job itself: nobody to wake */
        p->reserved--;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

gh_status workpool_start(const char *name, int threads, int queue_cap, int nice,
                         struct workpool **out)
{
    gh_status st = GH_NO_MEMORY;
    struct workpool *p = calloc(1, sizeof *p);
    if (!p)
        return GH_NO_MEMORY;
    p->name = name;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* for wait_for_a_job_to_end */
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    p->capacity = queue_cap + threads; /* the running jobs plus the waiting ones */
    p->nice = nice;
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (!p->threads)
        goto out;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            log_msg(LOG_ERROR, "the %s pool could not start its threads", name);
            st = GH_INTERNAL;
            goto out;
        }
        p->thread_count++;
    }
    *out = p;
    p = NULL;
    st = GH_OK;
out:
    workpool_stop(&p);
    return st;
}

void workpool_stop(struct workpool **pool)
{
    struct workpool *p = pool ? *pool : NULL;
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

gh_status workpool_reserve(struct workpool *p)
{
    gh_status st = GH_BUSY;
    pthread_mutex_lock(&p->lock);
    if (!p->stopping && p->reserved < p->capacity) {
        p->reserved++;
        st = GH_OK;
    } else {
        atomic_store_explicit(&p->refused_at_ms, time_mono_ms(), memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

void workpool_yield_under_pressure(struct workpool *p, const struct workpool *watched, int threads)
{
    pthread_mutex_lock(&p->lock);
    p->watched = watched;
    p->pressed_threads = threads > 0 ? threads : 1;
    pthread_mutex_unlock(&p->lock);
}

void workpool_release(struct workpool *p)
{
    pthread_mutex_lock(&p->lock);
    p->reserved--;
    pthread_mutex_unlock(&p->lock);
}

void workpool_submit(struct workpool *p, struct work *w)
{
    w->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = w;
    else
        p->head = w;
    p->tail = w;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

int workpool_depth(struct workpool *p)
{
    pthread_mutex_lock(&p->lock);
    int n = p->reserved;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* One workpool_run_and_wait call: the job, and the caller waiting for it. */
struct waited_job {
    struct work work; /* first: the pool hands this back */
    void (*fn)(void *arg);
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    bool done;
};

static void run_waited_job(struct work *w)
{
    struct waited_job *job = (struct waited_job *)w;
    job->fn(job->arg);
    pthread_mutex_lock(&job->lock);
    job->done = true;
    pthread_cond_signal(&job->done_cond);
    pthread_mutex_unlock(&job->lock);
}

void workpool_run_and_wait(struct workpool *pool, void (*fn)(void *arg), void *arg)
{
    if (!pool || workpool_reserve(pool) != GH_OK) {
        fn(arg);
        return;
    }
    struct waited_job job = {.work = {.run = run_waited_job}, .fn = fn, .arg = arg};
    pthread_mutex_init(&job.lock, NULL);
    pthread_cond_init(&job.done_cond, NULL);
    workpool_submit(pool, &job.work);
    pthread_mutex_lock(&job.lock);
    while (!job.done)
        pthread_cond_wait(&job.done_cond, &job.lock);
    pthread_mutex_unlock(&job.lock);
    pthread_cond_destroy(&job.done_cond);
    pthread_mutex_destroy(&job.lock);
}
