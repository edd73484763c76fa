/* The SMTP transport on libcurl: smtp:// (STARTTLS when the server offers it) and smtps://,
 * with user and password taken from the URL. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"

struct smtp_transport {
    struct mail_transport base;
    char url[CONFIG_URL_MAX];
};

/* The message being uploaded, read by curl in pieces. */
struct upload {
    const char *data;
    size_t left;
};

static size_t read_message(char *ptr, size_t size, size_t nmemb, void *userp)
{
    struct upload *u = userp;
    size_t room = size * nmemb;
    size_t n = u->left < room ? u->left : room;
    memcpy(ptr, u->data, n);
    u->data += n;
    u->left -= n;
    return n;
}

/* Writes "<addr>" for the envelope from a header value like "Name <addr>" or "addr". */
static void envelope_address(const char *header, char *out, size_t cap)
{
    const char *lt = strrchr(header, '<');
    const char *start = lt ? lt + 1 : header;
    size_t n = strcspn(start, ">");
    if (n + 3 > cap)
        n = cap - 3;
    snprintf(out, cap, "<%.*s>", (int)n, start);
}

static gh_status smtp_send(struct mail_transport *t, const char *from, const struct mail *m,
                           char *err, size_t errlen)
{
    struct smtp_transport *st_ = (struct smtp_transport *)t;
    struct buf msg = {0};
    struct curl_slist *rcpt = NULL;
    char env_from[300], env_to[300];
    CURL *curl = NULL;
    gh_status st = mail_format(from, m, &msg);
    if (st != GH_OK)
        goto out;
    curl = curl_easy_init();
    envelope_address(from, env_from, sizeof env_from);
    snprintf(env_to, sizeof env_to, "<%s>", m->recipient);
    rcpt = curl_slist_append(NULL, env_to);
    if (!curl || !rcpt) {
        st = GH_NO_MEMORY;
        goto out;
    }
    struct upload up = {msg.data, msg.len};
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, st_->url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, env_from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
    curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "smtp: %s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
        st = GH_UNAVAILABLE;
    }
out:
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (msg.data)
        sodium_memzero(msg.data, msg.len); /* the body holds a live link */
    buf_free(&msg);
    return st;
}

static void smtp_close(struct mail_transport *t)
{
    free(t);
}

gh_status mail_smtp_open(const char *url, struct mail_transport **out)
{
    struct smtp_transport *t = calloc(1, sizeof *t);
    if (!t)
        return GH_NO_MEMORY;
    if (strlen(url) >= sizeof t->url) {
        free(t);
        return GH_INTERNAL;
    }
    strcpy(t->url, url);
    t->base.send = smtp_send;
    t->base.close = smtp_close;
    *out = &t->base;
    return GH_OK;
}
