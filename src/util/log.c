/* Logging to stderr, as text on a terminal and as JSON lines elsewhere. */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "timeutil.h"

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

/* The access line is on the hot path: formatted with one snprintf and written with one call,
 * without building a JSON object. Method and path come from the client and are sanitized. */
void log_request(const char *raw_method, const char *raw_path, unsigned status, double ms,
                 const char *ip)
{
    char ts[RFC3339_LEN + 1];
    char path[256], method[16];
    char line[512];
    int n;
    sanitize_path(raw_path, path, sizeof path);
    sanitize_path(raw_method, method, sizeof method);
    time_format_rfc3339(time_now(), ts);
    if (log_json)
        n = snprintf(line, sizeof line,
                     "{\"time\":\"%s\",\"level\":\"info\",\"method\":\"%s\",\"path\":\"%s\","
                     "\"status\":%u,\"ms\":%.3f,\"ip\":\"%s\"}\n",
                     ts, method, path, status, ms, ip);
    else
        n = snprintf(line, sizeof line, "%s info  %s %s %u %.3fms %s\n", ts, method, path, status,
                     ms, ip);
    if (n > 0)
        fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, stderr);
}
