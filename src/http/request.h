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

struct request {
    struct app *app;
    struct MHD_Connection *conn;
    const char *method; /* borrowed from libmicrohttpd */
    char path[256];     /* without query string and trailing slash ("/" stays "/") */
    char param[64];     /* the {id} segment of routes that have one */
    const struct route *route;
    enum request_phase phase;
    struct buf body; /* raw body, capped at the route's limit */
    bool body_too_large;
    json_t *json; /* parsed JSON body, owned */
    struct client_info client;
    char cookie[256]; /* Set-Cookie value to send, empty for none */
    unsigned status;  /* status answered, for the access log */
    int64_t started_us;
    /* Continuation after a hash job, with handler state that lives across the suspension. */
    void (*resume)(struct request *req);
    struct hash_job job;
    void *state;
    void (*state_free)(void *state);
};

/* Header and cookie values; NULL when absent. */
const char *request_header(struct request *req, const char *name);
const char *request_query(struct request *req, const char *name);
/* The session token from the configured cookie, NULL when absent. */
const char *request_session_token(struct request *req);

/* Answers with a JSON body (stolen) and the given status. */
void reply_json(struct request *req, unsigned status, json_t *body);
/* Answers {"message": text}. */
void reply_message(struct request *req, unsigned status, const char *text);
/* Answers the error of status code err (see http/errors.c), naming field when not NULL. */
void reply_error(struct request *req, gh_status err, const char *field);
/* Like reply_error, with text instead of the table's sentence. */
void reply_error_text(struct request *req, gh_status err, const char *field, const char *text);
/* Answers 303 See Other with Location. */
void reply_redirect(struct request *req, const char *location);
/* Adds Set-Cookie for a new session token to the reply about to be sent. */
void reply_set_session_cookie(struct request *req, const char *token);
/* Adds a Set-Cookie that removes the session cookie. */
void reply_clear_session_cookie(struct request *req);

/* Runs a hash job on the pool with the connection suspended, then calls resume(req) on a
 * connection thread with req->job filled in. Answers 503 + Retry-After when the pool is full. */
void http_run_hash_job(struct request *req, enum hash_job_kind kind, const char *password,
                       const char *hash, void (*resume)(struct request *req));

#endif
