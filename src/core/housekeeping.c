/* The housekeeping thread. */
#include "housekeeping.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"

#define PURGE_INTERVAL_SECONDS 600

struct housekeeping {
    struct store *store;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
};

static void *housekeeping_main(void *arg)
{
    struct housekeeping *hk = arg;
    pthread_mutex_lock(&hk->lock);
    while (!hk->stopping) {
        pthread_mutex_unlock(&hk->lock);
        if (hk->store->purge_expired(hk->store, time_now()) != GH_OK)
            log_msg(LOG_WARN, "expired rows could not be purged");
        pthread_mutex_lock(&hk->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += PURGE_INTERVAL_SECONDS;
        while (!hk->stopping && pthread_cond_timedwait(&hk->wake, &hk->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&hk->lock);
    return NULL;
}

gh_status housekeeping_start(struct store *store, struct housekeeping **out)
{
    pthread_condattr_t attr;
    struct housekeeping *hk = calloc(1, sizeof *hk);
    if (!hk)
        return GH_NO_MEMORY;
    hk->store = store;
    pthread_mutex_init(&hk->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&hk->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&hk->thread, NULL, housekeeping_main, hk) != 0) {
        pthread_cond_destroy(&hk->wake);
        pthread_mutex_destroy(&hk->lock);
        free(hk);
        return GH_INTERNAL;
    }
    *out = hk;
    return GH_OK;
}

void housekeeping_stop(struct housekeeping **hkp)
{
    struct housekeeping *hk = hkp ? *hkp : NULL;
    if (!hk)
        return;
    pthread_mutex_lock(&hk->lock);
    hk->stopping = true;
    pthread_cond_signal(&hk->wake);
    pthread_mutex_unlock(&hk->lock);
    pthread_join(hk->thread, NULL);
    pthread_cond_destroy(&hk->wake);
    pthread_mutex_destroy(&hk->lock);
    free(hk);
    *hkp = NULL;
}
