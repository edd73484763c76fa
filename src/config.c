/* Parsing of the settings table (README "Configuration") into struct config. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/secret.h"

static void set_err(char *err, size_t errlen, const char *fmt, const char *name)
{
    snprintf(err, errlen, fmt, name);
}

static gh_status get_int(config_lookup_fn lookup, void *ctx, const char *name, int min, int max,
                         int *out, char *err, size_t errlen)
{
    const char *v = lookup(ctx, name);
    if (!v || !*v)
        return GH_OK;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        snprintf(err, errlen, "%s must be a whole number from %d to %d.", name, min, max);
        return GH_INTERNAL;
    }
    *out = (int)n;
    return GH_OK;
}

static gh_status get_bool(config_lookup_fn lookup, void *ctx, const char *name, bool *out,
                          char *err, size_t errlen)
{
    const char *v = lookup(ctx, name);
    if (!v || !*v)
        return GH_OK;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on")) {
        *out = true;
        return GH_OK;
    }
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
        !strcasecmp(v, "off")) {
        *out = false;
        return GH_OK;
    }
    set_err(err, errlen, "%s must be true or false.", name);
    return GH_INTERNAL;
}

static gh_status get_str(config_lookup_fn lookup, void *ctx, const char *name, char *dst,
                         size_t cap, char *err, size_t errlen)
{
    const char *v = lookup(ctx, name);
    if (!v)
        return GH_OK;
    if (str_copy(dst, cap, v) != GH_OK) {
        set_err(err, errlen, "%s is too long.", name);
        return GH_INTERNAL;
    }
    return GH_OK;
}

/* Removes trailing slashes so URLs can be joined with paths that start with one. */
static void strip_trailing_slash(char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
}

static bool is_http_url(const char *url)
{
    return !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
}

/* Writes the origin (scheme://host[:port]) of an http(s) URL into out. */
static void url_origin(const char *url, char *out, size_t cap)
{
    const char *host = strstr(url, "://");
    size_t n = strlen(url);
    if (host) {
        const char *slash = strchr(host + 3, '/');
        if (slash)
            n = (size_t)(slash - url);
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(out, url, n);
    out[n] = '\0';
}

static gh_status parse_listen(struct config *cfg, const char *v, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof cfg->listen_host)
        goto bad;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || colon[1] == '\0' || port < 0 || port > 65535)
        goto bad;
    memcpy(cfg->listen_host, v, (size_t)(colon - v));
    cfg->listen_host[colon - v] = '\0';
    cfg->listen_port = (uint16_t)port;
    return GH_OK;
bad:
    set_err(err, errlen, "%s must look like 127.0.0.1:5000.", "GATEHOUSE_LISTEN");
    return GH_INTERNAL;
}

/* Copies the items of a list separated by commas and/or spaces into the rows of table (each
 * cap bytes), after the *count rows already there and up to max rows. GH_ERR_TOO_LONG when an
 * item or the number of items does not fit. */
static gh_status split_list(const char *list, char *table, size_t cap, size_t max, size_t *count)
{
    const char *p = list;
    for (;;) {
        p += strspn(p, ", ");
        if (!*p)
            return GH_OK;
        size_t n = strcspn(p, ", ");
        if (*count >= max || n >= cap)
            return GH_ERR_TOO_LONG;
        char *dst = table + cap * (*count)++;
        memcpy(dst, p, n);
        dst[n] = '\0';
        p += n;
    }
}

static gh_status parse_origins(struct config *cfg, const char *list, char *err, size_t errlen)
{
    size_t first = cfg->allowed_origin_count;
    /* two rows stay free for the public and frontend origins */
    if (split_list(list, cfg->allowed_origins[0], CONFIG_URL_MAX, CONFIG_MAX_ORIGINS - 2,
                   &cfg->allowed_origin_count) != GH_OK) {
        set_err(err, errlen, "%s lists too many or too long origins.", "GATEHOUSE_ALLOWED_ORIGINS");
        return GH_INTERNAL;
    }
    for (size_t i = first; i < cfg->allowed_origin_count; i++) {
        strip_trailing_slash(cfg->allowed_origins[i]);
        if (!is_http_url(cfg->allowed_origins[i])) {
            set_err(err, errlen, "%s must list http:// or https:// origins.",
                    "GATEHOUSE_ALLOWED_ORIGINS");
            return GH_INTERNAL;
        }
    }
    return GH_OK;
}

static gh_status parse_proxies(struct config *cfg, const char *list, char *err, size_t errlen)
{
    if (split_list(list, cfg->trusted_proxies[0], IP_TEXT_MAX, CONFIG_MAX_ORIGINS,
                   &cfg->trusted_proxy_count) != GH_OK) {
        set_err(err, errlen, "%s lists too many or too long addresses.",
                "GATEHOUSE_TRUSTED_PROXIES");
        return GH_INTERNAL;
    }
    return GH_OK;
}

static gh_status parse_frontends(struct config *cfg, const char *list, char *err, size_t errlen)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if (split_list(list, cfg->relaying_frontends[0], IP_TEXT_MAX, CONFIG_MAX_ORIGINS,
                   &cfg->relaying_frontend_count) != GH_OK) {
        set_err(err, errlen, "%s lists too many or too long addresses.",
                "GATEHOUSE_RELAYING_FRONTENDS");
        return GH_INTERNAL;
    }
    for (size_t i = 0; i < cfg->relaying_frontend_count; i++) {
        const char *ip = cfg->relaying_frontends[i];
        if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1) {
            set_err(err, errlen, "%s must list IP addresses.", "GATEHOUSE_RELAYING_FRONTENDS");
            return GH_INTERNAL;
        }
    }
    return GH_OK;
}

static void set_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 5000;
    strcpy(cfg->data_dir, "./data");
    strcpy(cfg->mail_from, "gatehouse <noreply@localhost>");
    strcpy(cfg->cookie_name, "sessionid");
    cfg->cookie_secure = -1;
    cfg->mail_retry_seconds = 5;
    cfg->mail_retry_max_seconds = 900;
    cfg->session_ttl = 86400;
    cfg->session_idle_timeout = 0;
    cfg->confirm_token_ttl = 1800;
    cfg->reset_token_ttl = 1800;
    cfg->password_change_token_ttl = 3600;
    cfg->max_multipart_body = 8 * 1024 * 1024;
    cfg->avatar_max_bytes = 1024 * 1024;
    strcpy(cfg->s3_region, "us-east-1");
    cfg->rate_ip_max = 30;
    cfg->rate_ip_window = 60;
    cfg->rate_account_max = 10;
    cfg->rate_account_window = 900;
    cfg->rate_account_ceiling = 100;
    cfg->rate_account_ceiling_window = 3600;
    cfg->rate_email_max = 3;
    cfg->rate_email_window = 900;
    cfg->password_min_length = 12;
    cfg->argon2_memory_kib = 19456;
    cfg->argon2_iterations = 2;
    cfg->hash_threads = 0;
    cfg->hash_queue = 64;
    cfg->io_threads = 8;
    cfg->io_queue = 256;
    cfg->http_threads = 0;
    cfg->max_connections = 1024;
    cfg->connection_timeout = 30;
    cfg->max_connections_per_ip = 0; /* derived from max_connections */
    cfg->header_timeout = 10;
    cfg->body_timeout = 60;
    cfg->body_memory_max = 64 * 1024 * 1024;
    cfg->max_json_body = 64 * 1024;
    cfg->log_format = LOG_FORMAT_AUTO;
    cfg->log_requests = true;
}

static gh_status read_settings(struct config *cfg, config_lookup_fn lookup, void *ctx, char *err,
                               size_t errlen)
{
    const char *v;
    int n;
    v = lookup(ctx, "GATEHOUSE_ENV");
    if (v && *v) {
        if (!strcmp(v, "production"))
            cfg->production = true;
        else if (strcmp(v, "development") && strcmp(v, "test")) {
            set_err(err, errlen, "%s must be development or production.", "GATEHOUSE_ENV");
            return GH_INTERNAL;
        }
    }
    v = lookup(ctx, "GATEHOUSE_LISTEN");
    if (v && *v && parse_listen(cfg, v, err, errlen) != GH_OK)
        return GH_INTERNAL;
    if (get_str(lookup, ctx, "GATEHOUSE_PUBLIC_URL", cfg->public_url, sizeof cfg->public_url, err,
                errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_FRONTEND_URL", cfg->frontend_url, sizeof cfg->frontend_url,
                err, errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_DATA_DIR", cfg->data_dir, sizeof cfg->data_dir, err,
                errlen) ||
        get_str(lookup, ctx, "DATABASE_URL", cfg->database_url, sizeof cfg->database_url, err,
                errlen) ||
        get_str(lookup, ctx, "REDIS_URL", cfg->redis_url, sizeof cfg->redis_url, err, errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_MAIL_URL", cfg->mail_url, sizeof cfg->mail_url, err,
                errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_MAIL_FROM", cfg->mail_from, sizeof cfg->mail_from, err,
                errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_MAIL_TEMPLATES_DIR", cfg->mail_templates_dir,
                sizeof cfg->mail_templates_dir, err, errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_COOKIE_NAME", cfg->cookie_name, sizeof cfg->cookie_name,
                err, errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_MEDIA_URL", cfg->media_url, sizeof cfg->media_url, err,
                errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_S3_ENDPOINT", cfg->s3_endpoint, sizeof cfg->s3_endpoint,
                err, errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_S3_REGION", cfg->s3_region, sizeof cfg->s3_region, err,
                errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_S3_ACCESS_KEY", cfg->s3_access_key,
                sizeof cfg->s3_access_key, err, errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_S3_SECRET_KEY", cfg->s3_secret_key,
                sizeof cfg->s3_secret_key, err, errlen) ||
        get_str(lookup, ctx, "GATEHOUSE_S3_PUBLIC_URL", cfg->s3_public_url,
                sizeof cfg->s3_public_url, err, errlen))
        return GH_INTERNAL;
    v = lookup(ctx, "GATEHOUSE_TRUSTED_PROXIES");
    if (v && parse_proxies(cfg, v, err, errlen) != GH_OK)
        return GH_INTERNAL;
    v = lookup(ctx, "GATEHOUSE_RELAYING_FRONTENDS");
    if (v && parse_frontends(cfg, v, err, errlen) != GH_OK)
        return GH_INTERNAL;
    v = lookup(ctx, "GATEHOUSE_ALLOWED_ORIGINS");
    if (v && parse_origins(cfg, v, err, errlen) != GH_OK)
        return GH_INTERNAL;
    v = lookup(ctx, "GATEHOUSE_COOKIE_SECURE");
    if (v && *v && strcmp(v, "auto")) {
        bool b = false;
        if (get_bool(lookup, ctx, "GATEHOUSE_COOKIE_SECURE", &b, err, errlen) != GH_OK)
            return GH_INTERNAL;
        cfg->cookie_secure = b ? 1 : 0;
    }
    if (get_int(lookup, ctx, "GATEHOUSE_MAIL_RETRY_SECONDS", 1, 86400, &cfg->mail_retry_seconds,
                err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_MAIL_RETRY_MAX_SECONDS", 1, 86400,
                &cfg->mail_retry_max_seconds, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_SESSION_TTL", 60, 31536000, &cfg->session_ttl, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_SESSION_IDLE_TIMEOUT", 0, 31536000,
                &cfg->session_idle_timeout, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_CONFIRM_TOKEN_TTL", 1, 2592000, &cfg->confirm_token_ttl,
                err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RESET_TOKEN_TTL", 1, 2592000, &cfg->reset_token_ttl, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_PASSWORD_CHANGE_TOKEN_TTL", 1, 2592000,
                &cfg->password_change_token_ttl, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RATE_IP_MAX", 1, 100000000, &cfg->rate_ip_max, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RATE_IP_WINDOW", 1, 86400, &cfg->rate_ip_window, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RATE_ACCOUNT_MAX", 1, 100000000, &cfg->rate_account_max,
                err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RATE_ACCOUNT_WINDOW", 1, 86400, &cfg->rate_account_window,
                err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RATE_ACCOUNT_CEILING", 1, 100000000,
                &cfg->rate_account_ceiling, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RATE_ACCOUNT_CEILING_WINDOW", 1, 86400,
                &cfg->rate_account_ceiling_window, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RATE_EMAIL_MAX", 1, 100000000, &cfg->rate_email_max, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_RATE_EMAIL_WINDOW", 1, 86400, &cfg->rate_email_window, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_PASSWORD_MIN_LENGTH", 8, 128, &cfg->password_min_length,
                err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_HASH_THREADS", 0, 256, &cfg->hash_threads, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_HASH_QUEUE", 1, 100000, &cfg->hash_queue, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_IO_THREADS", 1, 256, &cfg->io_threads, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_IO_QUEUE", 1, 100000, &cfg->io_queue, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_THREADS", 0, 256, &cfg->http_threads, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_MAX_CONNECTIONS", 1, 1000000, &cfg->max_connections, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_CONNECTION_TIMEOUT", 1, 3600, &cfg->connection_timeout, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_MAX_CONNECTIONS_PER_IP", 1, 1000000,
                &cfg->max_connections_per_ip, err, errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_HEADER_TIMEOUT", 1, 3600, &cfg->header_timeout, err,
                errlen) ||
        get_int(lookup, ctx, "GATEHOUSE_BODY_TIMEOUT", 1, 3600, &cfg->body_timeout, err, errlen) ||
        get_bool(lookup, ctx, "GATEHOUSE_LOG_REQUESTS", &cfg->log_requests, err, errlen) ||
        get_bool(lookup, ctx, "GATEHOUSE_REGISTER_REVEALS_EXISTING",
                 &cfg->register_reveals_existing, err, errlen))
        return GH_INTERNAL;
    n = (int)cfg->max_json_body;
    if (get_int(lookup, ctx, "GATEHOUSE_MAX_JSON_BODY", 1024, 16 * 1024 * 1024, &n, err, errlen))
        return GH_INTERNAL;
    cfg->max_json_body = (size_t)n;
    n = (int)cfg->max_multipart_body;
    if (get_int(lookup, ctx, "GATEHOUSE_MAX_MULTIPART_BODY", 1024, 1024 * 1024 * 1024, &n, err,
                errlen))
        return GH_INTERNAL;
    cfg->max_multipart_body = (size_t)n;
    n = (int)(cfg->body_memory_max / (1024 * 1024));
    if (get_int(lookup, ctx, "GATEHOUSE_BODY_MEMORY_MIB", 1, 1024 * 1024, &n, err, errlen))
        return GH_INTERNAL;
    cfg->body_memory_max = (size_t)n * 1024 * 1024;
    n = (int)cfg->avatar_max_bytes;
    if (get_int(lookup, ctx, "GATEHOUSE_AVATAR_MAX_BYTES", 1024, 64 * 1024 * 1024, &n, err, errlen))
        return GH_INTERNAL;
    cfg->avatar_max_bytes = (size_t)n;
    n = (int)cfg->argon2_memory_kib;
    if (get_int(lookup, ctx, "GATEHOUSE_ARGON2_MEMORY_KIB", 8192, 4 * 1024 * 1024, &n, err, errlen))
        return GH_INTERNAL;
    cfg->argon2_memory_kib = (uint32_t)n;
    n = (int)cfg->argon2_iterations;
    if (get_int(lookup, ctx, "GATEHOUSE_ARGON2_ITERATIONS", 1, 100, &n, err, errlen))
        return GH_INTERNAL;
    cfg->argon2_iterations = (uint32_t)n;
    v = lookup(ctx, "GATEHOUSE_LOG_FORMAT");
    if (v && *v) {
        if (!strcmp(v, "json"))
            cfg->log_format = LOG_FORMAT_JSON;
        else if (!strcmp(v, "text"))
            cfg->log_format = LOG_FORMAT_TEXT;
        else if (strcmp(v, "auto")) {
            set_err(err, errlen, "%s must be auto, json or text.", "GATEHOUSE_LOG_FORMAT");
            return GH_INTERNAL;
        }
    }
    return GH_OK;
}

/* Fills the URLs derived from the listen address and the allowed-origin list. */
static gh_status derive_urls(struct config *cfg, char *err, size_t errlen)
{
    if (cfg->public_url_derived)
        snprintf(cfg->public_url, sizeof cfg->public_url, "http://%s:%u", cfg->listen_host,
                 (unsigned)cfg->listen_port);
    strip_trailing_slash(cfg->public_url);
    if (!is_http_url(cfg->public_url)) {
        set_err(err, errlen, "%s must start with http:// or https://.", "GATEHOUSE_PUBLIC_URL");
        return GH_INTERNAL;
    }
    if (cfg->frontend_url_derived)
        strcpy(cfg->frontend_url, cfg->public_url);
    strip_trailing_slash(cfg->frontend_url);
    if (!is_http_url(cfg->frontend_url)) {
        set_err(err, errlen, "%s must start with http:// or https://.", "GATEHOUSE_FRONTEND_URL");
        return GH_INTERNAL;
    }
    cfg->allowed_origin_count = cfg->extra_origin_count;
    url_origin(cfg->public_url, cfg->allowed_origins[cfg->allowed_origin_count++], CONFIG_URL_MAX);
    url_origin(cfg->frontend_url, cfg->allowed_origins[cfg->allowed_origin_count++],
               CONFIG_URL_MAX);
    return GH_OK;
}

gh_status config_set_port(struct config *cfg, uint16_t port)
{
    char err[256];
    cfg->listen_port = port;
    return derive_urls(cfg, err, sizeof err);
}

/* Checks the media settings and derives the S3 public URL. */
static gh_status check_media(struct config *cfg, char *err, size_t errlen)
{
    if (!strncmp(cfg->media_url, "file:", 5))
        return GH_OK;
    if (strncmp(cfg->media_url, "s3://", 5) || !cfg->media_url[5] ||
        strchr(cfg->media_url + 5, '/')) {
        set_err(err, errlen, "%s must be file:DIR or s3://BUCKET.", "GATEHOUSE_MEDIA_URL");
        return GH_INTERNAL;
    }
    strip_trailing_slash(cfg->s3_endpoint);
    if (!is_http_url(cfg->s3_endpoint)) {
        set_err(err, errlen, "%s must be the http(s):// URL of the S3 service.",
                "GATEHOUSE_S3_ENDPOINT");
        return GH_INTERNAL;
    }
    if (!cfg->s3_access_key[0] || !cfg->s3_secret_key[0]) {
        set_err(err, errlen, "%s and GATEHOUSE_S3_SECRET_KEY are required for s3:// media.",
                "GATEHOUSE_S3_ACCESS_KEY");
        return GH_INTERNAL;
    }
    if (!cfg->s3_public_url[0] &&
        (size_t)snprintf(cfg->s3_public_url, sizeof cfg->s3_public_url, "%s/%s", cfg->s3_endpoint,
                         cfg->media_url + 5) >= sizeof cfg->s3_public_url) {
        set_err(err, errlen, "%s is too long.", "GATEHOUSE_S3_ENDPOINT");
        return GH_INTERNAL;
    }
    strip_trailing_slash(cfg->s3_public_url);
    return GH_OK;
}

/* True for a cookie name as RFC 6265 allows it (an RFC 7230 token): visible ASCII without
 * separators. */
static bool is_cookie_name(const char *name)
{
    if (!name[0])
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *p))
            return false;
    return true;
}

/* One client address must never be able to take every connection: its cap is below the
 * global limit, by default an eighth of it (at most 128). */
static gh_status check_connection_caps(struct config *cfg, char *err, size_t errlen)
{
    if (cfg->max_connections_per_ip == 0) {
        int share = cfg->max_connections / 8;
        cfg->max_connections_per_ip = share < 1 ? 1 : share > 128 ? 128 : share;
        return GH_OK;
    }
    if (cfg->max_connections > 1 && cfg->max_connections_per_ip >= cfg->max_connections) {
        set_err(err, errlen, "%s must be smaller than GATEHOUSE_MAX_CONNECTIONS.",
                "GATEHOUSE_MAX_CONNECTIONS_PER_IP");
        return GH_INTERNAL;
    }
    return GH_OK;
}

/* Fills the settings whose defaults depend on others, then checks cross-setting rules. */
static gh_status derive_and_check(struct config *cfg, char *err, size_t errlen)
{
    strip_trailing_slash(cfg->data_dir);
    if (!cfg->data_dir[0])
        strcpy(cfg->data_dir, "/");
    cfg->public_url_derived = !cfg->public_url[0];
    cfg->frontend_url_derived = !cfg->frontend_url[0];
    cfg->extra_origin_count = cfg->allowed_origin_count;
    if (derive_urls(cfg, err, errlen) != GH_OK)
        return GH_INTERNAL;
    if (!cfg->database_url[0] &&
        (size_t)snprintf(cfg->database_url, sizeof cfg->database_url, "sqlite:%s/gatehouse.db",
                         cfg->data_dir) >= sizeof cfg->database_url)
        goto too_long;
    if (!cfg->mail_url[0] && (size_t)snprintf(cfg->mail_url, sizeof cfg->mail_url, "file:%s/mail",
                                              cfg->data_dir) >= sizeof cfg->mail_url)
        goto too_long;
    if (!cfg->media_url[0] &&
        (size_t)snprintf(cfg->media_url, sizeof cfg->media_url, "file:%s/media", cfg->data_dir) >=
            sizeof cfg->media_url)
        goto too_long;
    if (check_media(cfg, err, errlen) != GH_OK)
        return GH_INTERNAL;
    if (strncmp(cfg->database_url, "sqlite:", 7) && strncmp(cfg->database_url, "postgres://", 11) &&
        strncmp(cfg->database_url, "postgresql://", 13)) {
        set_err(err, errlen, "%s must start with sqlite: or postgres://.", "DATABASE_URL");
        return GH_INTERNAL;
    }
    if (cfg->redis_url[0] && strncmp(cfg->redis_url, "redis://", 8)) {
        set_err(err, errlen, "%s must look like redis://[:password@]host:port/db.", "REDIS_URL");
        return GH_INTERNAL;
    }
    if (strncmp(cfg->mail_url, "file:", 5) && strncmp(cfg->mail_url, "smtp://", 7) &&
        strncmp(cfg->mail_url, "smtps://", 8)) {
        set_err(err, errlen, "%s must start with file:, smtp:// or smtps://.",
                "GATEHOUSE_MAIL_URL");
        return GH_INTERNAL;
    }
    if (check_connection_caps(cfg, err, errlen) != GH_OK)
        return GH_INTERNAL;
    if (!is_cookie_name(cfg->cookie_name)) {
        set_err(err, errlen, "%s must be a plain cookie name.", "GATEHOUSE_COOKIE_NAME");
        return GH_INTERNAL;
    }
    if (strchr(cfg->mail_from, '\r') || strchr(cfg->mail_from, '\n')) {
        set_err(err, errlen, "%s must be one line.", "GATEHOUSE_MAIL_FROM");
        return GH_INTERNAL;
    }
    if (cfg->production) {
        if (strncmp(cfg->public_url, "https://", 8)) {
            set_err(err, errlen,
                    "%s must be an https:// URL when GATEHOUSE_ENV=production (cookies and "
                    "links would travel in clear text).",
                    "GATEHOUSE_PUBLIC_URL");
            return GH_INTERNAL;
        }
        if (!strncmp(cfg->mail_url, "file:", 5)) {
            set_err(err, errlen,
                    "%s must be an smtp:// or smtps:// URL when GATEHOUSE_ENV=production (mail "
                    "written to files never reaches users).",
                    "GATEHOUSE_MAIL_URL");
            return GH_INTERNAL;
        }
        if (cfg->cookie_secure == 0) {
            set_err(err, errlen, "%s cannot be false when GATEHOUSE_ENV=production.",
                    "GATEHOUSE_COOKIE_SECURE");
            return GH_INTERNAL;
        }
    }
    return GH_OK;
too_long:
    set_err(err, errlen, "%s is too long.", "GATEHOUSE_DATA_DIR");
    return GH_INTERNAL;
}

gh_status config_load(struct config *cfg, config_lookup_fn lookup, void *ctx, char *err,
                      size_t errlen)
{
    set_defaults(cfg);
    if (read_settings(cfg, lookup, ctx, err, errlen) != GH_OK)
        return GH_INTERNAL;
    return derive_and_check(cfg, err, errlen);
}

/* Settings read from a KEY=VALUE file, consulted after the environment. */
struct file_settings {
    char *text; /* the whole file, split in place into keys and values */
    char *keys[256];
    char *values[256];
    size_t count;
};

static const char *env_then_file(void *ctx, const char *name)
{
    const struct file_settings *fs = ctx;
    const char *v = getenv(name);
    if (v)
        return v;
    for (size_t i = 0; fs && i < fs->count; i++)
        if (!strcmp(fs->keys[i], name))
            return fs->values[i];
    return NULL;
}

/* Splits a settings file into keys and values: blank lines and '#' comments are skipped,
 * surrounding whitespace and one pair of matching quotes around a value removed. */
static gh_status parse_settings_file(struct file_settings *fs, const char *path, char *err,
                                     size_t errlen)
{
    struct buf b = {0};
    gh_status st = GH_INTERNAL;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "Cannot read the settings file %s: %s.", path, strerror(errno));
        return GH_INTERNAL;
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != GH_OK)
            goto out;
    if (ferror(f) || (!b.data && buf_append_str(&b, "") != GH_OK))
        goto out; /* an empty file is fine: it sets nothing */
    fs->text = b.data;
    b.data = NULL;
    for (char *save = NULL, *line = strtok_r(fs->text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line || *line == '#' || *line == '\r')
            continue;
        char *eq = strchr(line, '=');
        if (!eq || fs->count >= 256) {
            snprintf(err, errlen, "The settings file %s has a line that is not KEY=VALUE.", path);
            goto out;
        }
        *eq = '\0';
        char *key = line, *val = eq + 1;
        for (char *e = eq; e > key && (e[-1] == ' ' || e[-1] == '\t'); e--)
            e[-1] = '\0';
        while (*val == ' ' || *val == '\t')
            val++;
        size_t vl = strlen(val);
        while (vl && (val[vl - 1] == '\r' || val[vl - 1] == ' ' || val[vl - 1] == '\t'))
            val[--vl] = '\0';
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        fs->keys[fs->count] = key;
        fs->values[fs->count++] = val;
    }
    st = GH_OK;
out:
    if (st != GH_OK && !err[0])
        snprintf(err, errlen, "Cannot read the settings file %s.", path);
    fclose(f);
    buf_free(&b);
    return st;
}

gh_status config_load_env(struct config *cfg, const char *path, char *err, size_t errlen)
{
    struct file_settings fs = {0};
    gh_status st = GH_OK;
    err[0] = '\0';
    if (path && (st = parse_settings_file(&fs, path, err, errlen)) != GH_OK)
        goto out;
    st = config_load(cfg, env_then_file, &fs, err, errlen);
out:
    free(fs.text);
    return st;
}

bool config_origin_allowed(const struct config *cfg, const char *origin)
{
    for (size_t i = 0; i < cfg->allowed_origin_count; i++)
        if (!strcasecmp(cfg->allowed_origins[i], origin))
            return true;
    return false;
}

bool config_cookie_secure(const struct config *cfg)
{
    if (cfg->cookie_secure >= 0)
        return cfg->cookie_secure == 1;
    return !strncmp(cfg->public_url, "https://", 8);
}

bool config_proxy_trusted(const struct config *cfg, const char *ip)
{
    for (size_t i = 0; i < cfg->trusted_proxy_count; i++)
        if (!strcmp(cfg->trusted_proxies[i], ip))
            return true;
    return false;
}

bool config_frontend_relaying(const struct config *cfg, const char *ip)
{
    for (size_t i = 0; i < cfg->relaying_frontend_count; i++)
        if (!strcmp(cfg->relaying_frontends[i], ip))
            return true;
    return false;
}
