/* One HTTP request as handlers see it, and the calls a handler uses to answer it.
 * A handler must end in exactly one reply_* call or one http_run_hash_job call. */
#ifndef GH_REQUEST_H
#define GH_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "../app.h"
#include "../core/hashpool.h"
#include "../core/model.h"
#include "../util/buf.h"

struct route;

enum request_phase {
    PHASE_RECEIVING, /* headers seen, body arriving */
    PHASE_SUSPENDED, /* waiting for the hash pool */
    PHASE_RESUMED,   /* the hash job is done; the continuation runs on the next call */
    PHASE_ANSWERED,  /* a response is queued */
};

#define FORM_MAX_FIELDS 16
#define FORM_TEXT_MAX   4096 /* bytes of one text field; longer ones are marked too_large */

/* One part of a multipart/form-data or urlencoded body. */
struct form_field {
    char name[32];
    struct buf value; /* NUL-terminated; data NULL for an empty value */
    bool is_file;
    bool too_large; /* the value was cut at its limit */
};

struct form {
    struct form_field fields[FORM_MAX_FIELDS];
    size_t count;
    bool unsupported; /* the Content-Type is not a form */
    bool malformed;   /* the body could not be parsed */
};

struct request {
    struct app *app;
    struct MHD_Connection *conn;
    const char *method; /* borrowed from libmicrohttpd */
    char path[256];     /* without query string and trailing slash ("/" stays "/") */
    char param[256];    /* the "*" or "**" part of the route's path */
    const struct route *route;
    int route_match; /* enum route_match of the lookup made when the headers arrived */
    char allow[64];  /* for 405 answers */
    enum request_phase phase;
    struct buf body;  /* raw JSON body, capped at the route's limit */
    size_t body_seen; /* bytes of body received, whatever was kept */
    bool body_too_large;
    json_t *json; /* parsed JSON body, owned */
    struct MHD_PostProcessor *form_parser;
    struct form form;
    struct client_info client;
    /* Filled for ROUTE_SESSION routes before the handler runs. */
    struct session session;
    struct user user;
    char cookie[256]; /* Set-Cookie value to send, empty for none */
    int retry_after;  /* seconds, for GH_ERR_RATE_LIMITED answers */
    unsigned status;  /* status answered, for the access log */
    int64_t started_us;
    /* Continuation after a hash job, with handler state that lives across the suspension. */
    void (*resume)(struct request *req);
    bool handed_off; /* a hash job was submitted by the current handler call */
    struct hash_job job;
    void *state;
    void (*state_free)(void *state);
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
/* Answers with an already encoded JSON body (heap memory, owned after the call). */
void reply_json_text(struct request *req, unsigned status, char *text, size_t len);
/* Answers with a heap text body (owned after the call) of the given Content-Type. */
void reply_text(struct request *req, unsigned status, char *text, size_t len,
                const char *content_type);
/* Answers {"message": text}. */
void reply_message(struct request *req, unsigned status, const char *text);
/* Answers the error of status code err (see http/errors.c), naming field when not NULL.
 * GH_ERR_RATE_LIMITED carries Retry-After: req->retry_after. */
void reply_error(struct request *req, gh_status err, const char *field);
/* Like reply_error, with text instead of the table's sentence. */
void reply_error_text(struct request *req, gh_status err, const char *field, const char *text);
/* Answers 405 with the Allow header. */
void reply_error_allow(struct request *req, const char *allow);
/* Answers 303 See Other with Location. */
void reply_redirect(struct request *req, const char *location);
/* Answers 200 with the open file fd (owned after the call) of size bytes. */
void reply_file(struct request *req, int fd, uint64_t size, const char *content_type,
                const char *cache_control);
/* Answers 200 with constant bytes (not copied), their type, caching and page policy (CSP). */
void reply_static(struct request *req, const char *data, size_t len, const char *content_type,
                  const char *cache_control, const char *content_security_policy);
/* Adds Set-Cookie for a new session token to the reply about to be sent. */
void reply_set_session_cookie(struct request *req, const char *token);
/* Adds a Set-Cookie that removes the session cookie. */
void reply_clear_session_cookie(struct request *req);
/* Adds the Set-Cookie of a device cookie (core/device.h) with value to the reply about to be
 * sent; an answer carries one Set-Cookie, so never on an answer that sets the session. */
void reply_set_device_cookie(struct request *req, const char *value);

/* Runs a hash job on the pool with the connection suspended, then calls resume(req) on a
 * connection thread with req->job filled in. Answers 503 + Retry-After when the pool is full. */
void http_run_hash_job(struct request *req, enum hash_job_kind kind, const char *password,
                       const char *hash, void (*resume)(struct request *req));
/* Like http_run_hash_job, but returns false without answering when the pool is full. */
bool http_try_hash_job(struct request *req, enum hash_job_kind kind, const char *password,
                       const char *hash, void (*resume)(struct request *req));

#endif
