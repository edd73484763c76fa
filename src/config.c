/* The settings of gatehouse as one table (README "Configuration"): each setting's name, type,
 * struct config member, bounds, default and help in one row. The defaults, the parser,
 * `gatehouse config` and the README check come from it; derivations and cross-setting checks
 * run after it is applied. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/secret.h"

#define MIB ((size_t)1024 * 1024)

/* A member of struct config, for sizeof and _Generic (never evaluated). */
#define MEMBER(m) (((struct config *)0)->m)
/* offsetof a member that must have the C type ctype (an array: the pointer it decays to): a row
 * naming a member of another type does not compile. */
#define FIELD(m, ctype) _Generic(MEMBER(m), ctype : offsetof(struct config, m))

/* What a row fills: its type and member, one macro per type. */
#define INT(m)       .type = SETTING_INT, .field = FIELD(m, int)
#define U32(m)       .type = SETTING_U32, .field = FIELD(m, uint32_t)
#define BYTES(m)     .type = SETTING_BYTES, .field = FIELD(m, size_t)
#define MEBIBYTES(m) .type = SETTING_MIB, .field = FIELD(m, size_t)
#define BOOL(m)      .type = SETTING_BOOL, .field = FIELD(m, bool)
#define AUTO_BOOL(m) .type = SETTING_AUTO_BOOL, .field = FIELD(m, int)
#define TEXT(m)      .type = SETTING_TEXT, .field = FIELD(m, char *), .size = sizeof MEMBER(m)
#define URL(m)       .type = SETTING_URL, .field = FIELD(m, char *), .size = sizeof MEMBER(m)
#define CHOICE(m, words)                                                                           \
    .type = SETTING_CHOICE, .field = offsetof(struct config, m), .size = sizeof MEMBER(m),         \
    .choices = (words)
#define LISTEN(host, port)                                                                         \
    .type = SETTING_LISTEN, .field = FIELD(host, char *), .size = sizeof MEMBER(host),             \
    .second = FIELD(port, uint16_t)
/* A list of type t into the char[rows][size] member m, its item count in the size_t count. */
#define LIST(t, m, count)                                                                          \
    .type = (t), .field = _Generic(&MEMBER(m)[0][0], char *: offsetof(struct config, m)),         \
    .size = sizeof MEMBER(m)[0], .rows = sizeof MEMBER(m) / sizeof MEMBER(m)[0],                   \
    .second = FIELD(count, size_t)

static const struct setting_choice env_words[] = {
    {"development", 0}, {"production", 1}, {"test", 0}, {NULL, 0}};

static const struct setting_choice jwt_alg_words[] = {{"ES256", 0}, {"EdDSA", 1}, {NULL, 0}};

static const struct setting_choice log_format_words[] = {
    {"auto", LOG_FORMAT_AUTO}, {"json", LOG_FORMAT_JSON}, {"text", LOG_FORMAT_TEXT}, {NULL, 0}};

_Static_assert(sizeof(enum log_format) == sizeof(int), "a choice is stored as a bool or an int");

/* Every setting of gatehouse. A row names the variable, its type and member (the macros above),
 * the bounds of a number, the default as it would be written in the environment (.def; empty
 * or absent: unset) or, when other settings decide it, how (.derived, for the docs), flags and
 * a one-line help. Adding a setting: a member in struct config, a row here, a row in the
 * README's table (a test compares them), and a check in derive_and_check if it needs one. */
const struct config_setting config_settings[] = {
    {"GATEHOUSE_ENV", CHOICE(production, env_words), .def = "development",
     .help = "development, or production: unsafe settings become start-up errors"},
    {"GATEHOUSE_LISTEN", LISTEN(listen_host, listen_port), .def = "127.0.0.1:5000",
     .help = "address:port to bind (port 0 = any free port)"},
    {"GATEHOUSE_PUBLIC_URL", URL(public_url), .derived = "http:// + listen address",
     .help = "how browsers reach this server (mail links, cookie Secure)"},
    {"GATEHOUSE_FRONTEND_URL", URL(frontend_url), .derived = "the public URL",
     .help = "where mail links and confirmation redirects land"},
    /* two rows of allowed_origins stay for the public and frontend origins */
    {"GATEHOUSE_ALLOWED_ORIGINS", LIST(SETTING_ORIGIN_LIST, allowed_origins, extra_origin_count),
     .max = CONFIG_MAX_ORIGINS - 2,
     .help = "extra origins accepted in Origin headers, comma-separated"},
    {"GATEHOUSE_DATA_DIR", TEXT(data_dir), .def = "./data",
     .help = "directory of the SQLite file, mail files and media files"},
    {"DATABASE_URL", URL(database_url), .derived = "sqlite:<data dir>/gatehouse.db",
     .help = "sqlite:FILE or postgres://user:password@host:port/db"},
    {"REDIS_URL", URL(redis_url),
     .help = "redis://[:password@]host:port/db for sessions and rate limits (unset: the database)"},
    {"GATEHOUSE_MAIL_URL", URL(mail_url), .derived = "file:<data dir>/mail",
     .help = "file:DIR, smtp://user:password@host:587 or smtps://..."},
    {"GATEHOUSE_MAIL_FROM", TEXT(mail_from), .def = "gatehouse <noreply@localhost>",
     .help = "From header of every mail"},
    {"GATEHOUSE_MAIL_TEMPLATES_DIR", TEXT(mail_templates_dir),
     .help = "directory of NAME.txt / NAME.html overriding the built-in mail templates"},
    {"GATEHOUSE_MAIL_RETRY_SECONDS", INT(mail_retry_seconds), .min = 1, .max = 86400, .def = "5",
     .help = "first retry delay of a failed mail, seconds; doubles per attempt"},
    {"GATEHOUSE_MAIL_RETRY_MAX_SECONDS", INT(mail_retry_max_seconds), .min = 1, .max = 86400,
     .def = "900", .help = "longest retry delay of a mail, seconds"},
    {"GATEHOUSE_COOKIE_NAME", TEXT(cookie_name), .def = "sessionid", .help = "session cookie name"},
    {"GATEHOUSE_COOKIE_SECURE", AUTO_BOOL(cookie_secure), .def = "auto",
     .help = "auto (Secure when the public URL is https), true or false"},
    {"GATEHOUSE_SESSION_TTL", INT(session_ttl), .min = 60, .max = 31536000, .def = "86400",
     .help = "absolute session lifetime, seconds"},
    {"GATEHOUSE_SESSION_IDLE_TIMEOUT", INT(session_idle_timeout), .min = 0, .max = 31536000,
     .def = "0", .help = "seconds of inactivity that end a session; 0 = off"},
    {"GATEHOUSE_CONFIRM_TOKEN_TTL", INT(confirm_token_ttl), .min = 1, .max = 2592000, .def = "1800",
     .help = "lifetime of an email confirmation link, seconds"},
    {"GATEHOUSE_RESET_TOKEN_TTL", INT(reset_token_ttl), .min = 1, .max = 2592000, .def = "1800",
     .help = "lifetime of a password reset link, seconds"},
    {"GATEHOUSE_PASSWORD_CHANGE_TOKEN_TTL", INT(password_change_token_ttl), .min = 1,
     .max = 2592000, .def = "3600",
     .help = "lifetime of the token the change-password page receives, seconds"},
    {"GATEHOUSE_MEDIA_URL", URL(media_url), .derived = "file:<data dir>/media",
     .help = "file:DIR (served at /media/) or s3://BUCKET"},
    {"GATEHOUSE_S3_ENDPOINT", URL(s3_endpoint),
     .help = "https:// URL of the S3-compatible service"},
    {"GATEHOUSE_S3_REGION", TEXT(s3_region), .def = "us-east-1", .help = "SigV4 region"},
    {"GATEHOUSE_S3_ACCESS_KEY", TEXT(s3_access_key), .help = "S3 access key (required with s3://)"},
    {"GATEHOUSE_S3_SECRET_KEY", TEXT(s3_secret_key), .flags = SETTING_SECRET,
     .help = "S3 secret key (required with s3://)"},
    {"GATEHOUSE_S3_PUBLIC_URL", URL(s3_public_url), .derived = "<endpoint>/<bucket>",
     .help = "base URL browsers fetch avatars from"},
    {"GATEHOUSE_AVATAR_MAX_BYTES", BYTES(avatar_max_bytes), .min = 1024, .max = 64 * 1024 * 1024,
     .def = "1048576", .help = "largest avatar, bytes"},
    {"GATEHOUSE_MAX_MULTIPART_BODY", BYTES(max_multipart_body), .min = 1024,
     .max = 1024 * 1024 * 1024, .def = "8388608", .help = "largest multipart body, bytes"},
    {"GATEHOUSE_RATE_IP_MAX", INT(rate_ip_max), .min = 1, .max = 100000000, .def = "30",
     .help = "credential and mail requests per client IP per window"},
    {"GATEHOUSE_RATE_IP_WINDOW", INT(rate_ip_window), .min = 1, .max = 86400, .def = "60",
     .help = "window of GATEHOUSE_RATE_IP_MAX, seconds"},
    {"GATEHOUSE_RATE_ACCOUNT_MAX", INT(rate_account_max), .min = 1, .max = 100000000, .def = "10",
     .help = "failed password checks per account and address (or device) per window"},
    {"GATEHOUSE_RATE_ACCOUNT_WINDOW", INT(rate_account_window), .min = 1, .max = 86400,
     .def = "900", .help = "window of GATEHOUSE_RATE_ACCOUNT_MAX, seconds"},
    {"GATEHOUSE_RATE_ACCOUNT_CEILING", INT(rate_account_ceiling), .min = 1, .max = 100000000,
     .def = "100",
     .help = "failed password checks per account from all addresses together per window"},
    {"GATEHOUSE_RATE_ACCOUNT_CEILING_WINDOW", INT(rate_account_ceiling_window), .min = 1,
     .max = 86400, .def = "3600", .help = "window of GATEHOUSE_RATE_ACCOUNT_CEILING, seconds"},
    {"GATEHOUSE_RATE_EMAIL_MAX", INT(rate_email_max), .min = 1, .max = 100000000, .def = "3",
     .help = "mail-sending requests per address per window"},
    {"GATEHOUSE_RATE_EMAIL_WINDOW", INT(rate_email_window), .min = 1, .max = 86400, .def = "900",
     .help = "window of GATEHOUSE_RATE_EMAIL_MAX, seconds"},
    {"GATEHOUSE_TRUSTED_PROXIES", LIST(SETTING_ADDRESS_LIST, trusted_proxies, trusted_proxy_count),
     .help = "proxy IPs whose X-Forwarded-For is believed, comma-separated"},
    {"GATEHOUSE_RELAYING_FRONTENDS",
     LIST(SETTING_IP_LIST, relaying_frontends, relaying_frontend_count),
     .help = "IPs of server-side frontends calling for all their users: not limited per IP"},
    {"GATEHOUSE_REGISTER_REVEALS_EXISTING", BOOL(register_reveals_existing), .def = "false",
     .help = "true: registering a taken address answers 409 email_taken"},
    {"GATEHOUSE_JWT_ALG", CHOICE(jwt_alg, jwt_alg_words), .def = "ES256",
     .help = "signature of access tokens: ES256 or EdDSA (Ed25519)"},
    {"GATEHOUSE_ISSUER", URL(issuer), .derived = "the public URL",
     .help = "iss of access tokens and the issuer of the OpenID Connect metadata"},
    {"GATEHOUSE_TOKEN_AUDIENCE", TEXT(token_audience), .derived = "the issuer",
     .help = "aud of access tokens"},
    {"GATEHOUSE_ACCESS_TOKEN_TTL", INT(access_token_ttl), .min = 30, .max = 86400, .def = "300",
     .help = "lifetime of an access token, seconds"},
    {"GATEHOUSE_REFRESH_TOKEN_TTL", INT(refresh_token_ttl), .min = 60, .max = 31536000,
     .def = "86400", .help = "lifetime of a refresh token, seconds"},
    {"GATEHOUSE_REFRESH_GRACE_SECONDS", INT(refresh_grace), .min = 0, .max = 300, .def = "10",
     .help = "seconds in which a rotated refresh token still yields the same successor"},
    {"GATEHOUSE_KEY_ENCRYPTION_KEY", TEXT(key_encryption_key), .flags = SETTING_SECRET,
     .help = "seals private signing keys in the database (32+ characters; required in "
             "production)"},
    {"GATEHOUSE_KEY_RELOAD_SECONDS", INT(key_reload_seconds), .min = 1, .max = 3600, .def = "30",
     .help = "how often every instance rereads the signing keys, seconds"},
    {"GATEHOUSE_CORS_ORIGINS", LIST(SETTING_ORIGIN_LIST, cors_origins, cors_origin_count),
     .help = "browser origins allowed to call the token and Bearer routes, comma-separated"},
    {"GATEHOUSE_RATE_CLIENT_MAX", INT(rate_client_max), .min = 1, .max = 100000000, .def = "60",
     .help = "/oauth/token requests per client per window"},
    {"GATEHOUSE_RATE_CLIENT_WINDOW", INT(rate_client_window), .min = 1, .max = 86400, .def = "60",
     .help = "window of GATEHOUSE_RATE_CLIENT_MAX, seconds"},
    {"GATEHOUSE_OIDC_PROVIDERS", TEXT(oidc_provider_list),
     .help = "names of the OpenID Connect providers to offer, comma-separated (e.g. google,corp)"},
    {"GATEHOUSE_OIDC_TIMEOUT", INT(oidc_timeout), .min = 1, .max = 60, .def = "10",
     .help = "seconds a call to an OpenID Connect provider may take"},
    {"GATEHOUSE_PASSWORD_MIN_LENGTH", INT(password_min_length), .min = 8, .max = 128, .def = "12",
     .help = "minimum password length, characters"},
    {"GATEHOUSE_ARGON2_MEMORY_KIB", U32(argon2_memory_kib), .min = 8192, .max = 4 * 1024 * 1024,
     .def = "19456", .help = "Argon2id memory cost, KiB"},
    {"GATEHOUSE_ARGON2_ITERATIONS", U32(argon2_iterations), .min = 1, .max = 100, .def = "2",
     .help = "Argon2id time cost"},
    {"GATEHOUSE_HASH_THREADS", INT(hash_threads), .min = 0, .max = 256, .def = "0",
     .derived = "cores", .help = "password hashing threads; 0 = one per core"},
    {"GATEHOUSE_HASH_QUEUE", INT(hash_queue), .min = 1, .max = 100000, .def = "64",
     .help = "hashing jobs that may wait; beyond that requests get 503"},
    {"GATEHOUSE_IO_THREADS", INT(io_threads), .min = 1, .max = 256, .def = "8",
     .help = "threads for requests that wait on storage (profile and avatar updates, S3)"},
    {"GATEHOUSE_IO_QUEUE", INT(io_queue), .min = 1, .max = 100000, .def = "256",
     .help = "requests for those threads that may wait; beyond that they get 503"},
    {"GATEHOUSE_THREADS", INT(http_threads), .min = 0, .max = 256, .def = "0", .derived = "cores",
     .help = "HTTP worker threads; 0 = one per core"},
    {"GATEHOUSE_MAX_CONNECTIONS", INT(max_connections), .min = 1, .max = 1000000, .def = "1024",
     .help = "open connections at most"},
    {"GATEHOUSE_CONNECTION_TIMEOUT", INT(connection_timeout), .min = 1, .max = 3600, .def = "30",
     .help = "seconds of inactivity before a connection is closed"},
    {"GATEHOUSE_MAX_CONNECTIONS_PER_IP", INT(max_connections_per_ip), .min = 1, .max = 1000000,
     .derived = "an eighth of GATEHOUSE_MAX_CONNECTIONS, at most 128",
     .help = "open connections of one client address (IPv6: per /64)"},
    {"GATEHOUSE_HEADER_TIMEOUT", INT(header_timeout), .min = 1, .max = 3600, .def = "10",
     .help = "seconds for a request's whole header block"},
    {"GATEHOUSE_BODY_TIMEOUT", INT(body_timeout), .min = 1, .max = 3600, .def = "60",
     .help = "seconds for a request's whole body"},
    {"GATEHOUSE_BODY_MEMORY_MIB", MEBIBYTES(body_memory_max), .min = 1, .max = 1024 * 1024,
     .def = "64", .help = "MiB of request bodies held in memory by all requests together"},
    {"GATEHOUSE_MAX_JSON_BODY", BYTES(max_json_body), .min = 1024, .max = 16 * 1024 * 1024,
     .def = "65536", .help = "largest JSON body, bytes"},
    {"GATEHOUSE_LOG_FORMAT", CHOICE(log_format, log_format_words), .def = "auto",
     .help = "json, text, or auto (text on a terminal, JSON otherwise)"},
    {"GATEHOUSE_LOG_REQUESTS", BOOL(log_requests), .def = "true",
     .help = "one access-log line per request"},
};

const size_t config_setting_count = sizeof config_settings / sizeof config_settings[0];

const char *config_setting_default(const struct config_setting *s)
{
    return s->derived ? s->derived : s->def ? s->def : "";
}

/* ---- parsing one value ---- */

static gh_status refuse(char *err, size_t errlen, const char *fmt, const char *name)
{
    snprintf(err, errlen, fmt, name);
    return GH_ERR_CONFIG;
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

static gh_status parse_number(const struct config_setting *s, const char *v, long *out, char *err,
                              size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < s->min || n > s->max) {
        snprintf(err, errlen, "%s must be a whole number from %ld to %ld.", s->name, s->min,
                 s->max);
        return GH_ERR_CONFIG;
    }
    *out = n;
    return GH_OK;
}

/* Stores a number already within the row's bounds into its member. */
static void store_number(const struct config_setting *s, void *field, long n)
{
    switch (s->type) {
    case SETTING_INT:
        *(int *)field = (int)n;
        break;
    case SETTING_U32:
        *(uint32_t *)field = (uint32_t)n;
        break;
    case SETTING_BYTES:
        *(size_t *)field = (size_t)n;
        break;
    case SETTING_MIB:
        *(size_t *)field = (size_t)n * MIB;
        break;
    default:
        break;
    }
}

static gh_status parse_bool(const char *name, const char *v, bool *out, char *err, size_t errlen)
{
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
    return refuse(err, errlen, "%s must be true or false.", name);
}

/* The word printed for a choice's value: the first one that stands for it. */
static const char *choice_word(const struct setting_choice *choices, int value)
{
    for (const struct setting_choice *c = choices; c->word; c++)
        if (c->value == value)
            return c->word;
    return "";
}

/* Writes "NAME must be a, b or c.", naming each value by its first word. */
static gh_status refuse_choice(const struct config_setting *s, char *err, size_t errlen)
{
    const char *words[16];
    size_t count = 0, n = (size_t)snprintf(err, errlen, "%s must be", s->name);
    for (const struct setting_choice *c = s->choices; c->word && count < 16; c++)
        if (choice_word(s->choices, c->value) == c->word)
            words[count++] = c->word;
    for (size_t i = 0; i < count && n < errlen; i++) {
        const char *before = i == 0 ? " " : i + 1 < count ? ", " : " or ";
        n += (size_t)snprintf(err + n, errlen - n, "%s%s", before, words[i]);
    }
    if (n < errlen)
        snprintf(err + n, errlen - n, ".");
    return GH_ERR_CONFIG;
}

static gh_status parse_choice(const struct config_setting *s, const char *v, void *field, char *err,
                              size_t errlen)
{
    const struct setting_choice *c = s->choices;
    while (c->word && strcmp(c->word, v))
        c++;
    if (!c->word)
        return refuse_choice(s, err, errlen);
    if (s->size == sizeof(bool))
        *(bool *)field = c->value != 0;
    else
        memcpy(field, &c->value, sizeof c->value);
    return GH_OK;
}

static gh_status parse_listen(const struct config_setting *s, const char *v, char *host,
                              uint16_t *port, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || (size_t)(colon - v) >= s->size)
        goto bad;
    char *end = NULL;
    long n = strtol(colon + 1, &end, 10);
    if (*end || colon[1] == '\0' || n < 0 || n > 65535)
        goto bad;
    memcpy(host, v, (size_t)(colon - v));
    host[colon - v] = '\0';
    *port = (uint16_t)n;
    return GH_OK;
bad:
    return refuse(err, errlen, "%s must look like 127.0.0.1:5000.", s->name);
}

/* Copies the items of a list separated by commas and/or spaces into the rows of table (each
 * cap bytes), up to max rows, and sets *count. GH_ERR_TOO_LONG when an item or the number of
 * items does not fit. */
static gh_status split_list(const char *list, char *table, size_t cap, size_t max, size_t *count)
{
    const char *p = list;
    *count = 0;
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

static gh_status parse_list(const struct config_setting *s, const char *v, char *rows,
                            size_t *count, char *err, size_t errlen)
{
    unsigned char addr[sizeof(struct in6_addr)];
    size_t max = s->max > 0 && (size_t)s->max < s->rows ? (size_t)s->max : s->rows;
    bool origins = s->type == SETTING_ORIGIN_LIST;
    if (split_list(v, rows, s->size, max, count) != GH_OK)
        return refuse(err, errlen,
                      origins ? "%s lists too many or too long origins."
                              : "%s lists too many or too long addresses.",
                      s->name);
    for (size_t i = 0; i < *count; i++) {
        char *item = rows + s->size * i;
        if (origins) {
            strip_trailing_slash(item);
            if (!is_http_url(item))
                return refuse(err, errlen, "%s must list http:// or https:// origins.", s->name);
        } else if (s->type == SETTING_IP_LIST && inet_pton(AF_INET, item, addr) != 1 &&
                   inet_pton(AF_INET6, item, addr) != 1) {
            return refuse(err, errlen, "%s must list IP addresses.", s->name);
        }
    }
    return GH_OK;
}

/* True for the types whose empty value is a value (empty text, no items), not "unset". */
static bool empty_is_a_value(enum setting_type type)
{
    return type == SETTING_TEXT || type == SETTING_URL || type == SETTING_ORIGIN_LIST ||
           type == SETTING_ADDRESS_LIST || type == SETTING_IP_LIST;
}

gh_status config_setting_parse(struct config *cfg, const struct config_setting *s,
                               const char *value, char *err, size_t errlen)
{
    char *field = (char *)cfg + s->field;
    char *second = (char *)cfg + s->second;
    long n = 0;
    bool b = false;
    if (!*value && !empty_is_a_value(s->type))
        return GH_OK; /* the default stays */
    switch (s->type) {
    case SETTING_INT:
    case SETTING_U32:
    case SETTING_BYTES:
    case SETTING_MIB:
        if (parse_number(s, value, &n, err, errlen) != GH_OK)
            return GH_ERR_CONFIG;
        store_number(s, field, n);
        return GH_OK;
    case SETTING_BOOL:
        return parse_bool(s->name, value, (bool *)field, err, errlen);
    case SETTING_AUTO_BOOL:
        if (!strcmp(value, "auto")) {
            *(int *)field = -1;
            return GH_OK;
        }
        if (parse_bool(s->name, value, &b, err, errlen) != GH_OK)
            return GH_ERR_CONFIG;
        *(int *)field = b ? 1 : 0;
        return GH_OK;
    case SETTING_CHOICE:
        return parse_choice(s, value, field, err, errlen);
    case SETTING_TEXT:
    case SETTING_URL:
        if (str_copy(field, s->size, value) != GH_OK)
            return refuse(err, errlen, "%s is too long.", s->name);
        return GH_OK;
    case SETTING_LISTEN:
        return parse_listen(s, value, field, (uint16_t *)second, err, errlen);
    case SETTING_ORIGIN_LIST:
    case SETTING_ADDRESS_LIST:
    case SETTING_IP_LIST:
        return parse_list(s, value, field, (size_t *)second, err, errlen);
    }
    return refuse(err, errlen, "%s has a type gatehouse does not know.", s->name);
}

/* ---- printing one value ---- */

/* Appends a URL with its password masked: in scheme://user:PASSWORD@host everything from the
 * first ':' to the last '@' (a password may hold both, and more masked is better than less),
 * and the value of a password= query parameter. */
static gh_status append_url_masked(struct buf *out, const char *url)
{
    const char *authority = strstr(url, "://");
    const char *at = authority ? strrchr(authority + 3, '@') : NULL;
    const char *colon = at ? memchr(authority + 3, ':', (size_t)(at - authority - 3)) : NULL;
    const char *p = url; /* appended up to here */
    gh_status st = GH_OK;
    if (colon && colon + 1 < at) {
        st = buf_append(out, p, (size_t)(colon + 1 - p));
        if (st == GH_OK)
            st = buf_append_str(out, CONFIG_MASK);
        p = at;
    }
    for (const char *q = strchr(p, '?'); q && st == GH_OK; q = strchr(q + 1, '&')) {
        if (strncmp(q + 1, "password=", 9))
            continue;
        const char *value = q + 10;
        size_t len = strcspn(value, "&#");
        if (!len)
            continue;
        st = buf_append(out, p, (size_t)(value - p));
        if (st == GH_OK)
            st = buf_append_str(out, CONFIG_MASK);
        p = value + len;
    }
    return st == GH_OK ? buf_append_str(out, p) : st;
}

/* Appends the items of a list member, separated by commas. */
static gh_status append_list(struct buf *out, const char *rows, size_t size, size_t count)
{
    gh_status st = GH_OK;
    for (size_t i = 0; i < count && st == GH_OK; i++)
        st = buf_printf(out, "%s%s", i ? "," : "", rows + size * i);
    return st;
}

gh_status config_setting_value(const struct config *cfg, const struct config_setting *s,
                               struct buf *out)
{
    const char *field = (const char *)cfg + s->field;
    const char *second = (const char *)cfg + s->second;
    int choice = 0;
    gh_status st = buf_append_str(out, "");
    if (st != GH_OK)
        return st;
    if (s->flags & SETTING_SECRET) { /* an unset secret text shows as unset */
        bool unset = (s->type == SETTING_TEXT || s->type == SETTING_URL) && !*field;
        return buf_append_str(out, unset ? "" : CONFIG_MASK);
    }
    switch (s->type) {
    case SETTING_INT:
        return buf_printf(out, "%d", *(const int *)field);
    case SETTING_U32:
        return buf_printf(out, "%" PRIu32, *(const uint32_t *)field);
    case SETTING_BYTES:
        return buf_printf(out, "%zu", *(const size_t *)field);
    case SETTING_MIB:
        return buf_printf(out, "%zu", *(const size_t *)field / MIB);
    case SETTING_BOOL:
        return buf_append_str(out, *(const bool *)field ? "true" : "false");
    case SETTING_AUTO_BOOL:
        return buf_append_str(out, *(const int *)field < 0    ? "auto"
                                   : *(const int *)field == 1 ? "true"
                                                              : "false");
    case SETTING_CHOICE:
        if (s->size == sizeof(bool))
            choice = *(const bool *)field;
        else
            memcpy(&choice, field, sizeof choice);
        return buf_append_str(out, choice_word(s->choices, choice));
    case SETTING_TEXT:
        return buf_append_str(out, field);
    case SETTING_URL:
        return append_url_masked(out, field);
    case SETTING_LISTEN:
        return buf_printf(out, "%s:%u", field, (unsigned)*(const uint16_t *)second);
    case SETTING_ORIGIN_LIST:
    case SETTING_ADDRESS_LIST:
    case SETTING_IP_LIST:
        return append_list(out, field, s->size, *(const size_t *)second);
    }
    return GH_ERR_CONFIG;
}

/* ---- the whole table ---- */

/* Fills cfg with every row's default. */
static gh_status apply_defaults(struct config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < config_setting_count; i++) {
        const struct config_setting *s = &config_settings[i];
        if (s->def && config_setting_parse(cfg, s, s->def, err, errlen) != GH_OK)
            return GH_ERR_CONFIG;
    }
    return GH_OK;
}

/* Applies every setting that lookup finds over the defaults. */
static gh_status apply_settings(struct config *cfg, config_lookup_fn lookup, void *ctx, char *err,
                                size_t errlen)
{
    for (size_t i = 0; i < config_setting_count; i++) {
        const struct config_setting *s = &config_settings[i];
        const char *v = lookup(ctx, s->name);
        if (v && config_setting_parse(cfg, s, v, err, errlen) != GH_OK)
            return GH_ERR_CONFIG;
    }
    return GH_OK;
}

/* ---- derivations and cross-setting checks ---- */

/* Fills the URLs derived from the listen address and the allowed-origin list. */
static gh_status derive_urls(struct config *cfg, char *err, size_t errlen)
{
    if (cfg->public_url_derived)
        snprintf(cfg->public_url, sizeof cfg->public_url, "http://%s:%u", cfg->listen_host,
                 (unsigned)cfg->listen_port);
    strip_trailing_slash(cfg->public_url);
    if (!is_http_url(cfg->public_url))
        return refuse(err, errlen, "%s must start with http:// or https://.",
                      "GATEHOUSE_PUBLIC_URL");
    if (cfg->frontend_url_derived)
        strcpy(cfg->frontend_url, cfg->public_url);
    strip_trailing_slash(cfg->frontend_url);
    if (!is_http_url(cfg->frontend_url))
        return refuse(err, errlen, "%s must start with http:// or https://.",
                      "GATEHOUSE_FRONTEND_URL");
    cfg->allowed_origin_count = cfg->extra_origin_count;
    url_origin(cfg->public_url, cfg->allowed_origins[cfg->allowed_origin_count++], CONFIG_URL_MAX);
    url_origin(cfg->frontend_url, cfg->allowed_origins[cfg->allowed_origin_count++],
               CONFIG_URL_MAX);
    return GH_OK;
}

/* The issuer and audience of access tokens follow the public URL unless set; the key that seals
 * signing keys must be long enough to be a key. */
static gh_status derive_tokens(struct config *cfg, char *err, size_t errlen)
{
    if (cfg->issuer_derived)
        strcpy(cfg->issuer, cfg->public_url);
    if (cfg->audience_derived &&
        str_copy(cfg->token_audience, sizeof cfg->token_audience, cfg->issuer) != GH_OK)
        return refuse(err, errlen, "%s is too long.", "GATEHOUSE_ISSUER");
    if (cfg->key_encryption_key[0] && strlen(cfg->key_encryption_key) < 32)
        return refuse(err, errlen, "%s must have at least 32 characters.",
                      "GATEHOUSE_KEY_ENCRYPTION_KEY");
    return GH_OK;
}

gh_status config_set_port(struct config *cfg, uint16_t port)
{
    char err[256];
    cfg->listen_port = port;
    gh_status st = derive_urls(cfg, err, sizeof err);
    return st == GH_OK ? derive_tokens(cfg, err, sizeof err) : st;
}

/* Fills the unset location dst (cap bytes) with fmt applied to the data directory; false when
 * it does not fit. */
static bool fill_from_data_dir(char *dst, size_t cap, const char *fmt, const char *data_dir)
{
    return dst[0] || (size_t)snprintf(dst, cap, fmt, data_dir) < cap;
}

/* Fills the database, mail and media locations that default to places in the data directory. */
static gh_status derive_data_paths(struct config *cfg, char *err, size_t errlen)
{
    strip_trailing_slash(cfg->data_dir);
    if (!cfg->data_dir[0])
        strcpy(cfg->data_dir, "/");
    if (!fill_from_data_dir(cfg->database_url, sizeof cfg->database_url, "sqlite:%s/gatehouse.db",
                            cfg->data_dir) ||
        !fill_from_data_dir(cfg->mail_url, sizeof cfg->mail_url, "file:%s/mail", cfg->data_dir) ||
        !fill_from_data_dir(cfg->media_url, sizeof cfg->media_url, "file:%s/media", cfg->data_dir))
        return refuse(err, errlen, "%s is too long.", "GATEHOUSE_DATA_DIR");
    return GH_OK;
}

/* Checks the media settings and derives the S3 public URL. */
static gh_status check_media(struct config *cfg, char *err, size_t errlen)
{
    if (!strncmp(cfg->media_url, "file:", 5))
        return GH_OK;
    if (strncmp(cfg->media_url, "s3://", 5) || !cfg->media_url[5] ||
        strchr(cfg->media_url + 5, '/'))
        return refuse(err, errlen, "%s must be file:DIR or s3://BUCKET.", "GATEHOUSE_MEDIA_URL");
    strip_trailing_slash(cfg->s3_endpoint);
    if (!is_http_url(cfg->s3_endpoint))
        return refuse(err, errlen, "%s must be the http(s):// URL of the S3 service.",
                      "GATEHOUSE_S3_ENDPOINT");
    if (!cfg->s3_access_key[0] || !cfg->s3_secret_key[0])
        return refuse(err, errlen, "%s and GATEHOUSE_S3_SECRET_KEY are required for s3:// media.",
                      "GATEHOUSE_S3_ACCESS_KEY");
    if (!cfg->s3_public_url[0] &&
        (size_t)snprintf(cfg->s3_public_url, sizeof cfg->s3_public_url, "%s/%s", cfg->s3_endpoint,
                         cfg->media_url + 5) >= sizeof cfg->s3_public_url)
        return refuse(err, errlen, "%s is too long.", "GATEHOUSE_S3_ENDPOINT");
    strip_trailing_slash(cfg->s3_public_url);
    return GH_OK;
}

/* Checks the schemes of the database, Redis and mail URLs. */
static gh_status check_backend_urls(const struct config *cfg, char *err, size_t errlen)
{
    if (strncmp(cfg->database_url, "sqlite:", 7) && strncmp(cfg->database_url, "postgres://", 11) &&
        strncmp(cfg->database_url, "postgresql://", 13))
        return refuse(err, errlen, "%s must start with sqlite: or postgres://.", "DATABASE_URL");
    if (cfg->redis_url[0] && strncmp(cfg->redis_url, "redis://", 8))
        return refuse(err, errlen, "%s must look like redis://[:password@]host:port/db.",
                      "REDIS_URL");
    if (strncmp(cfg->mail_url, "file:", 5) && strncmp(cfg->mail_url, "smtp://", 7) &&
        strncmp(cfg->mail_url, "smtps://", 8))
        return refuse(err, errlen, "%s must start with file:, smtp:// or smtps://.",
                      "GATEHOUSE_MAIL_URL");
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

/* Checks the settings that end up in headers: Set-Cookie and the From of every mail. */
static gh_status check_header_values(const struct config *cfg, char *err, size_t errlen)
{
    if (!is_cookie_name(cfg->cookie_name))
        return refuse(err, errlen, "%s must be a plain cookie name.", "GATEHOUSE_COOKIE_NAME");
    if (strchr(cfg->mail_from, '\r') || strchr(cfg->mail_from, '\n'))
        return refuse(err, errlen, "%s must be one line.", "GATEHOUSE_MAIL_FROM");
    return GH_OK;
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
    if (cfg->max_connections > 1 && cfg->max_connections_per_ip >= cfg->max_connections)
        return refuse(err, errlen, "%s must be smaller than GATEHOUSE_MAX_CONNECTIONS.",
                      "GATEHOUSE_MAX_CONNECTIONS_PER_IP");
    return GH_OK;
}

/* GATEHOUSE_ENV=production refuses what is only safe on a developer's machine. */
static gh_status check_production(const struct config *cfg, char *err, size_t errlen)
{
    if (!cfg->production)
        return GH_OK;
    if (strncmp(cfg->public_url, "https://", 8))
        return refuse(err, errlen,
                      "%s must be an https:// URL when GATEHOUSE_ENV=production (cookies and "
                      "links would travel in clear text).",
                      "GATEHOUSE_PUBLIC_URL");
    if (!strncmp(cfg->mail_url, "file:", 5))
        return refuse(err, errlen,
                      "%s must be an smtp:// or smtps:// URL when GATEHOUSE_ENV=production (mail "
                      "written to files never reaches users).",
                      "GATEHOUSE_MAIL_URL");
    if (cfg->cookie_secure == 0)
        return refuse(err, errlen, "%s cannot be false when GATEHOUSE_ENV=production.",
                      "GATEHOUSE_COOKIE_SECURE");
    if (!cfg->key_encryption_key[0])
        return refuse(err, errlen,
                      "%s is required when GATEHOUSE_ENV=production (private signing keys would "
                      "be stored in clear).",
                      "GATEHOUSE_KEY_ENCRYPTION_KEY");
    return GH_OK;
}

/* Fills the settings whose defaults depend on others, then checks cross-setting rules. */
static gh_status derive_and_check(struct config *cfg, char *err, size_t errlen)
{
    cfg->public_url_derived = !cfg->public_url[0];
    cfg->frontend_url_derived = !cfg->frontend_url[0];
    cfg->issuer_derived = !cfg->issuer[0];
    cfg->audience_derived = !cfg->token_audience[0];
    gh_status st = derive_urls(cfg, err, errlen);
    if (st == GH_OK)
        st = derive_data_paths(cfg, err, errlen);
    if (st == GH_OK)
        st = check_media(cfg, err, errlen);
    if (st == GH_OK)
        st = check_backend_urls(cfg, err, errlen);
    if (st == GH_OK)
        st = check_connection_caps(cfg, err, errlen);
    if (st == GH_OK)
        st = check_header_values(cfg, err, errlen);
    if (st == GH_OK)
        st = derive_tokens(cfg, err, errlen);
    if (st == GH_OK)
        st = check_production(cfg, err, errlen);
    return st;
}

#define PROVIDER_FIELD(m)                                                                          \
    .field = offsetof(struct oidc_provider_config, m),                                             \
    .size = sizeof((struct oidc_provider_config *)0)->m

const struct provider_setting provider_settings[] = {
    {"ISSUER", PROVIDER_FIELD(issuer),
     .help = "the provider's issuer URL (https://accounts.google.com for Google); required"},
    {"CLIENT_ID", PROVIDER_FIELD(client_id), .help = "the client id gatehouse has at the provider"},
    {"CLIENT_SECRET", PROVIDER_FIELD(client_secret), .secret = true,
     .help = "its client secret (empty: a public client, PKCE only)"},
    {"SCOPES", PROVIDER_FIELD(scopes), .def = "openid email profile", .help = "scopes asked for"},
    {"DISPLAY_NAME", PROVIDER_FIELD(display_name),
     .derived = "Google for Google's issuer, else the name",
     .help = "the name on the button: Continue with DISPLAY_NAME"},
};
const size_t provider_setting_count = sizeof provider_settings / sizeof provider_settings[0];

/* Reads GATEHOUSE_OIDC_<NAME>_<suffix> of every provider named in GATEHOUSE_OIDC_PROVIDERS. */
static gh_status read_providers(struct config *cfg, config_lookup_fn lookup, void *ctx, char *err,
                                size_t errlen)
{
    char names[CONFIG_MAX_PROVIDERS][32];
    size_t count = 0;
    if (split_list(cfg->oidc_provider_list, names[0], sizeof names[0], CONFIG_MAX_PROVIDERS,
                   &count) != GH_OK)
        return refuse(err, errlen, "%s lists too many or too long names.",
                      "GATEHOUSE_OIDC_PROVIDERS");
    for (size_t i = 0; i < count; i++) {
        struct oidc_provider_config *p = &cfg->providers[i];
        char upper[32], var[96];
        memset(p, 0, sizeof *p);
        for (size_t k = 0; names[i][k]; k++) {
            char c = names[i][k];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                return refuse(err, errlen, "%s names must be lower-case letters, digits or _.",
                              "GATEHOUSE_OIDC_PROVIDERS");
            upper[k] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
            upper[k + 1] = '\0';
        }
        strcpy(p->name, names[i]);
        for (size_t k = 0; k < provider_setting_count; k++) {
            const struct provider_setting *ps = &provider_settings[k];
            snprintf(var, sizeof var, "GATEHOUSE_OIDC_%s_%s", upper, ps->suffix);
            const char *v = lookup(ctx, var);
            if (!v || !v[0])
                v = ps->def;
            if (v && str_copy((char *)p + ps->field, ps->size, v) != GH_OK) {
                snprintf(err, errlen, "%s is too long.", var);
                return GH_ERR_CONFIG;
            }
        }
        strip_trailing_slash(p->issuer);
        if (!p->issuer[0] || !p->client_id[0] ||
            (strncmp(p->issuer, "https://", 8) &&
             (cfg->production || strncmp(p->issuer, "http://", 7)))) {
            snprintf(err, errlen,
                     "GATEHOUSE_OIDC_%s_ISSUER and GATEHOUSE_OIDC_%s_CLIENT_ID are required, the "
                     "issuer an https:// URL (http:// only outside production).",
                     upper, upper);
            return GH_ERR_CONFIG;
        }
        if (!p->display_name[0])
            strcpy(p->display_name,
                   strcmp(p->issuer, "https://accounts.google.com") ? p->name : "Google");
    }
    cfg->provider_count = count;
    return GH_OK;
}

const struct oidc_provider_config *config_provider(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->provider_count; i++)
        if (!strcmp(cfg->providers[i].name, name))
            return &cfg->providers[i];
    return NULL;
}

gh_status config_load(struct config *cfg, config_lookup_fn lookup, void *ctx, char *err,
                      size_t errlen)
{
    if (apply_defaults(cfg, err, errlen) != GH_OK ||
        apply_settings(cfg, lookup, ctx, err, errlen) != GH_OK ||
        read_providers(cfg, lookup, ctx, err, errlen) != GH_OK)
        return GH_ERR_CONFIG;
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
    gh_status st = GH_ERR_CONFIG;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "Cannot read the settings file %s: %s.", path, strerror(errno));
        return GH_ERR_CONFIG;
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

bool config_cors_allowed(const struct config *cfg, const char *origin)
{
    for (size_t i = 0; i < cfg->cors_origin_count; i++)
        if (!strcasecmp(cfg->cors_origins[i], origin))
            return true;
    return false;
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
