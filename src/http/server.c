/* The HTTP layer: request lifecycle, body limits, route dispatch, replies, suspend/resume
 * around the hash pool, and the access log. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/timeutil.h"
#include "cookie.h"
#include "errors.h"
#include "request.h"
#include "router.h"

struct http_server {
    struct app *app;
    struct MHD_Daemon *daemon;
    int fd;
};

/* ---- replies ---- */

static void add_common_headers(struct request *req, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; frame-ancestors 'none'");
    if (!strncmp(req->app->cfg->public_url, "https://", 8))
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    if (req->cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, req->cookie);
}

/* Queues resp with the given status; frees resp. */
static void queue(struct request *req, unsigned status, struct MHD_Response *resp)
{
    add_common_headers(req, resp);
    req->status = status;
    req->phase = PHASE_ANSWERED;
    if (MHD_queue_response(req->conn, status, resp) != MHD_YES)
        log_msg(LOG_ERROR, "response could not be queued");
    MHD_destroy_response(resp);
}

/* A JSON answer that could not be built; still JSON, still an answer. */
static const char fallback_body[] =
    "{\"error\":\"Something went wrong on our side. Please try again.\",\"code\":\"internal\"}";

void reply_json(struct request *req, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct MHD_Response *resp;
    if (text) {
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    } else {
        status = 500;
        resp = MHD_create_response_from_buffer(sizeof fallback_body - 1, (void *)fallback_body,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        free(text);
        log_msg(LOG_ERROR, "response could not be created");
        req->phase = PHASE_ANSWERED;
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    queue(req, status, resp);
}

void reply_message(struct request *req, unsigned status, const char *text)
{
    reply_json(req, status, json_pack("{s:s}", "message", text));
}

static void reply_error_with(struct request *req, gh_status err, const char *field,
                             const char *text, const char *extra_header, const char *extra_value)
{
    const struct error_info *info = error_lookup(err);
    char message[256];
    const char *fmt = info->message;
    if (text)
        snprintf(message, sizeof message, "%s", text);
    else if (strstr(fmt, "%s"))
        snprintf(message, sizeof message, fmt, field ? field : "given");
    else
        snprintf(message, sizeof message, "%s", fmt);
    json_t *body = json_pack("{s:s, s:s}", "error", message, "code", info->code);
    if (body && field)
        json_object_set_new(body, "field", json_string(field));
    if (info->http_status >= 500)
        log_msg(LOG_WARN, "%s %s answered %u (%s)", req->method, req->path, info->http_status,
                info->code);
    char *dumped = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct MHD_Response *resp =
        dumped ? MHD_create_response_from_buffer(strlen(dumped), dumped, MHD_RESPMEM_MUST_FREE)
               : MHD_create_response_from_buffer(sizeof fallback_body - 1, (void *)fallback_body,
                                                 MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(dumped);
        req->phase = PHASE_ANSWERED;
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    if (extra_header)
        MHD_add_response_header(resp, extra_header, extra_value);
    queue(req, info->http_status, resp);
}

void reply_error(struct request *req, gh_status err, const char *field)
{
    if (err == GH_BUSY || err == GH_UNAVAILABLE || err == GH_NO_MEMORY)
        reply_error_with(req, err, field, NULL, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    else
        reply_error_with(req, err, field, NULL, NULL, NULL);
}

void reply_error_text(struct request *req, gh_status err, const char *field, const char *text)
{
    reply_error_with(req, err, field, text, NULL, NULL);
}

void reply_redirect(struct request *req, const char *location)
{
    json_t *body = json_pack("{s:s}", "message", "See the Location header.");
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(text);
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    queue(req, 303, resp);
}

void reply_set_session_cookie(struct request *req, const char *token)
{
    cookie_format_session(req->app->cfg, token, req->cookie, sizeof req->cookie);
}

void reply_clear_session_cookie(struct request *req)
{
    cookie_format_session(req->app->cfg, NULL, req->cookie, sizeof req->cookie);
}

/* ---- request accessors ---- */

const char *request_header(struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *request_query(struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *request_session_token(struct request *req)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, req->app->cfg->cookie_name);
}

/* ---- the hash pool around a suspended connection ---- */

static void hash_job_done(struct hash_job *job, void *arg)
{
    struct request *req = arg;
    (void)job;
    req->phase = PHASE_RESUMED;
    MHD_resume_connection(req->conn);
}

void http_run_hash_job(struct request *req, enum hash_job_kind kind, const char *password,
                       const char *hash, void (*resume)(struct request *req))
{
    if (hashpool_reserve(req->app->hashpool) != GH_OK) {
        reply_error(req, GH_BUSY, NULL);
        return;
    }
    memset(&req->job, 0, sizeof req->job);
    req->job.kind = kind;
    req->job.password = password;
    if (hash && str_copy(req->job.hash, sizeof req->job.hash, hash) != GH_OK)
        req->job.hash[0] = '\0'; /* an impossible hash simply fails verification */
    req->job.done = hash_job_done;
    req->job.arg = req;
    req->resume = resume;
    req->phase = PHASE_SUSPENDED;
    MHD_suspend_connection(req->conn);
    hashpool_submit(req->app->hashpool, &req->job);
}

/* ---- request lifecycle ---- */

static void request_free(struct request *req)
{
    if (!req)
        return;
    if (req->state_free)
        req->state_free(req->state);
    json_decref(req->json);
    buf_free(&req->body);
    sodium_memzero(&req->job, sizeof req->job);
    free(req);
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

/* Checks the body against the route's expectations and parses JSON; answers on failure. */
static bool prepare_body(struct request *req)
{
    if (req->body_too_large) {
        reply_error(req, GH_ERR_BODY_TOO_LARGE, NULL);
        return false;
    }
    if (!(req->route->flags & ROUTE_JSON_BODY))
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

static void dispatch(struct request *req)
{
    char allow[64];
    enum route_match m = router_find(req->method, req->path, &req->route, req->param,
                                     sizeof req->param, allow, sizeof allow);
    if (m == ROUTE_NO_PATH) {
        reply_error(req, GH_ERR_NOT_FOUND_ROUTE, NULL);
        return;
    }
    if (m == ROUTE_NO_METHOD) {
        reply_error_with(req, GH_ERR_METHOD_NOT_ALLOWED, NULL, NULL, MHD_HTTP_HEADER_ALLOW, allow);
        return;
    }
    const char *origin = request_header(req, "Origin");
    if ((req->route->flags & ROUTE_ORIGIN_CHECK) && is_state_changing(req->method) && origin &&
        !config_origin_allowed(req->app->cfg, origin)) {
        reply_error(req, GH_ERR_BAD_ORIGIN, NULL);
        return;
    }
    if (!prepare_body(req))
        return;
    req->route->handler(req);
}

/* Makes sure the request was answered: a handler that neither replied nor suspended is a bug,
 * and the client still gets a JSON 500. */
static enum MHD_Result ensure_answered(struct request *req)
{
    if (req->phase == PHASE_RECEIVING || req->phase == PHASE_RESUMED) {
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
    req->body.limit = srv->app->cfg->max_json_body;
    fill_client(req);
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
        req->resume(req);
        return ensure_answered(req);
    }
    if (*upload_data_size) {
        if (!req->body_too_large &&
            buf_append(&req->body, upload_data, *upload_data_size) != GH_OK) {
            req->body_too_large = true;
            buf_free(&req->body);
        }
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
    if (srv->app->cfg->log_requests)
        log_request(req->method, req->path, req->status,
                    (double)(time_mono_us() - req->started_us) / 1000.0, req->client.ip);
    request_free(req);
    *con_cls = NULL;
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

unsigned http_server_connections(struct http_server *srv)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
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
