/* The timing pad of password checks: the floor from the costliest remaining hash (measured)
 * and the slowest check seen, kept in atomics that every login reads without a lock. */
#include "login_pad.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"
#include "legacy_hash.h"
#include "password.h"

/* The estimate's margin over the measured verification: the rest of a check (the rate-limit
 * counters, the user's row, the audit row) and a busier machine than at the measurement. */
#define MARGIN_PERCENT 30
#define MARGIN_US      8000
/* A slow check seen raises the floor at most to this multiple of the estimate. */
#define OBSERVED_CAP 4
#define SCAN_PAGE    500
/* The longest a password check waits for the first count after start. */
#define FIRST_REFRESH_WAIT_SECONDS 5

struct login_pad {
    atomic_int_least64_t estimate_us;    /* from the costliest remaining hash; 0: none */
    atomic_int_least64_t seen_us;        /* slowest check of such a hash since the last refresh */
    atomic_int_least64_t seen_before_us; /* the same over the refresh period before */
    atomic_int_least64_t count;          /* such hashes at the last refresh */
    int64_t scanned_count; /* the count when the hashes were last scanned; -1: never */
    atomic_bool refreshed; /* the first refresh is over */
    pthread_mutex_t lock;  /* with first_refresh: waiting for it */
    pthread_cond_t first_refresh;
};

gh_status login_pad_open(struct login_pad **out)
{
    struct login_pad *p = calloc(1, sizeof *p);
    if (!p)
        return GH_NO_MEMORY;
    p->scanned_count = -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->first_refresh, NULL);
    *out = p;
    return GH_OK;
}

void login_pad_close(struct login_pad **pad)
{
    if (!pad || !*pad)
        return;
    pthread_cond_destroy(&(*pad)->first_refresh);
    pthread_mutex_destroy(&(*pad)->lock);
    free(*pad);
    *pad = NULL;
}

/* The start of the hashes made with the configured parameters (gatehouse's own). */
static void current_prefix(const struct config *cfg, char *out, size_t cap)
{
    snprintf(out, cap, "$argon2id$v=19$m=%u,t=%u,p=1$", (unsigned)cfg->argon2_memory_kib,
             (unsigned)cfg->argon2_iterations);
}

/* Scans every such hash for the costliest verifiable one and copies it into worst (the parse
 * points into the page it was read into, which goes); *found false when none is. */
static gh_status find_costliest(struct app *app, const char *prefix, char worst[PASSWORD_HASH_MAX],
                                bool *found)
{
    struct user_hash *page = calloc(SCAN_PAGE, sizeof *page);
    struct hash_bounds bounds;
    char after[UUID_LEN + 1] = "00000000-0000-0000-0000-000000000000";
    uint64_t worst_cost = 0;
    gh_status st = GH_OK;
    *found = false;
    if (!page)
        return GH_NO_MEMORY;
    password_bounds_for(app->cfg, &bounds);
    for (;;) {
        size_t n = 0;
        st = app->store->user_legacy_hashes(app->store, prefix, after, page, SCAN_PAGE, &n);
        if (st != GH_OK || n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            struct hash_params p;
            if (hash_parse(page[i].hash, &bounds, &p) != HASH_VERIFIABLE)
                continue;
            if (!*found || hash_cost(&p) > worst_cost) {
                snprintf(worst, PASSWORD_HASH_MAX, "%s", page[i].hash);
                worst_cost = hash_cost(&p);
                *found = true;
            }
        }
        snprintf(after, sizeof after, "%s", page[n - 1].user_id);
        if (n < SCAN_PAGE)
            break;
    }
    free(page);
    return st;
}

/* Times the verification of p with a wrong password: the faster of two runs. */
static int64_t time_verification(const struct hash_params *p)
{
    int64_t best = -1;
    for (int i = 0; i < 2; i++) {
        int64_t t0 = time_mono_us();
        gh_status st = hash_verify_params("not the password of anyone 7", p);
        int64_t dt = time_mono_us() - t0;
        if (st != GH_OK && st != GH_ERR_INVALID_CREDENTIALS)
            return -1;
        if (best < 0 || dt < best)
            best = dt;
    }
    return best;
}

/* login_pad_refresh without its signal. */
static gh_status refresh_counts(struct app *app)
{
    struct login_pad *pad = app->login_pad;
    char prefix[96];
    int64_t count = 0;
    current_prefix(app->cfg, prefix, sizeof prefix);
    gh_status st = app->store->user_count_legacy_hashes(app->store, prefix, &count);
    if (st != GH_OK)
        return st;
    atomic_store(&pad->seen_before_us, atomic_load(&pad->seen_us));
    atomic_store(&pad->seen_us, 0);
    atomic_store(&pad->count, count);
    if (count == 0) {
        atomic_store(&pad->estimate_us, 0);
        pad->scanned_count = 0;
        return GH_OK;
    }
    if (count <= pad->scanned_count) {
        /* only fewer remain: the costliest may be gone, and a floor too long is safe; a rise
         * from here (another import) scans again */
        pad->scanned_count = count;
        return GH_OK;
    }
    struct hash_params worst;
    struct hash_bounds bounds;
    char worst_hash[PASSWORD_HASH_MAX];
    bool found = false;
    if ((st = find_costliest(app, prefix, worst_hash, &found)) != GH_OK)
        return st;
    /* parsed again here, so that the parse points into a string that lives while it is used */
    password_bounds_for(app->cfg, &bounds);
    found = found && hash_parse(worst_hash, &bounds, &worst) == HASH_VERIFIABLE;
    int64_t estimate = 0;
    if (found) {
        int64_t measured = time_verification(&worst);
        if (measured > 0)
            estimate = measured + measured * MARGIN_PERCENT / 100 + MARGIN_US;
        log_msg(LOG_INFO,
                "%lld password hashes of other schemes or costs remain; the costliest (%s) "
                "verifies in %lld ms: password checks answer after %lld ms at the earliest",
                (long long)count, hash_scheme_name(worst.scheme), (long long)(measured / 1000),
                (long long)(estimate / 1000));
    }
    atomic_store(&pad->estimate_us, estimate);
    pad->scanned_count = count;
    return GH_OK;
}

gh_status login_pad_refresh(struct app *app)
{
    struct login_pad *pad = app->login_pad;
    gh_status st = refresh_counts(app);
    if (!atomic_load(&pad->refreshed)) {
        pthread_mutex_lock(&pad->lock);
        atomic_store(&pad->refreshed, true);
        pthread_cond_broadcast(&pad->first_refresh);
        pthread_mutex_unlock(&pad->lock);
    }
    return st;
}

/* Waits until the first refresh is over, for up to FIRST_REFRESH_WAIT_SECONDS. */
static void wait_first_refresh(struct login_pad *pad)
{
    if (atomic_load(&pad->refreshed))
        return;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += FIRST_REFRESH_WAIT_SECONDS;
    pthread_mutex_lock(&pad->lock);
    while (!atomic_load(&pad->refreshed) &&
           pthread_cond_timedwait(&pad->first_refresh, &pad->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&pad->lock);
}

int64_t login_pad_floor_us(const struct app *app)
{
    struct login_pad *p = app->login_pad;
    if (!p || atomic_load(&p->count) == 0)
        return 0;
    int64_t estimate = atomic_load(&p->estimate_us);
    int64_t seen = atomic_load(&p->seen_us);
    int64_t before = atomic_load(&p->seen_before_us);
    if (before > seen)
        seen = before;
    if (estimate > 0 && seen > estimate * OBSERVED_CAP)
        seen = estimate * OBSERVED_CAP;
    return seen > estimate ? seen : estimate;
}

int64_t login_pad_legacy_count(const struct app *app)
{
    return app->login_pad ? atomic_load(&app->login_pad->count) : 0;
}

int64_t login_pad_until(const struct app *app, int64_t started_us)
{
    if (app->login_pad)
        wait_first_refresh(app->login_pad);
    int64_t floor = login_pad_floor_us(app);
    return floor > 0 ? started_us + floor : 0;
}

void login_pad_observe(struct app *app, int64_t us)
{
    struct login_pad *pad = app->login_pad;
    if (!pad)
        return;
    int64_t seen = atomic_load(&pad->seen_us);
    while (us > seen && !atomic_compare_exchange_weak(&pad->seen_us, &seen, us))
        ;
}
