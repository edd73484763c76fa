/* The kv interface on Redis (hiredis): sessions and rate-limit counters shared by every
 * instance. One connection per thread, reconnected on the next call after an error, with short
 * timeouts so a Redis outage answers 503 quickly instead of hanging requests.
 *
 * Keys:  gh:s:<token hash>  hash {id, user_id, created_at, expires_at, last_seen_at, ip, ua},
 *                           expiring at expires_at
 *        gh:u:<user id>     set of the user's session token hashes
 *        gh:<rate key>      counter of a fixed window, expiring at the window's end */
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../records.h"
#include "../store/store.h"
#include "../util/log.h"
#include "../util/thread_conn.h"
#include "kv.h"

#define REDIS_TIMEOUT_MS 1000
/* Sessions whose user a thread remembers (see known_slot); a power of two. */
#define KNOWN_SESSIONS 1024

/* A session's user, as a thread last saw it. */
struct known_session {
    char token_hash[TOKEN_HASH_LEN + 1];
    char user_id[UUID_LEN + 1];
};

/* A thread's connection: ctx is NULL while Redis cannot be reached, and after an error. */
struct rconn {
    redisContext *ctx;
    struct known_session *known; /* KNOWN_SESSIONS slots, allocated on first lookup */
};

struct redis_kv {
    struct kv base;
    char host[256];
    int port;
    int db;
    char password[256];
    struct thread_conns conns;
};

static struct redis_kv *impl_of(struct kv *kv)
{
    return (struct redis_kv *)kv;
}

/* Opens a context: connect with a timeout, AUTH and SELECT when configured. */
static redisContext *connect_redis(struct redis_kv *r)
{
    struct timeval tv = {REDIS_TIMEOUT_MS / 1000, (REDIS_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);
    if (!c || c->err) {
        log_msg(LOG_WARN, "redis: cannot connect: %s", c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    redisReply *rep = NULL;
    if (r->password[0]) {
        rep = redisCommand(c, "AUTH %s", r->password);
        if (!rep || rep->type == REDIS_REPLY_ERROR)
            goto fail;
        freeReplyObject(rep);
    }
    rep = redisCommand(c, "SELECT %d", r->db);
    if (!rep || rep->type == REDIS_REPLY_ERROR)
        goto fail;
    freeReplyObject(rep);
    return c;
fail:
    log_msg(LOG_WARN, "redis: AUTH or SELECT refused");
    freeReplyObject(rep);
    redisFree(c);
    return NULL;
}

/* Makes the calling thread's connection slot (thread_conn_open_fn); it connects on use. */
static gh_status rconn_open(void *owner, void **out)
{
    (void)owner;
    struct rconn *rc = calloc(1, sizeof *rc);
    if (!rc)
        return GH_NO_MEMORY;
    *out = rc;
    return GH_OK;
}

static void rconn_free(void *conn)
{
    struct rconn *rc = conn;
    redisFree(rc->ctx);
    free(rc->known);
    free(rc);
}

/* This thread's connection, (re)connecting when there is none; NULL when Redis cannot be
 * reached. */
static struct rconn *conn_get(struct redis_kv *r)
{
    void *conn = NULL;
    if (thread_conn_get(&r->conns, &conn) != GH_OK)
        return NULL;
    struct rconn *rc = conn;
    if (!rc->ctx)
        rc->ctx = connect_redis(r);
    return rc->ctx ? rc : NULL;
}

/* Drops rc's connection after a failure, so the next call reconnects. */
static gh_status connection_failed(struct rconn *rc)
{
    redisContext *c = rc->ctx;
    log_msg(LOG_WARN, "redis: %s", c->errstr[0] ? c->errstr : "no reply");
    redisFree(c);
    rc->ctx = NULL;
    return GH_UNAVAILABLE;
}

/* The reply of a command as a status: GH_INTERNAL (the reply freed) for an error reply. */
static gh_status reply_status(redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ERROR)
        return GH_OK;
    log_msg(LOG_ERROR, "redis: %s", rep->str);
    freeReplyObject(rep);
    return GH_INTERNAL;
}

/* Runs a command given as argv; GH_UNAVAILABLE (and a dropped connection, so the next call
 * reconnects) on any failure. */
static gh_status command(struct kv *kv, redisReply **out, int argc, const char **argv)
{
    struct rconn *rc = conn_get(impl_of(kv));
    if (!rc)
        return GH_UNAVAILABLE;
    redisReply *rep = redisCommandArgv(rc->ctx, argc, argv, NULL);
    if (!rep || rc->ctx->err) {
        freeReplyObject(rep);
        return connection_failed(rc);
    }
    gh_status st = reply_status(rep);
    if (st == GH_OK)
        *out = rep;
    return st;
}

/* Sends a command given as argv without waiting for its reply (reply_of reads it), so that
 * Redis works on it while the caller does something else. */
static gh_status command_send(struct rconn *rc, int argc, const char **argv)
{
    int done = 0;
    if (redisAppendCommandArgv(rc->ctx, argc, argv, NULL) != REDIS_OK)
        return connection_failed(rc);
    while (!done)
        if (redisBufferWrite(rc->ctx, &done) != REDIS_OK)
            return connection_failed(rc);
    return GH_OK;
}

/* The reply of the command command_send sent on rc. */
static gh_status reply_of(struct rconn *rc, redisReply **out)
{
    void *rep = NULL;
    if (redisGetReply(rc->ctx, &rep) != REDIS_OK || !rep) {
        freeReplyObject(rep);
        return connection_failed(rc);
    }
    gh_status st = reply_status(rep);
    if (st == GH_OK)
        *out = rep;
    return st;
}

/* Runs a command whose reply is not needed. */
static gh_status command_ok(struct kv *kv, int argc, const char **argv)
{
    redisReply *rep = NULL;
    gh_status st = command(kv, &rep, argc, argv);
    freeReplyObject(rep);
    return st;
}

static gh_status rd_ping(struct kv *kv)
{
    const char *argv[] = {"PING"};
    return command_ok(kv, 1, argv);
}

static void session_key(const char *token_hash, char *out, size_t cap)
{
    snprintf(out, cap, "gh:s:%s", token_hash);
}

static void user_key(const char *user_id, char *out, size_t cap)
{
    snprintf(out, cap, "gh:u:%s", user_id);
}

/* Writes the session hash with its expiry and adds it to the user's set, whose expiry is pushed
 * out to the session's if that is later: one atomic script, one round trip. */
static const char insert_script[] =
    "redis.call('HSET', KEYS[1], 'id', ARGV[1], 'user_id', ARGV[2], 'created_at', ARGV[3], "
    "'expires_at', ARGV[4], 'last_seen_at', ARGV[5], 'ip', ARGV[6], 'ua', ARGV[7]) "
    "redis.call('EXPIREAT', KEYS[1], ARGV[4]) "
    "redis.call('SADD', KEYS[2], ARGV[8]) "
    "local want = tonumber(ARGV[4]) - tonumber(ARGV[3]) "
    "if redis.call('TTL', KEYS[2]) < want then redis.call('EXPIRE', KEYS[2], want) end "
    "return 0";

static gh_status rd_session_insert(struct kv *kv, const struct session *s)
{
    char key[96], ukey[64], created[24], expires[24], seen[24];
    session_key(s->token_hash, key, sizeof key);
    user_key(s->user_id, ukey, sizeof ukey);
    snprintf(created, sizeof created, "%lld", (long long)s->created_at);
    snprintf(expires, sizeof expires, "%lld", (long long)s->expires_at);
    snprintf(seen, sizeof seen, "%lld", (long long)s->last_seen_at);
    const char *argv[] = {"EVAL", insert_script, "2",          key,     ukey,
                          s->id,  s->user_id,    created,      expires, seen,
                          s->ip,  s->user_agent, s->token_hash};
    return command_ok(kv, 13, argv);
}

static void copy_reply(const redisReply *r, char *dst, size_t cap)
{
    size_t n = (r && r->type == REDIS_REPLY_STRING) ? r->len : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, r->str, n);
    dst[n] = '\0';
}

static int64_t reply_int(const redisReply *r)
{
    if (r && r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    if (r && r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    return 0;
}

/* The command that reads the session hash of a key. */
#define SESSION_READ(key)                                                                          \
    {                                                                                              \
        "HMGET", key, "id", "user_id", "created_at", "expires_at", "last_seen_at", "ip", "ua"      \
    }

/* Fills s from the reply of SESSION_READ and frees the reply; GH_NOT_FOUND when the session is
 * absent or expired at now. */
static gh_status session_of_reply(redisReply *rep, const char *token_hash, int64_t now,
                                  struct session *s)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 7 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
        freeReplyObject(rep);
        return GH_NOT_FOUND;
    }
    memset(s, 0, sizeof *s);
    strcpy(s->token_hash, token_hash);
    copy_reply(rep->element[0], s->id, sizeof s->id);
    copy_reply(rep->element[1], s->user_id, sizeof s->user_id);
    s->created_at = reply_int(rep->element[2]);
    s->expires_at = reply_int(rep->element[3]);
    s->last_seen_at = reply_int(rep->element[4]);
    copy_reply(rep->element[5], s->ip, sizeof s->ip);
    copy_reply(rep->element[6], s->user_agent, sizeof s->user_agent);
    freeReplyObject(rep);
    return s->expires_at > now ? GH_OK : GH_NOT_FOUND;
}

/* Reads the session hash of token_hash; GH_NOT_FOUND when absent or expired at now. */
static gh_status read_session(struct kv *kv, const char *token_hash, int64_t now, struct session *s)
{
    char key[96];
    redisReply *rep = NULL;
    session_key(token_hash, key, sizeof key);
    const char *argv[] = SESSION_READ(key);
    gh_status st = command(kv, &rep, 9, argv);
    return st == GH_OK ? session_of_reply(rep, token_hash, now, s) : st;
}

/* The slot of token_hash among this thread's known sessions (the hash is random: its first
 * characters spread the slots evenly); NULL when there is no memory for them. A slot holds the
 * session that last used it: a session's user never changes, so what it says is only a guess
 * about whether the session still exists. */
static struct known_session *known_slot(struct rconn *rc, const char *token_hash)
{
    if (!rc->known)
        rc->known = calloc(KNOWN_SESSIONS, sizeof *rc->known);
    if (!rc->known)
        return NULL;
    unsigned h = 0;
    for (int i = 0; i < 8 && token_hash[i]; i++)
        h = h * 31u + (unsigned char)token_hash[i];
    return &rc->known[h & (KNOWN_SESSIONS - 1)];
}

/* A session and its user: Redis has the session, the database the user. For a session this
 * thread has seen, whose user it knows, both are asked at once (the Redis command is sent, the
 * database queried, then the reply read), so a lookup costs one round trip's time instead of
 * two. Redis still decides whether the session exists; the user is read fresh. */
static gh_status rd_session_lookup(struct kv *kv, const char *token_hash, int64_t now,
                                   struct session *s, struct user *u)
{
    struct rconn *rc = conn_get(impl_of(kv));
    if (!rc)
        return GH_UNAVAILABLE;
    struct known_session *k = known_slot(rc, token_hash);
    bool known = k && !strcmp(k->token_hash, token_hash);
    gh_status st, user_st = GH_NOT_FOUND;
    if (known) {
        char key[96];
        redisReply *rep = NULL;
        session_key(token_hash, key, sizeof key);
        const char *argv[] = SESSION_READ(key);
        if ((st = command_send(rc, 9, argv)) != GH_OK)
            return st;
        user_st = kv->store->user_by_id(kv->store, k->user_id, u);
        if ((st = reply_of(rc, &rep)) == GH_OK)
            st = session_of_reply(rep, token_hash, now, s);
        /* a session that is gone is forgotten: replaying its cookie costs no database query */
        if (st == GH_NOT_FOUND)
            k->token_hash[0] = '\0';
    } else {
        st = read_session(kv, token_hash, now, s);
    }
    if (st != GH_OK)
        return st;
    if (!known || strcmp(s->user_id, k->user_id)) {
        user_st = kv->store->user_by_id(kv->store, s->user_id, u);
        if (k && user_st == GH_OK) {
            strcpy(k->token_hash, s->token_hash);
            strcpy(k->user_id, s->user_id);
        }
    }
    return user_st;
}

static gh_status rd_session_touch(struct kv *kv, const char *token_hash, int64_t now)
{
    char key[96], seen[24];
    session_key(token_hash, key, sizeof key);
    snprintf(seen, sizeof seen, "%lld", (long long)now);
    /* HSET would recreate a session deleted meanwhile: only touch one that still exists. */
    const char *argv[] = {"EVAL",
                          "if redis.call('EXISTS', KEYS[1]) == 1 then "
                          "redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1]) end return 0",
                          "1", key, seen};
    return command_ok(kv, 5, argv);
}

/* Deletes one session key and its entry in the user's set; GH_NOT_FOUND when it did not exist. */
static gh_status delete_session(struct kv *kv, const char *token_hash, const char *user_id)
{
    char key[96], ukey[64];
    redisReply *rep = NULL;
    session_key(token_hash, key, sizeof key);
    user_key(user_id, ukey, sizeof ukey);
    const char *srem[] = {"SREM", ukey, token_hash};
    const char *del[] = {"DEL", key};
    gh_status st = command_ok(kv, 3, srem);
    if (st == GH_OK)
        st = command(kv, &rep, 2, del);
    if (st != GH_OK)
        return st;
    st = (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0) ? GH_OK : GH_NOT_FOUND;
    freeReplyObject(rep);
    return st;
}

static gh_status rd_session_delete(struct kv *kv, const char *token_hash)
{
    struct session s;
    gh_status st = read_session(kv, token_hash, 0, &s);
    if (st != GH_OK)
        return st;
    return delete_session(kv, token_hash, s.user_id);
}

/* The token hashes in the user's set (caller frees the reply). */
static gh_status user_sessions(struct kv *kv, const char *user_id, redisReply **out)
{
    char ukey[64];
    user_key(user_id, ukey, sizeof ukey);
    const char *argv[] = {"SMEMBERS", ukey};
    gh_status st = command(kv, out, 2, argv);
    if (st == GH_OK && (*out)->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(*out);
        return GH_INTERNAL;
    }
    return st;
}

static int newest_first(const void *a, const void *b)
{
    const struct session *x = a, *y = b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? 1 : -1;
    return strcmp(x->id, y->id);
}

/* Reads every live session of the user (forgetting expired ones), then keeps the newest cap:
 * a set has no order, so all are read before any is dropped. */
static gh_status rd_session_list(struct kv *kv, const char *user_id, int64_t now,
                                 struct session *out, size_t cap, size_t *count)
{
    redisReply *set = NULL;
    struct session *live = NULL;
    size_t n = 0;
    char ukey[64];
    *count = 0;
    gh_status st = user_sessions(kv, user_id, &set);
    if (st != GH_OK)
        return st;
    if (set->elements && !(live = calloc(set->elements, sizeof *live))) {
        st = GH_NO_MEMORY;
        goto out;
    }
    for (size_t i = 0; st == GH_OK && i < set->elements; i++) {
        const char *hash = set->element[i]->str;
        gh_status one = read_session(kv, hash, now, &live[n]);
        if (one == GH_OK) {
            n++;
        } else if (one == GH_NOT_FOUND) {
            user_key(user_id, ukey, sizeof ukey);
            const char *srem[] = {"SREM", ukey, hash}; /* expired: forget it */
            st = command_ok(kv, 3, srem);
        } else {
            st = one;
        }
    }
    if (st == GH_OK && n && cap) {
        qsort(live, n, sizeof *live, newest_first);
        *count = n < cap ? n : cap;
        memcpy(out, live, *count * sizeof *live);
    }
out:
    free(live);
    freeReplyObject(set);
    return st;
}

static gh_status rd_session_delete_all(struct kv *kv, const char *user_id, const char *keep)
{
    redisReply *set = NULL;
    gh_status st = user_sessions(kv, user_id, &set);
    for (size_t i = 0; st == GH_OK && i < set->elements; i++) {
        const char *hash = set->element[i]->str;
        if (keep && !strcmp(hash, keep))
            continue;
        gh_status one = delete_session(kv, hash, user_id);
        if (one != GH_OK && one != GH_NOT_FOUND)
            st = one;
    }
    freeReplyObject(set);
    return st;
}

/* INCR and set the window's expiry on its first hit, atomically, returning count and TTL. */
static const char rate_script[] =
    "local c = redis.call('INCR', KEYS[1]) "
    "if c == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "local t = redis.call('TTL', KEYS[1]) "
    "if t < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end "
    "return {c, t}";

static gh_status rd_rate_hit(struct kv *kv, const char *key, int window, int64_t now,
                             int64_t *count, int64_t *window_end)
{
    char rkey[400], win[16];
    redisReply *rep = NULL;
    snprintf(rkey, sizeof rkey, "gh:%s", key);
    snprintf(win, sizeof win, "%d", window);
    const char *argv[] = {"EVAL", rate_script, "1", rkey, win};
    gh_status st = command(kv, &rep, 5, argv);
    if (st != GH_OK)
        return st;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        freeReplyObject(rep);
        return GH_INTERNAL;
    }
    *count = reply_int(rep->element[0]);
    *window_end = now + reply_int(rep->element[1]);
    freeReplyObject(rep);
    return GH_OK;
}

/* DECR only a live counter above zero: a window that expired meanwhile is not recreated. */
static const char refund_script[] = "local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
                                    "if c > 0 then return redis.call('DECR', KEYS[1]) end "
                                    "return 0";

static gh_status rd_rate_refund(struct kv *kv, const char *key, int64_t now)
{
    char rkey[400];
    (void)now; /* the key's expiry is the window's end */
    snprintf(rkey, sizeof rkey, "gh:%s", key);
    const char *argv[] = {"EVAL", refund_script, "1", rkey};
    return command_ok(kv, 4, argv);
}

static gh_status rd_rate_clear(struct kv *kv, const char *key)
{
    char rkey[400];
    snprintf(rkey, sizeof rkey, "gh:%s", key);
    const char *argv[] = {"DEL", rkey};
    return command_ok(kv, 2, argv);
}

static void rd_close(struct kv *kv)
{
    struct redis_kv *r = impl_of(kv);
    if (!r)
        return;
    thread_conns_close(&r->conns);
    free(r);
}

/* Splits redis://[:password@]host[:port][/db] with libcurl's URL parser. */
static gh_status parse_url(struct redis_kv *r, const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *path = NULL, *password = NULL;
    gh_status st = GH_INTERNAL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strlen(host) >= sizeof r->host)
        goto out;
    strcpy(r->host, host);
    r->port = 6379;
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
        r->port = atoi(port);
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && path[0] == '/' && path[1])
        r->db = atoi(path + 1);
    if (curl_url_get(u, CURLUPART_PASSWORD, &password, CURLU_URLDECODE) == CURLUE_OK) {
        if (strlen(password) >= sizeof r->password)
            goto out;
        strcpy(r->password, password);
    }
    st = GH_OK;
out:
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(password);
    curl_url_cleanup(u);
    return st;
}

gh_status kv_redis_open(const char *url, struct store *store, struct kv **out)
{
    struct redis_kv *r = calloc(1, sizeof *r);
    if (!r)
        return GH_NO_MEMORY;
    if (thread_conns_init(&r->conns, r, rconn_open, rconn_free) != GH_OK) {
        free(r);
        return GH_INTERNAL;
    }
    r->base = (struct kv){.impl = r,
                          .store = store,
                          .ping = rd_ping,
                          .session_insert = rd_session_insert,
                          .session_lookup = rd_session_lookup,
                          .session_touch = rd_session_touch,
                          .session_delete = rd_session_delete,
                          .session_list = rd_session_list,
                          .session_delete_all = rd_session_delete_all,
                          .rate_hit = rd_rate_hit,
                          .rate_refund = rd_rate_refund,
                          .rate_clear = rd_rate_clear,
                          .close = rd_close};
    if (parse_url(r, url) != GH_OK) {
        log_msg(LOG_ERROR, "REDIS_URL cannot be parsed");
        rd_close(&r->base);
        return GH_INTERNAL;
    }
    /* Connect once now so a wrong URL is reported at start; a Redis that is down only warns:
     * requests get 503 until it is back. */
    if (rd_ping(&r->base) != GH_OK)
        log_msg(LOG_WARN, "redis at %s:%d does not answer yet", r->host, r->port);
    *out = &r->base;
    return GH_OK;
}
