/* Mail: rendering messages from templates, formatting them as RFC 5322, the transports that
 * deliver them (file, SMTP) and the outbox worker that sends queued rows with retries. */
#ifndef GH_MAIL_H
#define GH_MAIL_H

#include <stddef.h>

#include "../config.h"
#include "../records.h"
#include "../util/buf.h"

struct store;

struct mail_var {
    const char *name;  /* used in templates as {{name}} */
    const char *value; /* inserted verbatim in text, HTML-escaped in HTML */
};

/* Renders template `name` (built in, or NAME.txt/NAME.html in cfg->mail_templates_dir) into
 * m->subject, m->text_body and m->html_body, which the caller frees with mail_clear. */
GH_MUST_CHECK gh_status mail_render(const struct config *cfg, const char *name,
                                    const struct mail_var *vars, size_t nvars, struct mail *m);

/* Formats m as a multipart/alternative RFC 5322 message with CRLF line ends into out. Its
 * Message-ID, <gatehouse.ID.CREATED@domain of from>, and its Date come from the outbox row, so
 * a mail sent twice is the same message twice. */
GH_MUST_CHECK gh_status mail_format(const char *from, const struct mail *m, struct buf *out);

/* A way of delivering formatted messages. */
struct mail_transport {
    /* Delivers one message; on failure writes a short reason into err. */
    gh_status (*send)(struct mail_transport *t, const char *from, const struct mail *m, char *err,
                      size_t errlen);
    /* Readiness: GH_OK when the transport could deliver now as far as this machine can tell
     * (the file transport's directory accepts a file). NULL when there is nothing local to
     * check (SMTP: an outage of the mail server delays mail, it does not stop this server).
     * Called on connection threads while the worker sends: it must not touch send's state. */
    gh_status (*ready)(struct mail_transport *t);
    void (*close)(struct mail_transport *t);
};

/* Chooses the transport from GATEHOUSE_MAIL_URL (file: or smtp(s)://). */
GH_MUST_CHECK gh_status mail_transport_open(const struct config *cfg, struct mail_transport **out);
GH_MUST_CHECK gh_status mail_file_open(const char *dir, struct mail_transport **out);
GH_MUST_CHECK gh_status mail_smtp_open(const char *url, struct mail_transport **out);

struct outbox;

/* Turns a claimed mail request (m->request set) into the message to send: renders it into m
 * and answers GH_OK, or answers GH_NOT_FOUND when there is nothing to send (the request is
 * gone). Any other status leaves the request to be retried. Runs on the worker thread. */
typedef gh_status (*outbox_resolve_fn)(void *ctx, struct mail *m);

/* Starts the worker thread that sends due outbox rows through transport (owned after this),
 * resolving mail requests with resolve(resolve_ctx, …). */
GH_MUST_CHECK gh_status outbox_start(const struct config *cfg, struct store *store,
                                     struct mail_transport *transport, outbox_resolve_fn resolve,
                                     void *resolve_ctx, struct outbox **out);
/* Wakes the worker: a mail was just queued. */
void outbox_notify(struct outbox *o);
/* The readiness of the worker's transport (see mail_transport.ready). *checked tells whether
 * the transport has a check at all; GH_OK when it has none. */
GH_MUST_CHECK gh_status outbox_ready(struct outbox *o, bool *checked);
/* Stops the worker after the message in flight, closes the transport, frees. NULL-safe. */
void outbox_stop(struct outbox **o);

#endif
