/* The HTTP layer: request lifecycle, body limits, route dispatch, replies, suspend/resume
 * around the hash pool, and the access log. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stddef.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/metrics.h"
#include "../util/timeutil.h"
#include "delay.h"
#include "guard.h"
#include "request.h"
#include "router.h"

struct http_server {
    struct app *app;
    const struct route *routes;
    size_t route_count;
    struct http_hooks hooks;
    struct workpool *cpu_pool, *io_pool; /* where ROUTE_ON_*_POOL handlers run */
    struct MHD_Daemon *daemon;
    atomic_int in_flight; /* requests started and not completed */
    atomic_bool stopping; /* new connections are closed at once */
    struct conn_guard *guard;
    struct delay_queue *delay; /* answers held back (reply_hold_until) */
    struct body_budget budget;
};

/* A body larger than this is not read just to be thrown away: a request refused by its headers
 * is answered at once (and the connection closed) instead of after its body. */
/* Memory of one connection for its request line, headers and read buffer (what nginx allows
 * by default, four 8 KiB header buffers). libmicrohttpd zeroes all of it after every request,
 * so it is kept no larger than requests need. */
#define CONNECTION_MEMORY (32 * 1024)

#define DISCARD_BODY_MAX (16 * 1024)

/* ---- request lifecycle ---- */

static void request_free(struct request *req)
{
    if (!req)
        return;
    if (req->response)
        MHD_destroy_response(req->response);
    form_free(&req->form);
    json_decref(req->json);
    buf_free(&req->body);
    free(req);
}

/* True when text is an IPv4 or IPv6 address. */
static bool is_ip_address(const char *text)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1;
}

/* Behind a trusted proxy, the client is the rightmost X-Forwarded-For entry that is not itself
 * a trusted proxy; anything that is not an address leaves the peer address in place. */
static void apply_forwarded_for(struct request *req)
{
    const struct config *cfg = req->app->cfg;
    const char *xff = request_header(req, "X-Forwarded-For");
    if (!xff || !config_proxy_trusted(cfg, req->client.ip))
        return;
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        char entry[IP_MAX];
        size_t a = start, b = end;
        while (a < b && xff[a] == ' ')
            a++;
        while (b > a && xff[b - 1] == ' ')
            b--;
        if (b - a == 0 || b - a >= sizeof entry)
            return;
        memcpy(entry, xff + a, b - a);
        entry[b - a] = '\0';
        if (!is_ip_address(entry))
            return;
        if (!config_proxy_trusted(cfg, entry)) {
            strcpy(req->client.ip, entry);
            return;
        }
        end = start > 0 ? start - 1 : 0;
    }
}

static void fill_client(struct request *req)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    strcpy(req->client.ip, "unknown");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  req->client.ip, sizeof req->client.ip);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  req->client.ip, sizeof req->client.ip);
    apply_forwarded_for(req);
    const char *ua = request_header(req, MHD_HTTP_HEADER_USER_AGENT);
    snprintf(req->client.user_agent, sizeof req->client.user_agent, "%s", ua ? ua : "");
}

/* Copies the URL path without its trailing slash (the root stays "/"). */
static void normalize_path(const char *url, char *out, size_t cap)
{
    size_t n = strcspn(url, "?");
    if (n >= cap)
        n = cap - 1; /* such a long path matches no route anyway */
    memcpy(out, url, n);
    out[n] = '\0';
    if (n > 1 && out[n - 1] == '/')
        out[n - 1] = '\0';
}

static bool is_state_changing(const char *method)
{
    return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/* True when the Content-Type names application/json (parameters such as charset allowed). */
static bool is_json_content_type(const char *ct)
{
    if (!ct || strncasecmp(ct, "application/json", 16))
        return false;
    return ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ';
}

/* ---- what the headers decide ---- */

struct framing {
    unsigned content_lengths;    /* Content-Length headers */
    unsigned transfer_encodings; /* Transfer-Encoding headers */
    bool chunked_only;           /* every Transfer-Encoding is exactly "chunked" */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *fr = cls;
    (void)kind;
    if (!key)
        return MHD_YES;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
        fr->content_lengths++;
    else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        fr->transfer_encodings++;
        if (!value || strcasecmp(value, "chunked"))
            fr->chunked_only = false;
    }
    return MHD_YES;
}

/* Refuses a body length given twice or in two ways (Content-Length with Transfer-Encoding), or
 * a transfer coding other than chunked: a proxy in front may read such a request differently
 * (request smuggling). */
static gh_status check_framing(struct request *req)
{
    struct framing fr = {.chunked_only = true};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_framing, &fr);
    if (fr.content_lengths > 1 || (fr.content_lengths && fr.transfer_encodings) ||
        fr.transfer_encodings > 1 || !fr.chunked_only)
        return GH_ERR_BAD_FRAMING;
    return GH_OK;
}

/* The body length the headers announce: SIZE_MAX when unknown (chunked), 0 when none. */
static size_t announced_body(struct request *req)
{
    if (request_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return SIZE_MAX;
    const char *cl = request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return 0;
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10); /* libmicrohttpd checked the digits */
    return n > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)n;
}

static size_t body_limit(const struct request *req)
{
    const struct config *cfg = req->app->cfg;
    return req->is_form ? cfg->max_multipart_body : cfg->max_json_body;
}

/* The Origin check of state-changing requests: the public, frontend and extra origins; and on
 * CORS routes the token clients' origins, for requests without the session cookie (what a
 * cross-site request forgery would ride on). */
static bool origin_allowed(struct request *req, const char *origin)
{
    const struct config *cfg = req->app->cfg;
    if (config_origin_allowed(cfg, origin))
        return true;
    return (req->route->flags & ROUTE_CORS) && config_cors_allowed(cfg, origin) &&
           !request_session_token(req);
}

/* A CORS preflight (OPTIONS to a path whose routes allow other origins): 204 with the methods
 * the path allows and, for an allowed origin, the headers that let the browser go on. */
static void reply_preflight(struct request *req)
{
    reply_cors_preflight(req, req->allow);
}

/* The checks that need only the headers, in the order they are answered. A session is checked
 * here only for requests with a body, so an upload without a valid session is refused before
 * anything of it is read; without a body the check waits for dispatch, as for every request. */
static gh_status check_headers(struct http_server *srv, struct request *req, size_t announced)
{
    if (req->route_match == ROUTE_NO_PATH)
        return GH_ERR_NOT_FOUND_ROUTE;
    if (req->route_match == ROUTE_NO_METHOD)
        return !strcmp(req->method, "OPTIONS") && (req->path_route->flags & ROUTE_CORS)
                   ? GH_PREFLIGHT
                   : GH_ERR_METHOD_NOT_ALLOWED;
    unsigned flags = req->route->flags;
    const char *origin = request_header(req, "Origin");
    if ((flags & ROUTE_ORIGIN_CHECK) && is_state_changing(req->method) && origin &&
        !origin_allowed(req, origin))
        return GH_ERR_BAD_ORIGIN;
    if (announced != SIZE_MAX && announced > body_limit(req))
        return GH_ERR_BODY_TOO_LARGE;
    if (req->route->auth && announced > 0)
        return srv->hooks.authenticate(req, req->route->auth, &req->principal);
    return GH_OK;
}

/* Answers the error the headers decided. */
static void reply_early_error(struct request *req)
{
    if (req->early_error == GH_PREFLIGHT)
        reply_preflight(req);
    else if (req->early_error == GH_ERR_METHOD_NOT_ALLOWED)
        reply_error_allow(req, req->allow);
    else if (req->early_error == GH_ERR_NOT_FOUND_ROUTE)
        reply_error(req, GH_ERR_NOT_FOUND_ROUTE, NULL);
    else
        reply_error(req, req->early_error, NULL);
}

/* ---- the body ---- */

/* Sets up body handling once the route is known: a strict form reader for form routes. */
static void start_body(struct request *req)
{
    req->body.limit = req->app->cfg->max_json_body;
    req->is_form = req->route && (req->route->flags & ROUTE_FORM_BODY);
}

static void start_form(struct request *req, struct http_server *srv)
{
    req->form_status = form_start(&req->form, req->conn, request_header(req, "Content-Type"),
                                  req->app->cfg->avatar_max_bytes, &srv->budget);
}

/* Keeps a chunk of JSON body within the route's limit and the shared budget. */
static void keep_json_chunk(struct request *req, struct body_budget *budget, const char *data,
                            size_t size)
{
    if (req->body_too_large || req->body_over_budget)
        return;
    if (!budget_take(budget, size)) {
        req->body_over_budget = true;
        return;
    }
    req->body_reserved += size;
    if (buf_append(&req->body, data, size) != GH_OK)
        req->body_too_large = true;
}

/* Takes one chunk of body. */
static void receive_body(struct request *req, struct http_server *srv, const char *data,
                         size_t size)
{
    req->body_seen += size;
    if (req->early_error != GH_OK || req->body_too_large)
        return; /* answered from the headers: read and dropped */
    if (req->body_seen > body_limit(req)) {
        req->body_too_large = true;
        return;
    }
    if (req->is_form) {
        if (req->form_status == GH_OK)
            form_feed(&req->form, data, size);
        return;
    }
    if (req->route && (req->route->flags & ROUTE_IGNORE_BODY))
        return;
    keep_json_chunk(req, &srv->budget, data, size);
}

/* Checks the received body against the route's expectations; answers on failure. */
static bool finish_body(struct request *req)
{
    unsigned flags = req->route->flags;
    if (req->body_too_large) {
        reply_error(req, GH_ERR_BODY_TOO_LARGE, NULL);
        return false;
    }
    if (req->body_over_budget) {
        reply_error(req, GH_BUSY, NULL);
        return false;
    }
    if (flags & ROUTE_FORM_BODY) {
        if (req->form_status != GH_OK) {
            if (req->body_seen == 0)
                return true; /* no body, no form: nothing to change */
            reply_error_text(req, req->form_status, NULL,
                             req->form_status == GH_ERR_INVALID_FORM
                                 ? "The boundary of the multipart form is missing or not valid."
                                 : "The request body must be sent as multipart/form-data.");
            return false;
        }
        const char *field = NULL, *text = NULL;
        gh_status st = form_finish(&req->form, &field, &text);
        if (st != GH_OK) {
            if (text)
                reply_error_text(req, st, field, text);
            else
                reply_error(req, st, field);
            return false;
        }
        return true;
    }
    if (!(flags & ROUTE_JSON_BODY))
        return true;
    if (req->body.len > 0 && !is_json_content_type(request_header(req, "Content-Type"))) {
        reply_error(req, GH_ERR_UNSUPPORTED_MEDIA_TYPE, NULL);
        return false;
    }
    json_error_t jerr;
    req->json = req->body.len
                    ? json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr)
                    : NULL;
    if (!json_is_object(req->json)) {
        reply_error(req, GH_ERR_INVALID_JSON, NULL);
        return false;
    }
    return true;
}

/* The checks of the route's flags that need the body, in order; answers and returns false when
 * one fails. The session is checked (again) here so a handler sees its state of now, not of
 * when an upload began. */
static bool run_route_checks(struct http_server *srv, struct request *req)
{
    const struct route *route = req->route;
    if (!finish_body(req))
        return false;
    gh_status st;
    if ((route->flags & ROUTE_RATE_IP) && (st = srv->hooks.admit(req)) != GH_OK) {
        reply_error(req, st, NULL);
        return false;
    }
    if (route->auth && (st = srv->hooks.authenticate(req, route->auth, &req->principal)) != GH_OK) {
        reply_error(req, st, NULL);
        return false;
    }
    return true;
}

/* Runs a pool route's handler on a worker, then hands the connection back to libmicrohttpd,
 * whose thread sends the answer: at once, or from the delay queue when the handler held its
 * answer back. */
static void run_on_pool(struct work *w)
{
    struct request *req = (struct request *)(void *)((char *)w - offsetof(struct request, work));
    req->route->handler(req);
    req->phase = PHASE_RESUMED;
    /* read before resuming: the connection's thread may free the request from then on */
    struct MHD_Connection *conn = req->conn;
    int64_t until = req->hold_until_us;
    if (until > 0)
        delay_resume_at(req->delay, conn, until);
    else
        MHD_resume_connection(conn);
}

/* The pool a route's handler runs on; NULL: the connection's thread. */
static struct workpool *pool_of(const struct http_server *srv, const struct route *route)
{
    if (route->flags & ROUTE_ON_CPU_POOL)
        return srv->cpu_pool;
    if (route->flags & ROUTE_ON_IO_POOL)
        return srv->io_pool;
    return NULL;
}

/* Hands the handler to a pool where a place was reserved for it, with the connection
 * suspended. */
static void hand_to_pool(struct request *req, struct workpool *pool)
{
    req->work.run = run_on_pool;
    req->phase = PHASE_SUSPENDED;
    req->handed_off = true;
    MHD_suspend_connection(req->conn);
    workpool_submit(pool, &req->work);
}

static void dispatch(struct http_server *srv, struct request *req)
{
    guard_body_done(req->guarded);
    req->handed_off = false;
    if (req->early_error != GH_OK) {
        reply_early_error(req);
        return;
    }
    /* A pool route's place is reserved before the checks: when the pool is full the answer is
     * 503 + Retry-After at once, before a rate-limit counter is written or a session read, so a
     * flood beyond the pool's capacity costs the database nothing. */
    struct workpool *pool = pool_of(srv, req->route);
    if (pool && workpool_reserve(pool) != GH_OK) {
        reply_error(req, GH_BUSY, NULL);
        return;
    }
    if (!run_route_checks(srv, req)) {
        if (pool)
            workpool_release(pool);
        return;
    }
    if (pool)
        hand_to_pool(req, pool);
    else
        req->route->handler(req);
}

/* Queues the answer the handler built, on the connection's thread. A handler that neither
 * answered nor handed its work on is a bug, and the client still gets a JSON 500; when not even
 * that could be built, the connection is closed. Once work is handed to a pool, the request
 * belongs to the worker until it resumes the connection: nothing of it is read here. */
static enum MHD_Result send_answer(struct request *req)
{
    if (req->handed_off)
        return MHD_YES;
    if (!req->answered) {
        log_msg(LOG_ERROR, "handler for %s %s did not answer", req->method, req->path);
        reply_error(req, GH_INTERNAL, NULL);
    }
    req->phase = PHASE_ANSWERED;
    if (!req->response)
        return MHD_NO;
    enum MHD_Result queued = MHD_queue_response(req->conn, req->status, req->response);
    MHD_destroy_response(req->response);
    req->response = NULL;
    if (queued != MHD_YES)
        log_msg(LOG_ERROR, "response could not be queued");
    return MHD_YES;
}

/* Starts a request: called once per request when its headers have arrived. */
static struct request *request_new(struct http_server *srv, struct MHD_Connection *conn,
                                   const char *url, const char *method)
{
    struct request *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->app = srv->app;
    req->conn = conn;
    req->method = method;
    req->started_us = time_mono_us();
    req->phase = PHASE_RECEIVING;
    req->delay = srv->delay;
    normalize_path(url, req->path, sizeof req->path);
    req->route_match = router_find(srv->routes, srv->route_count, method, req->path, &req->route,
                                   req->param, sizeof req->param, req->allow, sizeof req->allow);
    req->path_route = req->route_match == ROUTE_NO_PATH ? NULL : req->route;
    if (req->route_match != ROUTE_FOUND)
        req->route = NULL;
    fill_client(req);
    start_body(req);
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req->guarded = info ? info->socket_context : NULL;
    guard_headers_done(req->guarded);
    atomic_fetch_add(&srv->in_flight, 1);
    return req;
}

/* The first call of a request, with its headers: answers at once what must not wait for the
 * body (a smuggling-prone framing; a refusal of a large body), else prepares for the body. */
static void begin_request(struct http_server *srv, struct request *req)
{
    gh_status st = check_framing(req);
    if (st != GH_OK) {
        guard_linger(srv->guard, req->guarded);
        reply_error(req, st, NULL); /* answered before the body: the connection is closed */
        return;
    }
    size_t announced = announced_body(req);
    req->early_error = check_headers(srv, req, announced);
    if (req->early_error != GH_OK) {
        /* A small body is read and dropped so the connection stays usable; a large one, or one
         * the client holds back until told to continue, is not read at all. */
        if (announced > DISCARD_BODY_MAX || request_header(req, "Expect")) {
            guard_linger(srv->guard, req->guarded);
            reply_early_error(req);
        }
        return;
    }
    if (req->is_form && announced > 0)
        start_form(req, srv);
    else if (req->is_form)
        req->form_status = GH_ERR_UNSUPPORTED_MEDIA_TYPE; /* no body: nothing to parse */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct request *req = *con_cls;
    (void)version;
    if (!req) {
        req = request_new(srv, conn, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        begin_request(srv, req);
        return req->answered ? send_answer(req) : MHD_YES;
    }
    if (req->phase == PHASE_RESUMED) {
        req->handed_off = false;
        return send_answer(req);
    }
    if (*upload_data_size) {
        if (req->phase == PHASE_RECEIVING)
            receive_body(req, srv, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->phase != PHASE_RECEIVING)
        return MHD_YES;
    dispatch(srv, req);
    return send_answer(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct request *req = *con_cls;
    (void)conn;
    (void)toe;
    if (!req)
        return;
    int64_t us = time_mono_us() - req->started_us;
    metrics_request(req->route ? (int)(req->route - srv->routes) : -1, req->status, us);
    if (srv->app->cfg->log_requests)
        log_request(req->method, req->path, req->status, us, req->client.ip);
    if (req->body_reserved)
        budget_release(&srv->budget, req->body_reserved);
    guard_request_done(req->guarded);
    request_free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
}

/* Accept policy: refuses a connection whose address holds its share already. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct http_server *srv = cls;
    (void)addrlen;
    if (atomic_load(&srv->stopping))
        return MHD_NO;
    return guard_admit(srv->guard, addr) ? MHD_YES : MHD_NO;
}

/* Tracks each connection in the guard from set-up to close. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        guard_closed(srv->guard, *socket_context);
        *socket_context = NULL;
        return;
    }
    /* Each answer of MHD_get_connection_info may be the same buffer, overwritten by the next
     * call (libmicrohttpd 1.0 does that for the socket): take the value before asking again. */
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info) {
        *socket_context = NULL;
        return;
    }
    MHD_socket fd = info->connect_fd;
    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    *socket_context = guard_opened(srv->guard, fd, info ? info->client_addr : NULL);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    (void)cls;
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    log_msg(LOG_WARN, "http: %s", text);
}

gh_status http_listen(const char *host, uint16_t port, int *fd_out, uint16_t *bound)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    struct addrinfo *res = NULL;
    char portstr[8];
    int fd = -1;
    gh_status st = GH_UNAVAILABLE;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0) {
        log_msg(LOG_ERROR, "cannot listen on %s: not a numeric address", host);
        return GH_INTERNAL;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
        log_msg(LOG_ERROR, "cannot listen on %s:%u: %s", host, (unsigned)port, strerror(errno));
        goto out;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl))
        goto out;
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    fd = -1;
    st = GH_OK;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return st;
}

gh_status http_server_start(const struct http_setup *setup, int fd, struct http_server **out)
{
    struct app *app = setup->app;
    const struct config *cfg = app->cfg;
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        close(fd);
        return GH_NO_MEMORY;
    }
    srv->app = app;
    srv->routes = setup->routes;
    srv->route_count = setup->route_count;
    srv->hooks = setup->hooks;
    srv->cpu_pool = setup->cpu_pool;
    srv->io_pool = setup->io_pool;
    srv->budget.cap = cfg->body_memory_max;
    if (guard_start(cfg, &srv->guard) != GH_OK) {
        close(fd);
        free(srv);
        return GH_INTERNAL;
    }
    if (delay_start(&srv->delay) != GH_OK) {
        close(fd);
        guard_stop(&srv->guard);
        free(srv);
        return GH_INTERNAL;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads =
        cfg->http_threads > 0 ? (unsigned)cfg->http_threads : (unsigned)(cores > 0 ? cores : 1);
    srv->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, on_accept,
        srv, on_request, srv,
        /* first, so that the library logs even its option checks through it */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        log_msg(LOG_ERROR, "the HTTP server could not start");
        close(fd);
        delay_stop(&srv->delay);
        guard_stop(&srv->guard);
        free(srv);
        return GH_INTERNAL;
    }
    *out = srv;
    return GH_OK;
}

/* Not MHD_quiesce_daemon: with a thread pool on epoll, libmicrohttpd 0.9.75's quiesce races
 * the worker threads, which also take the listening socket out of their epoll sets, and aborts
 * the process when a worker was first ("Failed to remove listen FD from epoll set"), losing
 * the requests in flight. */
void http_server_stop_accepting(struct http_server *srv)
{
    atomic_store(&srv->stopping, true);
}

unsigned http_server_in_flight(struct http_server *srv)
{
    int n = atomic_load(&srv->in_flight);
    return n > 0 ? (unsigned)n : 0;
}

void http_server_stop(struct http_server **srvp)
{
    struct http_server *srv = srvp ? *srvp : NULL;
    if (!srv)
        return;
    delay_stop(&srv->delay);      /* resumes what still waits: nothing may stay suspended */
    MHD_stop_daemon(srv->daemon); /* closes the listening socket */
    guard_stop(&srv->guard);
    free(srv);
    *srvp = NULL;
}
