/* The settings of a gatehouse process, parsed once at start into one immutable struct.
 * Nothing else in the program reads the environment. */
#ifndef GH_CONFIG_H
#define GH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define CONFIG_MAX_ORIGINS   16
#define CONFIG_MAX_PROVIDERS 8

/* An OpenID Connect provider (GATEHOUSE_OIDC_PROVIDERS and GATEHOUSE_OIDC_<NAME>_*). */
struct oidc_provider_config {
    char name[32];    /* lower case: the path segment of its routes */
    char issuer[512]; /* its discovery document is {issuer}/.well-known/openid-configuration */
    char client_id[256];
    char client_secret[256]; /* empty: a public client (PKCE only) */
    char scopes[256];
    char display_name[64]; /* "Continue with {display_name}" */
};
#define CONFIG_URL_MAX 512
#define IP_TEXT_MAX    46

enum log_format { LOG_FORMAT_AUTO, LOG_FORMAT_JSON, LOG_FORMAT_TEXT };

struct config {
    bool production;                   /* GATEHOUSE_ENV=production */
    char listen_host[64];              /* GATEHOUSE_LISTEN, address part */
    uint16_t listen_port;              /* GATEHOUSE_LISTEN, port part; 0 = any free port */
    char public_url[CONFIG_URL_MAX];   /* without trailing slash; empty = derived from listen */
    char frontend_url[CONFIG_URL_MAX]; /* without trailing slash; empty = the public URL */
    char allowed_origins[CONFIG_MAX_ORIGINS][CONFIG_URL_MAX];
    size_t allowed_origin_count; /* extra origins first, then public and frontend origin */
    size_t extra_origin_count;   /* GATEHOUSE_ALLOWED_ORIGINS entries */
    bool public_url_derived;     /* GATEHOUSE_PUBLIC_URL unset: follows the listen address */
    bool issuer_derived;         /* GATEHOUSE_ISSUER unset: the public URL */
    bool audience_derived;       /* GATEHOUSE_TOKEN_AUDIENCE unset: the issuer */
    bool frontend_url_derived;   /* GATEHOUSE_FRONTEND_URL unset: the public URL */
    char data_dir[CONFIG_URL_MAX];
    char database_url[CONFIG_URL_MAX];
    char redis_url[CONFIG_URL_MAX]; /* empty = sessions and rate limits in the database */
    char mail_url[CONFIG_URL_MAX];
    char mail_from[256];
    char mail_templates_dir[CONFIG_URL_MAX]; /* empty = only the built-in templates */
    int mail_retry_seconds;                  /* first retry delay; doubles per attempt */
    int mail_retry_max_seconds;              /* cap of the retry delay */
    char cookie_name[64];
    int cookie_secure;             /* -1 = auto (https public URL), 0 = never, 1 = always */
    int session_ttl;               /* absolute session lifetime, seconds */
    int session_idle_timeout;      /* seconds without use before a session ends; 0 = off */
    int confirm_token_ttl;         /* seconds */
    int reset_token_ttl;           /* seconds */
    int password_change_token_ttl; /* seconds the change-password page\'s token lives */
    int password_min_length;       /* >= 8 */
    uint32_t argon2_memory_kib;
    uint32_t argon2_iterations;
    int hash_threads; /* 0 = number of cores */
    int hash_queue;   /* waiting hash jobs before 503 */
    int io_threads;   /* threads of the I/O pool (S3, outbound HTTP) */
    int io_queue;     /* waiting I/O jobs before 503 */
    int http_threads; /* 0 = number of cores */
    int max_connections;
    int connection_timeout;     /* seconds of inactivity before a connection is closed */
    int max_connections_per_ip; /* open connections of one client address (IPv6: per /64) */
    int header_timeout;         /* seconds for a request's whole header block */
    int body_timeout;           /* seconds for a request's whole body */
    size_t body_memory_max;     /* bytes of request bodies held in memory at once, all requests */
    size_t max_json_body;       /* bytes */
    size_t max_multipart_body;  /* bytes */
    size_t avatar_max_bytes;
    char media_url[CONFIG_URL_MAX];   /* file:DIR or s3://BUCKET */
    char s3_endpoint[CONFIG_URL_MAX]; /* without trailing slash */
    char s3_region[64];
    char s3_access_key[128];
    char s3_secret_key[128];
    char s3_public_url[CONFIG_URL_MAX]; /* base URL of stored objects; default endpoint/bucket */
    int rate_ip_max, rate_ip_window;    /* credential/email requests per client IP */
    int rate_account_max, rate_account_window; /* failed password checks per account and client
                                                  address, or per account and device */
    int rate_account_ceiling, rate_account_ceiling_window; /* failed checks per account, from
                                                              anywhere without a device cookie */
    int rate_email_max, rate_email_window;                 /* email-sending requests per address */
    char trusted_proxies[CONFIG_MAX_ORIGINS][IP_TEXT_MAX]; /* peers whose X-Forwarded-For counts */
    size_t trusted_proxy_count;
    char relaying_frontends[CONFIG_MAX_ORIGINS][IP_TEXT_MAX]; /* server-side frontends calling
                                                                 for many users */
    size_t relaying_frontend_count;
    bool register_reveals_existing; /* registering a taken address answers 409, not 201 */
    /* Token API (SPEC §3). */
    int jwt_alg;                         /* enum jwt_alg: 0 = ES256, 1 = EdDSA */
    char issuer[CONFIG_URL_MAX];         /* iss of access tokens; empty = the public URL */
    char token_audience[CONFIG_URL_MAX]; /* aud of access tokens; empty = the issuer */
    int access_token_ttl;                /* seconds */
    int refresh_token_ttl;               /* seconds */
    int refresh_grace;            /* seconds a rotated refresh token still yields its successor */
    char key_encryption_key[256]; /* seals private signing keys in the database; empty = none */
    int key_reload_seconds;       /* how often every instance rereads the signing keys */
    char cors_origins[CONFIG_MAX_ORIGINS][CONFIG_URL_MAX]; /* browser origins of token clients */
    size_t cors_origin_count;
    int rate_client_max, rate_client_window; /* /oauth/token requests per client */
    char oidc_provider_list[512];            /* GATEHOUSE_OIDC_PROVIDERS as given */
    int oidc_timeout;                        /* seconds for a call to a provider */
    struct oidc_provider_config providers[CONFIG_MAX_PROVIDERS];
    size_t provider_count;
    enum log_format log_format;
    bool log_requests;
};

/* How a setting is written in the environment and what it fills in struct config. */
enum setting_type {
    SETTING_INT,          /* int: a whole number from min to max */
    SETTING_U32,          /* uint32_t: a whole number from min to max */
    SETTING_BYTES,        /* size_t: a number of bytes from min to max */
    SETTING_MIB,          /* size_t bytes, written as a number of MiB from min to max */
    SETTING_BOOL,         /* bool: true/false, yes/no, on/off, 1/0 */
    SETTING_AUTO_BOOL,    /* int: auto = -1, or a bool as 1/0 */
    SETTING_CHOICE,       /* bool or int-sized enum: one of the words of choices */
    SETTING_TEXT,         /* char[size] */
    SETTING_URL,          /* char[size]; a password in it is masked when printed */
    SETTING_LISTEN,       /* host:port into a char[size] host and the uint16_t at second */
    SETTING_ORIGIN_LIST,  /* http(s) origins, without trailing slash, into char[rows][size] */
    SETTING_ADDRESS_LIST, /* addresses compared as written, into char[rows][size] */
    SETTING_IP_LIST,      /* IPv4 or IPv6 addresses, into char[rows][size] */
};

#define SETTING_SECRET (1u << 0) /* printed as a mask, never as its value */

/* A word of a SETTING_CHOICE and the value it stands for. The first word of each value is the
 * one printed and named in the error message; later words with the same value are aliases. */
struct setting_choice {
    const char *word;
    int value;
};

/* One setting: a row of the table in config.c from which come the defaults, the parsing,
 * `gatehouse config` and the check of the README's table. */
struct config_setting {
    const char *name;       /* the environment variable */
    enum setting_type type; /* how it is written and stored */
    size_t field;           /* offsetof the struct config member it fills */
    size_t size;            /* text, host and list items: capacity in bytes; choice: sizeof */
    size_t second;          /* host:port: offsetof the port; lists: offsetof the size_t count */
    size_t rows;            /* lists: items the member holds */
    long min, max;          /* numbers: bounds; lists: max = most items (0: rows) */
    const struct setting_choice *choices; /* choice: the words, ended by a NULL word */
    const char *def;     /* default, written as in the environment; NULL or "" = none */
    const char *derived; /* when the default follows from other settings: how, for the docs */
    unsigned flags;      /* SETTING_SECRET */
    const char *help;    /* one line */
};

/* Every setting, in the order of the README's table and of `gatehouse config`. */
extern const struct config_setting config_settings[];
extern const size_t config_setting_count;

/* The default as the docs show it: the derivation when there is one, else the literal default
 * ("" when there is none). Borrowed. */
const char *config_setting_default(const struct config_setting *s);

/* The settings of each OpenID Connect provider, GATEHOUSE_OIDC_<NAME>_<suffix>. */
struct provider_setting {
    const char *suffix; /* "ISSUER", "CLIENT_ID", ... */
    size_t field;       /* offsetof the struct oidc_provider_config member */
    size_t size;        /* its capacity */
    bool secret;
    const char *def; /* NULL: none, or derived (then derived says how) */
    const char *derived;
    const char *help;
};
extern const struct provider_setting provider_settings[];
extern const size_t provider_setting_count;
/* The provider called name, NULL when none is configured. */
const struct oidc_provider_config *config_provider(const struct config *cfg, const char *name);

/* Applies value to the member s fills, with s's rules. An empty value keeps the default, except
 * for text and lists, which it empties. On failure returns GH_ERR_CONFIG and writes a sentence
 * naming the setting into err. */
GH_MUST_CHECK gh_status config_setting_parse(struct config *cfg, const struct config_setting *s,
                                             const char *value, char *err, size_t errlen);

struct buf;

/* Appends the value of s in cfg to out, written as it would be set, with secrets masked:
 * SETTING_SECRET values whole, and in URLs the password of the user part and of a password=
 * query parameter. */
GH_MUST_CHECK gh_status config_setting_value(const struct config *cfg,
                                             const struct config_setting *s, struct buf *out);

/* What a masked secret is printed as. */
#define CONFIG_MASK "********"

/* Looks a setting up by name; returns NULL when unset. */
typedef const char *(*config_lookup_fn)(void *ctx, const char *name);

/* Fills cfg from lookup (applied over the defaults), derives dependent defaults and checks the
 * result. On failure returns GH_ERR_CONFIG and writes a sentence naming the setting into err. */
GH_MUST_CHECK gh_status config_load(struct config *cfg, config_lookup_fn lookup, void *ctx,
                                    char *err, size_t errlen);

/* Loads from the process environment, with values from the KEY=VALUE file at path (may be NULL)
 * used where the environment does not set a variable. */
GH_MUST_CHECK gh_status config_load_env(struct config *cfg, const char *path, char *err,
                                        size_t errlen);

/* Records the port actually bound (when 0 was asked for) and re-derives the URLs that follow it. */
GH_MUST_CHECK gh_status config_set_port(struct config *cfg, uint16_t port);

/* True when origin (scheme://host[:port]) is the public URL, the frontend URL or an extra one. */
bool config_origin_allowed(const struct config *cfg, const char *origin);

/* True when origin is one of GATEHOUSE_CORS_ORIGINS (browser clients of the token API). */
bool config_cors_allowed(const struct config *cfg, const char *origin);

/* True when ip is one of GATEHOUSE_TRUSTED_PROXIES. */
bool config_proxy_trusted(const struct config *cfg, const char *ip);

/* True when ip is one of GATEHOUSE_RELAYING_FRONTENDS: a server-side frontend that calls the
 * API for all its users from its own address, so that address says nothing about the client.
 * Such a peer is not limited per IP; a forwarded client address, when the frontend is also a
 * trusted proxy, replaces it before this question is asked. */
bool config_frontend_relaying(const struct config *cfg, const char *ip);

/* True when the session cookie must carry Secure. */
bool config_cookie_secure(const struct config *cfg);

#endif
