/* The connection guard: per-address connection caps and request deadlines, enforced by one
 * reaper thread that shuts down the sockets of connections past their deadline. libmicrohttpd
 * then sees the closed socket and frees the connection through its usual path. */
#include "guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/metrics.h"
#include "../util/timeutil.h"

#define ADDR_BUCKETS   4096
#define REAP_PERIOD_MS 250
/* Lingering close (see guard_linger): sockets at most, seconds each, bytes read from each. */
#define LINGER_MAX   256
#define LINGER_MS    5000
#define LINGER_BYTES (16u * 1024 * 1024)

/* A client address as counted: IPv4 whole, IPv6 by its /64 prefix (one host usually has a
 * whole /64, so counting single IPv6 addresses would give it millions of shares). */
struct addr_key {
    unsigned char bytes[8];
    unsigned char len; /* 4 or 8; 0 for address families that are not counted */
};

struct addr_count {
    struct addr_key key;
    unsigned count;
    struct addr_count *next;
};

struct guarded_conn {
    const struct config *cfg; /* the guard's settings, for the deadlines */
    int fd;
    struct addr_key key;
    bool exempt;                 /* not counted against the per-address cap */
    bool reaped;                 /* shut down already */
    _Atomic int64_t deadline_ms; /* monotonic; 0 = none */
    struct guarded_conn *prev, *next;
};

/* A socket kept open after its answer to read and drop what the client still sends. */
struct lingering {
    int fd; /* a duplicate of the connection's socket, owned by the reaper */
    int64_t until_ms;
    size_t bytes_left;
};

struct conn_guard {
    const struct config *cfg;
    pthread_mutex_t lock; /* the list, the address counts, the lingering sockets, stopping */
    int wake_fd;          /* eventfd that wakes the reaper (new lingering socket, stop) */
    struct guarded_conn *head;
    struct addr_count *buckets[ADDR_BUCKETS];
    struct lingering lingering[LINGER_MAX];
    size_t lingering_count;
    bool stopping;
    pthread_t reaper;
    bool reaper_started;
};

/* ---- addresses ---- */

/* Fills key from addr; writes its text form into ip (for the exemption lists). */
static void addr_key_of(const struct sockaddr *addr, struct addr_key *key,
                        char ip[INET6_ADDRSTRLEN])
{
    memset(key, 0, sizeof *key);
    strcpy(ip, "unknown");
    if (!addr)
        return;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;
        memcpy(key->bytes, &in->sin_addr, 4);
        key->len = 4;
        inet_ntop(AF_INET, &in->sin_addr, ip, INET6_ADDRSTRLEN);
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            memcpy(key->bytes, in6->sin6_addr.s6_addr + 12, 4);
            key->len = 4;
            inet_ntop(AF_INET, key->bytes, ip, INET6_ADDRSTRLEN);
        } else {
            memcpy(key->bytes, in6->sin6_addr.s6_addr, 8);
            key->len = 8;
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, INET6_ADDRSTRLEN);
        }
    }
}

static size_t addr_bucket(const struct addr_key *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (unsigned i = 0; i < key->len; i++)
        h = (h ^ key->bytes[i]) * 16777619u;
    return h % ADDR_BUCKETS;
}

/* The count record of key, NULL when it has none. Called with the lock held. */
static struct addr_count *addr_find(struct conn_guard *g, const struct addr_key *key)
{
    for (struct addr_count *a = g->buckets[addr_bucket(key)]; a; a = a->next)
        if (a->key.len == key->len && !memcmp(a->key.bytes, key->bytes, key->len))
            return a;
    return NULL;
}

/* Adds one connection of key; returns the new count, 0 when no memory. Lock held. */
static unsigned addr_add(struct conn_guard *g, const struct addr_key *key)
{
    struct addr_count *a = addr_find(g, key);
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a)
            return 0;
        a->key = *key;
        size_t b = addr_bucket(key);
        a->next = g->buckets[b];
        g->buckets[b] = a;
    }
    return ++a->count;
}

/* Removes one connection of key, freeing the record at zero. Lock held. */
static void addr_remove(struct conn_guard *g, const struct addr_key *key)
{
    struct addr_count **link = &g->buckets[addr_bucket(key)];
    while (*link &&
           !((*link)->key.len == key->len && !memcmp((*link)->key.bytes, key->bytes, key->len)))
        link = &(*link)->next;
    struct addr_count *a = *link;
    if (!a)
        return;
    if (--a->count == 0) {
        *link = a->next;
        free(a);
    }
}

/* Peers that carry many users' connections (trusted reverse proxies, relaying frontends) are
 * not capped. */
static bool addr_exempt(const struct conn_guard *g, const struct addr_key *key, const char *ip)
{
    return key->len == 0 || config_proxy_trusted(g->cfg, ip) ||
           config_frontend_relaying(g->cfg, ip);
}

/* ---- connections ---- */

/* Sets the deadline seconds from now; 0 = none. */
static void set_deadline(struct guarded_conn *c, int seconds)
{
    atomic_store_explicit(&c->deadline_ms,
                          seconds > 0 ? time_mono_ms() + (int64_t)seconds * 1000 : 0,
                          memory_order_relaxed);
}

bool guard_admit(struct conn_guard *g, const struct sockaddr *addr)
{
    struct addr_key key;
    char ip[INET6_ADDRSTRLEN];
    addr_key_of(addr, &key, ip);
    if (addr_exempt(g, &key, ip))
        return true;
    pthread_mutex_lock(&g->lock);
    const struct addr_count *a = addr_find(g, &key);
    bool ok = !a || a->count < (unsigned)g->cfg->max_connections_per_ip;
    pthread_mutex_unlock(&g->lock);
    if (!ok)
        metrics_connection_refused();
    return ok;
}

struct guarded_conn *guard_opened(struct conn_guard *g, int fd, const struct sockaddr *addr)
{
    char ip[INET6_ADDRSTRLEN];
    struct guarded_conn *c = calloc(1, sizeof *c);
    if (!c) {
        shutdown(fd, SHUT_RDWR);
        return NULL;
    }
    c->cfg = g->cfg;
    c->fd = fd;
    addr_key_of(addr, &c->key, ip);
    c->exempt = addr_exempt(g, &c->key, ip);
    set_deadline(c, g->cfg->header_timeout);
    pthread_mutex_lock(&g->lock);
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    if (!c->exempt) {
        unsigned n = addr_add(g, &c->key);
        if (n == 0) {
            c->exempt = true; /* not counted, so not to be uncounted either */
            c->reaped = true;
        } else if (n > (unsigned)g->cfg->max_connections_per_ip) {
            c->reaped = true; /* accepted by another thread at the same moment: over the cap */
        }
        if (c->reaped) {
            shutdown(fd, SHUT_RDWR);
            metrics_connection_refused();
        }
    }
    pthread_mutex_unlock(&g->lock);
    return c;
}

void guard_closed(struct conn_guard *g, struct guarded_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (!c->exempt)
        addr_remove(g, &c->key);
    pthread_mutex_unlock(&g->lock);
    free(c);
}

void guard_headers_done(struct guarded_conn *c)
{
    if (c)
        set_deadline(c, c->cfg->body_timeout);
}

void guard_body_done(struct guarded_conn *c)
{
    if (c)
        set_deadline(c, 0);
}

void guard_request_done(struct guarded_conn *c)
{
    if (c)
        set_deadline(c, c->cfg->header_timeout);
}

/* ---- the reaper ---- */

/* Shuts down every connection past its deadline. Lock held, so no record is freed meanwhile
 * and each fd is still open (libmicrohttpd reports a close before closing the socket). */
static void reap_expired(struct conn_guard *g, int64_t now)
{
    for (struct guarded_conn *c = g->head; c; c = c->next) {
        int64_t deadline = atomic_load_explicit(&c->deadline_ms, memory_order_relaxed);
        if (c->reaped || deadline == 0 || deadline > now)
            continue;
        c->reaped = true;
        shutdown(c->fd, SHUT_RDWR);
        metrics_connection_timed_out();
    }
}

void guard_linger(struct conn_guard *g, struct guarded_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    int fd = g->lingering_count < LINGER_MAX ? fcntl(c->fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (fd >= 0) {
        g->lingering[g->lingering_count++] =
            (struct lingering){fd, time_mono_ms() + LINGER_MS, LINGER_BYTES};
        uint64_t one = 1;
        if (write(g->wake_fd, &one, sizeof one) < 0)
            log_msg(LOG_WARN, "the connection reaper could not be woken");
    }
    pthread_mutex_unlock(&g->lock);
}

/* Reads and drops what a lingering socket has; true when it is done with (the client closed,
 * an error, or its time or byte allowance is used up). */
static bool drain(struct lingering *l, int64_t now)
{
    char sink[16 * 1024];
    for (;;) {
        ssize_t n = recv(l->fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0) {
            l->bytes_left = (size_t)n >= l->bytes_left ? 0 : l->bytes_left - (size_t)n;
            if (l->bytes_left == 0)
                return true;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return now >= l->until_ms;
        return true;
    }
}

/* Drains the lingering sockets poll found readable, closes those done with. Lock held. */
static void drain_lingering(struct conn_guard *g, const struct pollfd *polled, size_t n,
                            int64_t now)
{
    for (size_t i = 0; i < g->lingering_count;) {
        struct lingering *l = &g->lingering[i];
        bool readable = false;
        for (size_t k = 0; k < n; k++)
            if (polled[k].fd == l->fd && polled[k].revents)
                readable = true;
        if ((readable || now >= l->until_ms) && drain(l, now)) {
            close(l->fd);
            *l = g->lingering[--g->lingering_count];
            continue;
        }
        i++;
    }
}

static void *reaper_main(void *arg)
{
    struct conn_guard *g = arg;
    struct pollfd fds[LINGER_MAX + 1];
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        /* Only this thread closes lingering sockets, so their fds stay valid while it polls
         * them without the lock. */
        size_t n = 0;
        fds[n++] = (struct pollfd){.fd = g->wake_fd, .events = POLLIN};
        for (size_t i = 0; i < g->lingering_count; i++)
            fds[n++] = (struct pollfd){.fd = g->lingering[i].fd, .events = POLLIN};
        pthread_mutex_unlock(&g->lock);
        if (poll(fds, n, REAP_PERIOD_MS) > 0 && fds[0].revents) {
            uint64_t count;
            if (read(g->wake_fd, &count, sizeof count) < 0)
                count = 0;
        }
        pthread_mutex_lock(&g->lock);
        int64_t now = time_mono_ms();
        drain_lingering(g, fds + 1, n - 1, now);
        reap_expired(g, now);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

gh_status guard_start(const struct config *cfg, struct conn_guard **out)
{
    gh_status st = GH_INTERNAL;
    struct conn_guard *g = calloc(1, sizeof *g);
    if (!g)
        return GH_NO_MEMORY;
    g->cfg = cfg;
    g->wake_fd = -1;
    pthread_mutex_init(&g->lock, NULL);
    g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (g->wake_fd < 0 || pthread_create(&g->reaper, NULL, reaper_main, g) != 0) {
        log_msg(LOG_ERROR, "the connection reaper could not start");
        goto out;
    }
    g->reaper_started = true;
    *out = g;
    g = NULL;
    st = GH_OK;
out:
    guard_stop(&g);
    return st;
}

void guard_stop(struct conn_guard **guard)
{
    struct conn_guard *g = guard ? *guard : NULL;
    if (!g)
        return;
    if (g->reaper_started) {
        pthread_mutex_lock(&g->lock);
        g->stopping = true;
        uint64_t one = 1;
        if (write(g->wake_fd, &one, sizeof one) < 0)
            log_msg(LOG_WARN, "the connection reaper could not be woken");
        pthread_mutex_unlock(&g->lock);
        pthread_join(g->reaper, NULL);
    }
    for (size_t i = 0; i < g->lingering_count; i++)
        close(g->lingering[i].fd);
    for (size_t i = 0; i < ADDR_BUCKETS; i++)
        while (g->buckets[i]) {
            struct addr_count *a = g->buckets[i];
            g->buckets[i] = a->next;
            free(a);
        }
    if (g->wake_fd >= 0)
        close(g->wake_fd);
    pthread_mutex_destroy(&g->lock);
    free(g);
    *guard = NULL;
}
