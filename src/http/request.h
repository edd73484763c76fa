/* One HTTP request as handlers see it, and the calls a handler uses to answer it.
 * A handler must end in exactly one reply_* call. The reply_* calls only build the answer: the
 * HTTP layer sends it, so a handler may run on any thread (routes on a worker pool). */
#ifndef GH_REQUEST_H
#define GH_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "../app.h"
#include "../records.h"
#include "../util/buf.h"
#include "../util/workpool.h"
#include "form.h"

struct route;

enum request_phase {
    PHASE_RECEIVING, /* headers seen, body arriving */
    PHASE_SUSPENDED, /* the handler runs on a worker pool */
    PHASE_RESUMED,   /* the handler is done; its answer goes out on the next call */
    PHASE_ANSWERED,  /* the answer is queued with libmicrohttpd */
};

struct request {
    struct app *app;
    struct MHD_Connection *conn;
    const char *method;             /* borrowed from libmicrohttpd */
    char path[256];                 /* without query string and trailing slash ("/" stays "/") */
    char param[256];                /* the "*" or "**" part of the route's path */
    const struct route *route;      /* the route found; NULL unless route_match is ROUTE_FOUND */
    const struct route *path_route; /* a route of the path, also when the method has none */
    int route_match; /* enum route_match of the lookup made when the headers arrived */
    char allow[64];  /* for 405 answers */
    enum request_phase phase;
    struct guarded_conn *guarded; /* the connection's deadlines (http/guard.h); may be NULL */
    /* Set when the headers already decide the answer (404, 405, 403, 413, 401): the body is
     * then read and thrown away, or not read at all when it is large. */
    gh_status early_error;
    struct buf body;       /* raw JSON body, capped at the route's limit */
    size_t body_seen;      /* bytes of body received, whatever was kept */
    size_t body_reserved;  /* bytes of body taken from the server's body budget */
    bool body_too_large;   /* over the route's limit */
    bool body_over_budget; /* over the memory all bodies may hold together */
    json_t *json;          /* parsed JSON body, owned */
    bool is_form;          /* a form route: the body goes to form */
    gh_status form_status; /* GH_OK, or why form_start refused the Content-Type */
    struct form form;
    struct client_info client;
    /* Who is calling: resolved before the handler runs on routes with an auth requirement. */
    struct principal principal;
    char cookie[256];              /* Set-Cookie value to send, empty for none */
    bool answered;                 /* a reply_* call was made */
    struct MHD_Response *response; /* its answer, queued by the HTTP layer; NULL when none */
    struct work work;              /* the handler's run on a worker pool */
    int retry_after;               /* seconds, for GH_ERR_RATE_LIMITED answers */
    unsigned status;               /* status answered, for the access log */
    int64_t started_us;
    bool handed_off; /* the handler was handed to a worker pool by the current call */
};

/* Header and cookie values; NULL when absent. */
const char *request_header(struct request *req, const char *name);
const char *request_query(struct request *req, const char *name);
/* The session token from the configured cookie, NULL when absent. */
const char *request_session_token(struct request *req);
/* The value of the request cookie called name, NULL when absent. */
const char *request_cookie(struct request *req, const char *name);
/* The form part called name, NULL when absent. */
const struct form_field *request_form_field(const struct request *req, const char *name);

/* Answers with a JSON body (stolen) and the given status. */
void reply_json(struct request *req, unsigned status, json_t *body);
/* Like reply_json, with a WWW-Authenticate header when www_authenticate is not NULL. */
void reply_json_status(struct request *req, unsigned status, json_t *body,
                       const char *www_authenticate);
/* Answers with an already encoded JSON body (heap memory, owned after the call). */
void reply_json_text(struct request *req, unsigned status, char *text, size_t len);
/* Answers with a heap text body (owned after the call) of the given Content-Type. */
void reply_text(struct request *req, unsigned status, char *text, size_t len,
                const char *content_type);
/* Like reply_text, for public data that clients may cache as cache_control says. */
void reply_cacheable(struct request *req, unsigned status, char *text, size_t len,
                     const char *content_type, const char *cache_control);
/* Answers {"message": text}. */
void reply_message(struct request *req, unsigned status, const char *text);
/* Answers the error of status code err (see http/errors.c), naming field when not NULL.
 * GH_ERR_RATE_LIMITED carries Retry-After: req->retry_after. */
void reply_error(struct request *req, gh_status err, const char *field);
/* Like reply_error, with text instead of the table's sentence. */
void reply_error_text(struct request *req, gh_status err, const char *field, const char *text);
/* Answers 405 with the Allow header. */
void reply_error_allow(struct request *req, const char *allow);
/* Answers a CORS preflight: 204, Allow, and for an allowed origin the CORS headers. */
void reply_cors_preflight(struct request *req, const char *allow);
/* Answers 303 See Other with Location. */
void reply_redirect(struct request *req, const char *location);
/* Answers 200 with the open file fd (owned after the call) of size bytes. */
void reply_file(struct request *req, int fd, uint64_t size, const char *content_type,
                const char *cache_control);
/* Answers 200 with constant bytes (not copied), their type, caching and page policy (CSP). A
 * NULL policy answers a document, not a page: the default CSP and Referrer-Policy stay. */
void reply_static(struct request *req, const char *data, size_t len, const char *content_type,
                  const char *cache_control, const char *content_security_policy);
/* Adds Set-Cookie for a new session token to the reply about to be sent. */
void reply_set_session_cookie(struct request *req, const char *token);
/* Adds a Set-Cookie that removes the session cookie. */
void reply_clear_session_cookie(struct request *req);

#endif
