/* The housekeeping thread. */
#include "housekeeping.h"

#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"
#include "login_pad.h"

#define PURGE_INTERVAL_SECONDS 600
#define PAD_INTERVAL_SECONDS   60

struct housekeeping {
    struct app *app;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
};

static void *housekeeping_main(void *arg)
{
    struct housekeeping *hk = arg;
    struct store *store = hk->app->store;
    int64_t next_purge = 0;
    pthread_mutex_lock(&hk->lock);
    while (!hk->stopping) {
        pthread_mutex_unlock(&hk->lock);
        /* the pad first: password checks after a start wait for its first count */
        if (hk->app->login_pad && login_pad_refresh(hk->app) != GH_OK)
            log_msg(LOG_WARN, "the password hashes of other schemes could not be counted");
        if (time_mono_ms() >= next_purge) {
            if (store->purge_expired(store, time_now()) != GH_OK)
                log_msg(LOG_WARN, "expired rows could not be purged");
            next_purge = time_mono_ms() + PURGE_INTERVAL_SECONDS * 1000;
        }
        /* The scans above read whole tables: their pages are of no use until the next round.
         * What is freed stays in this thread's malloc arena unless handed back explicitly. */
        if (store->release_memory)
            store->release_memory(store);
        malloc_trim(0);
        pthread_mutex_lock(&hk->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += PAD_INTERVAL_SECONDS;
        while (!hk->stopping && pthread_cond_timedwait(&hk->wake, &hk->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&hk->lock);
    return NULL;
}

gh_status housekeeping_start(struct app *app, struct housekeeping **out)
{
    pthread_condattr_t attr;
    struct housekeeping *hk = calloc(1, sizeof *hk);
    if (!hk)
        return GH_NO_MEMORY;
    hk->app = app;
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
