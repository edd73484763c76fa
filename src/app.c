/* Assembling the app: everything a serving gatehouse needs besides its HTTP server — the
 * database, the shared secrets, the worker pools, the kv, media and mail backends — opened in
 * order at start and closed in reverse at the end. serve() and the fuzz harness share it. */
#include <sodium.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "core/device.h"
#include "core/housekeeping.h"
#include "core/keys.h"
#include "core/login_pad.h"
#include "core/oidc.h"
#include "core/tokens.h"
#include "core/mailer.h"
#include "core/password.h"
#include "kv/kv.h"
#include "mail/mail.h"
#include "media/media.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/workpool.h"

/* How long a start waits for a database server that cannot be reached yet (one started at the
 * same time, as compose and CI do, or one that is slow to accept a connection), trying again
 * every second, before it gives up. */
#define STORE_OPEN_WAIT_SECONDS 15

/* store_open, tried again while the database is unavailable, for up to STORE_OPEN_WAIT_SECONDS. */
static gh_status open_store_waiting(const char *url, struct store **out)
{
    time_t give_up = time(NULL) + STORE_OPEN_WAIT_SECONDS;
    for (;;) {
        gh_status status = store_open(url, out);
        if (status != GH_UNAVAILABLE || time(NULL) >= give_up)
            return status;
        log_msg(LOG_WARN, "the database cannot be reached yet; trying again in a second");
        sleep(1);
    }
}

/* Opens the database named by the settings (creating the data directory) and migrates it. */
gh_status app_open_store(const struct config *cfg, struct store **out)
{
    if (fs_mkdir_p(cfg->data_dir) != GH_OK) {
        log_msg(LOG_ERROR, "cannot create the data directory %s", cfg->data_dir);
        return GH_UNAVAILABLE;
    }
    struct store *st = NULL;
    gh_status status = open_store_waiting(cfg->database_url, &st);
    if (status != GH_OK) {
        log_msg(LOG_ERROR, "cannot open the database");
        return status;
    }
    status = st->migrate(st);
    if (status != GH_OK) {
        log_msg(LOG_ERROR, "database migration failed");
        st->close(st);
        return status;
    }
    *out = st;
    return GH_OK;
}

/* A hash of a random password, verified for unknown emails so every login costs the same. */
static gh_status make_dummy_hash(const struct config *cfg, struct app *app)
{
    unsigned char seed[16];
    char dummy[33];
    randombytes_buf(seed, sizeof seed);
    sodium_bin2hex(dummy, sizeof dummy, seed, sizeof seed);
    return password_hash(dummy, cfg->argon2_iterations, cfg->argon2_memory_kib, app->dummy_hash,
                         sizeof app->dummy_hash);
}

/* How much lower the hash pool's threads run than the connection threads: a flood of logins
 * that keeps every core hashing must not hold back the session checks of everyone else. */
#define HASH_POOL_NICE 10

/* Threads of the CPU pool per hashing thread. A login spends a few milliseconds in the
 * database (rate counters, the user, its session and audit row) besides its ~15 ms hash; with
 * a second flow per hashing thread, one flow's database work overlaps the other's hash and the
 * cores keep hashing. More flows gain no throughput: during a login flood they only add
 * database work at normal priority beside the session checks (measured: four per hashing
 * thread took the session-check p99 from 2-3x to 5-18x its unloaded value). */
#define FLOWS_PER_HASH_THREAD 2

/* Hashing threads that stand aside while logins are being refused (the CPU pool's queue full,
 * 503): a flood then hashes on all cores but one, and the session checks of everyone else keep
 * a core (measured on two cores: the session-check p99 during a 10x login flood went from
 * 1.9-11x to 1.4-2.9x its unloaded value). Logins at the hash capacity, with no refusals, still
 * hash on every thread. */
#define HASH_THREADS_YIELDED 1

/* Starts the hash pool (one thread per core unless set, at a lower priority), the CPU pool
 * whose handlers hand their hashes to it, and the I/O pool. */
static gh_status start_pools(const struct config *cfg, struct app *app)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int hash_threads = cfg->hash_threads > 0 ? cfg->hash_threads : (int)(cores > 0 ? cores : 1);
    int flow_threads = hash_threads * FLOWS_PER_HASH_THREAD;
    /* Room for every flow's hash: a flow never finds the hash pool full. */
    gh_status st =
        workpool_start("hash", hash_threads, flow_threads, HASH_POOL_NICE, &app->hash_pool);
    if (st == GH_OK)
        password_use_pool(app->hash_pool);
    if (st == GH_OK)
        st = workpool_start("cpu", flow_threads, cfg->hash_queue, 0, &app->cpu_pool);
    if (st == GH_OK) /* a one-thread pool keeps its thread: the pool runs at least one job */
        workpool_yield_under_pressure(app->hash_pool, app->cpu_pool,
                                      hash_threads - HASH_THREADS_YIELDED);
    if (st == GH_OK)
        st = workpool_start("io", cfg->io_threads, cfg->io_queue, 0, &app->io_pool);
    return st;
}

gh_status app_open(const struct config *cfg, struct app *app)
{
    struct mail_transport *transport = NULL;
    gh_status st = app_open_store(cfg, &app->store);
    if (st != GH_OK)
        goto out;
    if ((st = device_key_load(app)) != GH_OK || (st = tokens_open(app)) != GH_OK) {
        log_msg(LOG_ERROR, "the shared keys could not be read or created");
        goto out;
    }
    if ((st = keys_open(app)) != GH_OK || (st = oidc_open(app)) != GH_OK)
        goto out;
    if ((st = make_dummy_hash(cfg, app)) != GH_OK || (st = start_pools(cfg, app)) != GH_OK)
        goto out;
    /* The housekeeping thread counts the hashes of other schemes first thing, then every
     * minute; password checks before that first count wait for it (login_pad_until). */
    if ((st = login_pad_open(&app->login_pad)) != GH_OK)
        goto out;
    if ((st = kv_open(cfg, app->store, &app->kv)) != GH_OK ||
        (st = media_open(cfg, &app->media)) != GH_OK) {
        log_msg(LOG_ERROR, "the kv or media backend could not be opened");
        goto out;
    }
    if ((st = mail_transport_open(cfg, &transport)) != GH_OK ||
        (st = outbox_start(cfg, app->store, transport, mailer_resolve_request, app,
                           &app->outbox)) != GH_OK) {
        log_msg(LOG_ERROR, "the mail outbox could not start");
        goto out;
    }
    if ((st = housekeeping_start(app, &app->housekeeping)) != GH_OK)
        log_msg(LOG_ERROR, "the housekeeping thread could not start");
out:
    if (st != GH_OK)
        app_close(app);
    return st;
}

void app_close(struct app *app)
{
    housekeeping_stop(&app->housekeeping);
    login_pad_close(&app->login_pad);
    keys_close(&app->keys);
    oidc_close(&app->oidc);
    workpool_stop(&app->cpu_pool);
    password_use_pool(NULL);
    workpool_stop(&app->hash_pool);
    workpool_stop(&app->io_pool);
    outbox_stop(&app->outbox);
    if (app->media)
        app->media->close(app->media);
    app->media = NULL;
    if (app->kv)
        app->kv->close(app->kv);
    app->kv = NULL;
    if (app->store)
        app->store->close(app->store);
    app->store = NULL;
}
