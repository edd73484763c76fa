/* The HTTP layer: request lifecycle, body limits, route dispatch, replies, suspend/resume
 * around the hash pool, and the access log. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/audit.h"
#include "../core/ratelimit.h"
#include "../core/session.h"
#include "../util/log.h"
#include "../util/metrics.h"
#include "../util/timeutil.h"
#include "request.h"
#include "router.h"

struct http_server {
    struct app *app;
    struct MHD_Daemon *daemon;
    int fd;
    atomic_int in_flight; /* requests started and not completed */
};

/* ---- request lifecycle ---- */

static void request_free(struct request *req)
{
    if (!req)
        return;
    if (req->state_free)
        req->state_free(req->state);
    if (req->form_parser)
        MHD_destroy_post_processor(req->form_parser);
    for (size_t i = 0; i < req->form.count; i++)
        buf_free(&req->form.fields[i].value);
    json_decref(req->json);
    buf_free(&req->body);
    sodium_memzero(&req->job, sizeof req->job);
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

/* ---- form bodies (multipart/form-data, urlencoded) through MHD's post processor ---- */

static struct form_field *form_field_for(struct form *form, const char *name, bool is_file)
{
    for (size_t i = 0; i < form->count; i++)
        if (!strcmp(form->fields[i].name, name))
            return &form->fields[i];
    if (form->count >= FORM_MAX_FIELDS || strlen(name) >= sizeof form->fields[0].name)
        return NULL; /* unknown extra parts are ignored anyway */
    struct form_field *f = &form->fields[form->count++];
    strcpy(f->name, name);
    f->is_file = is_file;
    return f;
}

static enum MHD_Result on_form_part(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    struct request *req = cls;
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    (void)off;
    struct form_field *f = form_field_for(&req->form, key, filename != NULL);
    if (!f || f->too_large)
        return MHD_YES;
    if (!f->value.limit)
        f->value.limit = f->is_file ? req->app->cfg->avatar_max_bytes : FORM_TEXT_MAX;
    if (size && buf_append(&f->value, data, size) != GH_OK) {
        f->too_large = true;
        buf_free(&f->value);
    }
    return MHD_YES;
}

/* Sets up body handling once the route is known: a form parser for form routes. */
static void start_body(struct request *req)
{
    const struct config *cfg = req->app->cfg;
    req->body.limit = cfg->max_json_body;
    if (!req->route || !(req->route->flags & ROUTE_FORM_BODY))
        return;
    req->form_parser = MHD_create_post_processor(req->conn, 16 * 1024, on_form_part, req);
    if (!req->form_parser)
        req->form.unsupported = true; /* not a form Content-Type: answered with 415 */
}

/* Takes one chunk of body. */
static void receive_body(struct request *req, const char *data, size_t size)
{
    const struct config *cfg = req->app->cfg;
    bool is_form = req->route && (req->route->flags & ROUTE_FORM_BODY);
    size_t limit = is_form ? cfg->max_multipart_body : cfg->max_json_body;
    req->body_seen += size;
    if (req->body_seen > limit) {
        req->body_too_large = true;
        buf_free(&req->body);
        return;
    }
    if (req->body_too_large)
        return;
    if (is_form) {
        if (req->form_parser && MHD_post_process(req->form_parser, data, size) != MHD_YES)
            req->form.malformed = true;
        return;
    }
    if (req->route && (req->route->flags & ROUTE_IGNORE_BODY))
        return;
    if (buf_append(&req->body, data, size) != GH_OK) {
        req->body_too_large = true;
        buf_free(&req->body);
    }
}

/* Checks the received body against the route's expectations; answers on failure. */
static bool finish_body(struct request *req)
{
    unsigned flags = req->route->flags;
    if (req->body_too_large) {
        reply_error(req, GH_ERR_BODY_TOO_LARGE, NULL);
        return false;
    }
    if (flags & ROUTE_FORM_BODY) {
        if (req->form_parser && MHD_destroy_post_processor(req->form_parser) != MHD_YES)
            req->form.malformed = true;
        req->form_parser = NULL;
        if (req->form.unsupported && req->body_seen > 0) {
            reply_error_text(req, GH_ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
                             "The request body must be sent as multipart/form-data.");
            return false;
        }
        if (req->form.malformed) {
            reply_error_text(req, GH_ERR_INVALID_JSON, NULL, "The form data could not be read.");
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

/* The checks of the route's flags, in order; answers and returns false when one fails. */
static bool run_route_checks(struct request *req)
{
    unsigned flags = req->route->flags;
    const char *origin = request_header(req, "Origin");
    if ((flags & ROUTE_ORIGIN_CHECK) && is_state_changing(req->method) && origin &&
        !config_origin_allowed(req->app->cfg, origin)) {
        reply_error(req, GH_ERR_BAD_ORIGIN, NULL);
        return false;
    }
    if (!finish_body(req))
        return false;
    gh_status st;
    /* A relaying frontend's address is shared by all its users: not limited per IP. */
    if ((flags & ROUTE_RATE_IP) && !config_frontend_relaying(req->app->cfg, req->client.ip) &&
        (st = ratelimit_hit(req->app, RATE_IP, req->client.ip, &req->retry_after)) != GH_OK) {
        audit_record(req->app, "rate_limited", NULL, NULL, &req->client, req->path);
        reply_error(req, st, NULL);
        return false;
    }
    if ((flags & ROUTE_SESSION) &&
        (st = session_authenticate(req->app, request_session_token(req), &req->session,
                                   &req->user)) != GH_OK) {
        reply_error(req, st, NULL);
        return false;
    }
    return true;
}

static void dispatch(struct request *req)
{
    if (req->route_match == ROUTE_NO_PATH) {
        reply_error(req, GH_ERR_NOT_FOUND_ROUTE, NULL);
        return;
    }
    if (req->route_match == ROUTE_NO_METHOD) {
        reply_error_allow(req, req->allow);
        return;
    }
    req->handed_off = false;
    if (run_route_checks(req))
        req->route->handler(req);
}

/* Makes sure the request was answered: a handler that neither replied nor suspended is a bug,
 * and the client still gets a JSON 500. */
static enum MHD_Result ensure_answered(struct request *req)
{
    /* Once a job is handed to the pool, its worker may already have finished and moved the
     * phase on: the phase is only read when nothing was handed off. */
    if (!req->handed_off && req->phase != PHASE_ANSWERED) {
        log_msg(LOG_ERROR, "handler for %s %s did not answer", req->method, req->path);
        reply_error(req, GH_INTERNAL, NULL);
    }
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
    normalize_path(url, req->path, sizeof req->path);
    req->route_match = router_find(method, req->path, &req->route, req->param, sizeof req->param,
                                   req->allow, sizeof req->allow);
    if (req->route_match != ROUTE_FOUND)
        req->route = NULL;
    fill_client(req);
    start_body(req);
    atomic_fetch_add(&srv->in_flight, 1);
    return req;
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
        return MHD_YES;
    }
    if (req->phase == PHASE_RESUMED) {
        req->handed_off = false;
        req->resume(req);
        return ensure_answered(req);
    }
    if (*upload_data_size) {
        if (req->phase == PHASE_RECEIVING)
            receive_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->phase != PHASE_RECEIVING)
        return MHD_YES;
    dispatch(req);
    return ensure_answered(req);
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
    double ms = (double)(time_mono_us() - req->started_us) / 1000.0;
    metrics_request(req->route ? (int)(req->route - routes) : -1, req->status, ms);
    if (srv->app->cfg->log_requests)
        log_request(req->method, req->path, req->status, ms, req->client.ip);
    request_free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
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

gh_status http_server_start(struct app *app, int fd, struct http_server **out)
{
    const struct config *cfg = app->cfg;
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        close(fd);
        return GH_NO_MEMORY;
    }
    srv->app = app;
    srv->fd = fd;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads =
        cfg->http_threads > 0 ? (unsigned)cfg->http_threads : (unsigned)(cores > 0 ? cores : 1);
    srv->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        log_msg(LOG_ERROR, "the HTTP server could not start");
        close(fd);
        free(srv);
        return GH_INTERNAL;
    }
    *out = srv;
    return GH_OK;
}

void http_server_quiesce(struct http_server *srv)
{
    int fd = (int)MHD_quiesce_daemon(srv->daemon);
    if (fd >= 0)
        close(fd);
    srv->fd = -1;
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
    MHD_stop_daemon(srv->daemon); /* closes the listening socket unless quiesced before */
    free(srv);
    *srvp = NULL;
}
