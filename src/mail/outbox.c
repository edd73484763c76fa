/* The outbox worker: one thread that claims due rows of mail_outbox, resolves mail requests
 * into messages (or drops them), sends messages through the transport and marks them sent, or
 * schedules a retry with exponential backoff. It wakes when a request queues mail (outbox_notify)
 * and otherwise polls once a second, so rows queued by other instances or left by a crash are
 * sent too. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"
#include "mail.h"

/* How long a claimed row is reserved for this worker before another may take it. */
#define OUTBOX_LEASE_SECONDS 120
/* How often expired sessions, tokens and rate-limit windows are deleted. */

struct outbox {
    const struct config *cfg;
    struct store *store;
    struct mail_transport *transport;
    outbox_resolve_fn resolve;
    void *resolve_ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_bool stopping;
    bool pending; /* notified since the last look */
};

/* Delay before attempt number `attempts + 1`: base * 2^(attempts-1), capped. */
static int64_t retry_delay(const struct config *cfg, int attempts)
{
    int64_t delay = cfg->mail_retry_seconds;
    for (int i = 1; i < attempts && delay < cfg->mail_retry_max_seconds; i++)
        delay *= 2;
    return delay < cfg->mail_retry_max_seconds ? delay : cfg->mail_retry_max_seconds;
}

/* Sends one due mail if there is one, resolving it first when it is a request; GH_NOT_FOUND
 * when nothing was due. */
static gh_status send_one(struct outbox *o)
{
    struct mail m = {0};
    int64_t now = time_now();
    gh_status st = o->store->outbox_claim(o->store, now, now + OUTBOX_LEASE_SECONDS, &m);
    if (st != GH_OK)
        return st;
    char err[512] = "";
    if (m.request[0]) {
        st = o->resolve ? o->resolve(o->resolve_ctx, &m) : GH_INTERNAL;
        if (st == GH_NOT_FOUND) {
            log_msg(LOG_INFO, "mail request %lld needs no mail", (long long)m.id);
            mail_clear(&m);
            return GH_OK;
        }
        if (st != GH_OK)
            snprintf(err, sizeof err, "the mail request could not be resolved");
    }
    if (st == GH_OK)
        st = o->transport->send(o->transport, o->cfg->mail_from, &m, err, sizeof err);
    if (st == GH_OK) {
        st = o->store->outbox_mark_sent(o->store, m.id, time_now());
        log_msg(LOG_INFO, "mail %lld sent", (long long)m.id);
    } else {
        int64_t delay = retry_delay(o->cfg, m.attempts);
        log_msg(LOG_WARN, "mail %lld attempt %d failed (%s); next try in %llds", (long long)m.id,
                m.attempts, err, (long long)delay);
        st = o->store->outbox_schedule_retry(o->store, m.id, time_now() + delay, err);
    }
    mail_clear(&m);
    return st;
}

static void *outbox_main(void *arg)
{
    struct outbox *o = arg;
    pthread_mutex_lock(&o->lock);
    while (!o->stopping) {
        o->pending = false;
        pthread_mutex_unlock(&o->lock);
        gh_status st;
        do
            st = send_one(o);
        while (st == GH_OK && !o->stopping);
        pthread_mutex_lock(&o->lock);
        if (o->pending || o->stopping)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&o->wake, &o->lock, &until);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

gh_status outbox_start(const struct config *cfg, struct store *store,
                       struct mail_transport *transport, outbox_resolve_fn resolve,
                       void *resolve_ctx, struct outbox **out)
{
    struct outbox *o = calloc(1, sizeof *o);
    if (!o) {
        transport->close(transport);
        return GH_NO_MEMORY;
    }
    o->cfg = cfg;
    o->store = store;
    o->transport = transport;
    o->resolve = resolve;
    o->resolve_ctx = resolve_ctx;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->wake, NULL);
    if (pthread_create(&o->thread, NULL, outbox_main, o) != 0) {
        pthread_cond_destroy(&o->wake);
        pthread_mutex_destroy(&o->lock);
        transport->close(transport);
        free(o);
        return GH_INTERNAL;
    }
    *out = o;
    return GH_OK;
}

void outbox_notify(struct outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->pending = true;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
}

gh_status outbox_ready(struct outbox *o, bool *checked)
{
    *checked = o && o->transport->ready;
    return *checked ? o->transport->ready(o->transport) : GH_OK;
}

void outbox_stop(struct outbox **op)
{
    struct outbox *o = op ? *op : NULL;
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stopping = true;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
    pthread_join(o->thread, NULL);
    o->transport->close(o->transport);
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    free(o);
    *op = NULL;
}
