/* Logging to stderr, as text on a terminal and as JSON lines elsewhere. Access lines are on
 * the hot path: each thread appends them to a buffer of its own and writes it out when it is
 * full or a fifth of a second old — no lock and no system call per request. A flusher thread
 * writes out what threads left behind when they went quiet. */
#include "log.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

#define ACCESS_BUFFER  (16 * 1024)
#define ACCESS_MAX_AGE 200 /* milliseconds a line may wait in a buffer */

/* A thread's access lines not yet written. state: 0 free, 1 its thread appends, 2 the flusher
 * writes it; each side takes it with one compare-and-swap. */
struct access_buffer {
    atomic_int state;
    size_t len;
    int64_t first_ms; /* when the oldest line in it was added */
    char data[ACCESS_BUFFER];
    struct access_buffer *next;
};

static pthread_mutex_t buffers_lock = PTHREAD_MUTEX_INITIALIZER; /* the list, not the lines */
static struct access_buffer *buffers;
static _Thread_local struct access_buffer *own_buffer;
static pthread_t flusher;
static atomic_bool flusher_running, flusher_stop;

static bool log_json = true;

void log_init(bool json)
{
    log_json = json;
}

static const char *level_name(enum log_level level)
{
    switch (level) {
    case LOG_DEBUG:
        return "debug";
    case LOG_INFO:
        return "info";
    case LOG_WARN:
        return "warn";
    default:
        return "error";
    }
}

/* Writes a finished JSON object as one line; takes ownership of obj. */
static void emit_json(json_t *obj)
{
    char *line = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (line) {
        fprintf(stderr, "%s\n", line);
        free(line);
    }
    json_decref(obj);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char text[1024];
    char ts[RFC3339_LEN + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    time_format_rfc3339(time_now(), ts);
    if (log_json)
        emit_json(
            json_pack("{s:s, s:s, s:s}", "time", ts, "level", level_name(level), "msg", text));
    else
        fprintf(stderr, "%s %-5s %s\n", ts, level_name(level), text);
}

/* Copies a client-supplied path for logging: control bytes, non-ASCII bytes and JSON's
 * special characters become '?', so the line is valid UTF-8, one line, and needs no escaping. */
static void sanitize_path(const char *path, char *out, size_t cap)
{
    size_t i = 0;
    for (; path[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)path[i];
        out[i] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
    }
    out[i] = '\0';
}

/* Writes whole lines of data to stderr, in pieces of at most PIPE_BUF bytes that end at a line
 * end, so lines of other writers on the same pipe never cut into them. */
static void write_lines(const char *data, size_t len)
{
    while (len > 0) {
        size_t n = len;
        if (n > PIPE_BUF) {
            n = PIPE_BUF;
            while (n > 0 && data[n - 1] != '\n')
                n--;
            if (n == 0)
                n = PIPE_BUF; /* a line longer than PIPE_BUF: cannot be kept whole anyway */
        }
        ssize_t w = write(STDERR_FILENO, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* stderr is gone: nothing better to do with the lines */
        data += w;
        len -= (size_t)w;
    }
}

/* Writes out b's lines (its owner holds it). */
static void flush_buffer(struct access_buffer *b)
{
    write_lines(b->data, b->len);
    b->len = 0;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&flusher_stop)) {
        struct timespec pause = {0, ACCESS_MAX_AGE * 1000000L};
        nanosleep(&pause, NULL);
        log_flush();
    }
    return NULL;
}

/* The calling thread's buffer, made and listed on its first access line. */
static struct access_buffer *thread_buffer(void)
{
    if (own_buffer)
        return own_buffer;
    struct access_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_lock(&buffers_lock);
    b->next = buffers;
    buffers = b;
    if (!atomic_load(&flusher_running) && pthread_create(&flusher, NULL, flusher_main, NULL) == 0)
        atomic_store(&flusher_running, true);
    pthread_mutex_unlock(&buffers_lock);
    own_buffer = b;
    return b;
}

void log_flush(void)
{
    pthread_mutex_lock(&buffers_lock);
    for (struct access_buffer *b = buffers; b; b = b->next) {
        int free_state = 0;
        if (atomic_compare_exchange_strong(&b->state, &free_state, 2)) {
            if (b->len)
                flush_buffer(b);
            atomic_store(&b->state, 0);
        }
    }
    pthread_mutex_unlock(&buffers_lock);
}

void log_shutdown(void)
{
    if (atomic_load(&flusher_running)) {
        atomic_store(&flusher_stop, true);
        pthread_join(flusher, NULL);
        atomic_store(&flusher_running, false);
    }
    log_flush();
    pthread_mutex_lock(&buffers_lock);
    while (buffers) {
        struct access_buffer *b = buffers;
        buffers = b->next;
        free(b);
    }
    pthread_mutex_unlock(&buffers_lock);
}

/* Adds a line to the thread's buffer, writing the buffer out when the line does not fit or the
 * oldest line has waited long enough. When the flusher holds the buffer at that moment, or no
 * buffer could be made, the line is written at once. */
static void append_access_line(const char *line, size_t n)
{
    struct access_buffer *b = thread_buffer();
    int free_state = 0;
    if (!b || !atomic_compare_exchange_strong(&b->state, &free_state, 1)) {
        write_lines(line, n);
        return;
    }
    int64_t now = time_mono_ms();
    if (b->len + n > sizeof b->data)
        flush_buffer(b);
    if (b->len == 0)
        b->first_ms = now;
    memcpy(b->data + b->len, line, n);
    b->len += n;
    if (now - b->first_ms >= ACCESS_MAX_AGE)
        flush_buffer(b);
    atomic_store(&b->state, 0);
}

/* The access line: formatted with one snprintf, without building a JSON object or formatting a
 * float. Method and path come from the client and are sanitized. */
void log_request(const char *raw_method, const char *raw_path, unsigned status, int64_t us,
                 const char *ip)
{
    char ts[RFC3339_LEN + 1];
    char path[256], method[16];
    char line[512];
    int n;
    unsigned ms = (unsigned)(us / 1000), frac = (unsigned)(us % 1000);
    sanitize_path(raw_path, path, sizeof path);
    sanitize_path(raw_method, method, sizeof method);
    time_format_rfc3339(time_now(), ts);
    if (log_json)
        n = snprintf(line, sizeof line,
                     "{\"time\":\"%s\",\"level\":\"info\",\"method\":\"%s\",\"path\":\"%s\","
                     "\"status\":%u,\"ms\":%u.%03u,\"ip\":\"%s\"}\n",
                     ts, method, path, status, ms, frac, ip);
    else
        n = snprintf(line, sizeof line, "%s info  %s %s %u %u.%03ums %s\n", ts, method, path,
                     status, ms, frac, ip);
    if (n > 0)
        append_access_line(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
