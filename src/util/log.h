/* Logging: one line per event on stderr, JSON when stderr is not a terminal (or when asked). */
#ifndef GH_LOG_H
#define GH_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Chooses the format once at start: json true = JSON lines, false = plain text. */
void log_init(bool json);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The per-request access line (us: the request's duration in microseconds). path must not
 * contain the query string (tokens live there). Buffered per thread: see log.c. */
void log_request(const char *method, const char *path, unsigned status, int64_t us, const char *ip);
/* Writes out every buffered access line now. */
void log_flush(void);
/* Writes out the buffered lines and stops the flusher thread (at exit). */
void log_shutdown(void);

#endif
