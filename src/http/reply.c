/* Answers: JSON bodies, errors from the error table, redirects, files, cookies, the common
 * security headers; request accessors; running a hash job around a suspended connection. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/log.h"
#include "cookie.h"
#include "errors.h"
#include "request.h"
#include "router.h"

/* ---- replies ---- */

/* On routes that allow other origins: lets an allowed origin's script read the answer. No
 * credentials mode: those clients send a Bearer token, never the cookie. */
static void add_cors_headers(struct request *req, struct MHD_Response *resp)
{
    const struct route *route = req->route ? req->route : req->path_route;
    const char *origin = request_header(req, "Origin");
    if (!route || !(route->flags & ROUTE_CORS))
        return;
    MHD_add_response_header(resp, "Vary", "Origin");
    if (!origin || !config_cors_allowed(req->app->cfg, origin))
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Retry-After");
}

static void add_common_headers(struct request *req, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (!MHD_get_response_header(resp, "Referrer-Policy"))
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (!MHD_get_response_header(resp, "Cache-Control"))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (!MHD_get_response_header(resp, "Content-Security-Policy"))
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'");
    if (!strncmp(req->app->cfg->public_url, "https://", 8))
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    if (req->cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, req->cookie);
    add_cors_headers(req, resp);
}

/* Keeps resp as the request's answer; the HTTP layer queues it on the connection's thread
 * (handlers may run on a worker pool, where libmicrohttpd must not be called). */
static void queue(struct request *req, unsigned status, struct MHD_Response *resp)
{
    add_common_headers(req, resp);
    req->status = status;
    req->response = resp;
    req->answered = true;
}

/* A JSON answer that could not be built; still JSON, still an answer. */
static const char fallback_body[] =
    "{\"error\":\"Something went wrong on our side. Please try again.\",\"code\":\"internal\"}";

/* Answers text (heap memory, owned after the call; NULL: the fallback 500) of content_type, with
 * one more header when header is not NULL. */
static void reply_with(struct request *req, unsigned status, char *text, size_t len,
                       const char *content_type, const char *header, const char *value)
{
    struct MHD_Response *resp;
    if (text) {
        resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    } else {
        status = 500;
        content_type = "application/json; charset=utf-8";
        resp = MHD_create_response_from_buffer(sizeof fallback_body - 1, (void *)fallback_body,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        free(text);
        log_msg(LOG_ERROR, "response could not be created");
        req->answered = true; /* no answer could be built: the connection is closed */
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (header && text)
        MHD_add_response_header(resp, header, value);
    queue(req, status, resp);
}

void reply_text(struct request *req, unsigned status, char *text, size_t len,
                const char *content_type)
{
    reply_with(req, status, text, len, content_type, NULL, NULL);
}

void reply_cacheable(struct request *req, unsigned status, char *text, size_t len,
                     const char *content_type, const char *cache_control)
{
    reply_with(req, status, text, len, content_type, "Cache-Control", cache_control);
}

void reply_json_text(struct request *req, unsigned status, char *text, size_t len)
{
    reply_text(req, status, text, len, "application/json; charset=utf-8");
}

void reply_json(struct request *req, unsigned status, json_t *body)
{
    reply_json_status(req, status, body, NULL);
}

void reply_json_status(struct request *req, unsigned status, json_t *body,
                       const char *www_authenticate)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    reply_with(req, status, text, text ? strlen(text) : 0, "application/json; charset=utf-8",
               www_authenticate ? MHD_HTTP_HEADER_WWW_AUTHENTICATE : NULL, www_authenticate);
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
    if (!field)
        field = info->field;
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
        req->answered = true; /* no answer could be built: the connection is closed */
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    if (extra_header)
        MHD_add_response_header(resp, extra_header, extra_value);
    queue(req, info->http_status, resp);
}

void reply_error(struct request *req, gh_status err, const char *field)
{
    char seconds[16];
    if (err == GH_ERR_RATE_LIMITED) {
        snprintf(seconds, sizeof seconds, "%d", req->retry_after > 0 ? req->retry_after : 1);
        reply_error_with(req, err, field, NULL, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    } else if (err == GH_BUSY || err == GH_UNAVAILABLE || err == GH_NO_MEMORY)
        reply_error_with(req, err, field, NULL, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    else
        reply_error_with(req, err, field, NULL, NULL, NULL);
}

void reply_error_allow(struct request *req, const char *allow)
{
    reply_error_with(req, GH_ERR_METHOD_NOT_ALLOWED, NULL, NULL, MHD_HTTP_HEADER_ALLOW, allow);
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

void reply_file(struct request *req, int fd, uint64_t size, const char *content_type,
                const char *cache_control)
{
    struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
    if (!resp) {
        close(fd);
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, "Cache-Control", cache_control);
    queue(req, 200, resp);
}

void reply_static(struct request *req, const char *data, size_t len, const char *content_type,
                  const char *cache_control, const char *content_security_policy)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        reply_error(req, GH_NO_MEMORY, NULL);
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, "Cache-Control", cache_control);
    if (content_security_policy) {
        MHD_add_response_header(resp, "Content-Security-Policy", content_security_policy);
        /* Pages post to this same origin: send the origin along (the Origin check expects it),
         * never anything to other sites. */
        MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    }
    queue(req, 200, resp);
}

void reply_cors_preflight(struct request *req, const char *allow)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        req->answered = true;
        return;
    }
    const char *origin = request_header(req, "Origin");
    if (origin && config_cors_allowed(req->app->cfg, origin)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow);
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    queue(req, 204, resp);
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
    return request_cookie(req, req->app->cfg->cookie_name);
}

const char *request_cookie(struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const struct form_field *request_form_field(const struct request *req, const char *name)
{
    return form_field(&req->form, name);
}
