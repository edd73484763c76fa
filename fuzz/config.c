/* libFuzzer target for configuration parsing: the input is a settings file (KEY=VALUE lines).
 * It is read twice — split into pairs that config_load looks up, and written to a file that
 * config_load_env parses with its own reader (quotes, comments, blanks) — and every accepted
 * configuration is checked against the promises the rest of gatehouse relies on, and printed as
 * `gatehouse config` prints it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util/buf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern char **environ;

static char dir[4096];
static char path[4096 + 16];

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz/config: %s\n", what);
        abort();
    }
}

static void remove_settings_file(void)
{
    unlink(path);
    rmdir(dir);
}

/* True when a setting of gatehouse's own comes from the environment. */
static bool is_setting(const char *entry)
{
    return !strncmp(entry, "GATEHOUSE_", 10) || !strncmp(entry, "DATABASE_URL=", 13) ||
           !strncmp(entry, "REDIS_URL=", 10);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The environment wins over the file: empty it of settings so the file is what counts. */
    for (size_t i = 0; environ[i];) {
        if (!is_setting(environ[i])) {
            i++;
            continue;
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(environ[i], "="), environ[i]);
        unsetenv(name);
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/gatehouse-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    check(mkdtemp(dir) != NULL, "cannot create a temporary directory");
    snprintf(path, sizeof path, "%s/settings", dir);
    atexit(remove_settings_file);
    return 0;
}

/* The input split into lines and each line at its first '=', for config_load. */
struct pairs {
    char *text;
    char *names[512];
    char *values[512];
    size_t count;
};

static void pairs_split(struct pairs *p, const uint8_t *data, size_t size)
{
    p->text = malloc(size + 1);
    p->count = 0;
    if (!p->text)
        return;
    memcpy(p->text, data, size);
    p->text[size] = '\0';
    for (char *line = p->text; line && p->count < 512;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (eq) {
            *eq = '\0';
            p->names[p->count] = line;
            p->values[p->count++] = eq + 1;
        }
        line = next;
    }
}

static const char *pairs_lookup(void *ctx, const char *name)
{
    const struct pairs *p = ctx;
    for (size_t i = 0; i < p->count; i++)
        if (!strcmp(p->names[i], name))
            return p->values[i];
    return NULL;
}

static bool is_http_url(const char *url)
{
    return !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
}

static bool terminated(const char *field, size_t cap)
{
    return memchr(field, '\0', cap) != NULL;
}

#define TERMINATED(cfg, field) terminated((cfg)->field, sizeof(cfg)->field)

/* What an accepted configuration promises (README "Configuration" and config.c's checks). */
static void check_config(struct config *cfg)
{
    check(TERMINATED(cfg, listen_host) && TERMINATED(cfg, public_url) &&
              TERMINATED(cfg, frontend_url) && TERMINATED(cfg, data_dir) &&
              TERMINATED(cfg, database_url) && TERMINATED(cfg, redis_url) &&
              TERMINATED(cfg, mail_url) && TERMINATED(cfg, mail_from) &&
              TERMINATED(cfg, mail_templates_dir) && TERMINATED(cfg, cookie_name) &&
              TERMINATED(cfg, media_url) && TERMINATED(cfg, s3_endpoint) &&
              TERMINATED(cfg, s3_region) && TERMINATED(cfg, s3_access_key) &&
              TERMINATED(cfg, s3_secret_key) && TERMINATED(cfg, s3_public_url),
          "a string setting without its NUL");
    for (int pass = 0; pass < 2; pass++) {
        size_t n = strlen(cfg->public_url);
        check(is_http_url(cfg->public_url) && cfg->public_url[n - 1] != '/',
              "the public URL is not http(s) without a trailing slash");
        n = strlen(cfg->frontend_url);
        check(is_http_url(cfg->frontend_url) && cfg->frontend_url[n - 1] != '/',
              "the frontend URL is not http(s) without a trailing slash");
        check(cfg->allowed_origin_count <= CONFIG_MAX_ORIGINS &&
                  cfg->extra_origin_count + 2 == cfg->allowed_origin_count,
              "the origin list has the wrong size");
        for (size_t i = 0; i < cfg->allowed_origin_count; i++)
            check(terminated(cfg->allowed_origins[i], CONFIG_URL_MAX) &&
                      is_http_url(cfg->allowed_origins[i]) &&
                      config_origin_allowed(cfg, cfg->allowed_origins[i]),
                  "an allowed origin that is not an http(s) origin");
        /* the port actually bound re-derives the URLs that follow it */
        if (pass == 0 && config_set_port(cfg, 54321) != GH_OK)
            break;
    }
    check(cfg->trusted_proxy_count <= CONFIG_MAX_ORIGINS, "too many trusted proxies");
    for (size_t i = 0; i < cfg->trusted_proxy_count; i++)
        check(terminated(cfg->trusted_proxies[i], IP_TEXT_MAX) &&
                  config_proxy_trusted(cfg, cfg->trusted_proxies[i]),
              "a trusted proxy that is not found");
    check(!strncmp(cfg->database_url, "sqlite:", 7) ||
              !strncmp(cfg->database_url, "postgres://", 11) ||
              !strncmp(cfg->database_url, "postgresql://", 13),
          "an unknown database scheme");
    check(!strncmp(cfg->mail_url, "file:", 5) || !strncmp(cfg->mail_url, "smtp://", 7) ||
              !strncmp(cfg->mail_url, "smtps://", 8),
          "an unknown mail scheme");
    check(!strncmp(cfg->media_url, "file:", 5) ||
              (!strncmp(cfg->media_url, "s3://", 5) && cfg->media_url[5] &&
               !strchr(cfg->media_url + 5, '/') && is_http_url(cfg->s3_endpoint) &&
               cfg->s3_access_key[0] && cfg->s3_secret_key[0] && cfg->s3_public_url[0]),
          "an unusable media store");
    check(!cfg->redis_url[0] || !strncmp(cfg->redis_url, "redis://", 8), "a wrong Redis URL");
    /* these end up in headers: Set-Cookie and the From of every mail */
    check(cfg->cookie_name[0] && !strpbrk(cfg->cookie_name, "=;, \t\""),
          "a cookie name that breaks Set-Cookie");
    check(!strpbrk(cfg->mail_from, "\r\n"), "a From header on several lines");
    check(cfg->password_min_length >= 8 && cfg->password_min_length <= 128,
          "a password minimum outside 8..128");
    check(cfg->argon2_memory_kib >= 8192 && cfg->argon2_iterations >= 1, "a too weak Argon2 cost");
    check(cfg->session_ttl >= 60 && cfg->confirm_token_ttl >= 1 && cfg->reset_token_ttl >= 1 &&
              cfg->password_change_token_ttl >= 1 && cfg->session_idle_timeout >= 0,
          "a lifetime out of range");
    check(cfg->hash_queue >= 1 && cfg->max_connections >= 1 && cfg->connection_timeout >= 1 &&
              cfg->hash_threads >= 0 && cfg->http_threads >= 0,
          "a server limit out of range");
    check(cfg->max_json_body >= 1024 && cfg->max_multipart_body >= 1024 &&
              cfg->avatar_max_bytes >= 1024,
          "a body limit out of range");
    check(cfg->rate_ip_max >= 1 && cfg->rate_ip_window >= 1 && cfg->rate_account_max >= 1 &&
              cfg->rate_account_window >= 1 && cfg->rate_email_max >= 1 &&
              cfg->rate_email_window >= 1 && cfg->mail_retry_seconds >= 1 &&
              cfg->mail_retry_max_seconds >= 1,
          "a rate limit or retry delay out of range");
    if (cfg->production)
        check(!strncmp(cfg->public_url, "https://", 8) && strncmp(cfg->mail_url, "file:", 5) &&
                  cfg->cookie_secure != 0,
              "an unsafe production configuration");
    (void)config_cookie_secure(cfg);
    /* `gatehouse config` prints every setting, and a secret only as the mask */
    for (size_t i = 0; i < config_setting_count; i++) {
        struct buf value = {0};
        check(config_setting_value(cfg, &config_settings[i], &value) == GH_OK && value.data,
              "a setting that cannot be printed");
        if (config_settings[i].flags & SETTING_SECRET)
            check(!value.data[0] || !strcmp(value.data, CONFIG_MASK), "a secret printed");
        buf_free(&value);
    }
}

static void check_outcome(gh_status st, struct config *cfg, const char *err, size_t errlen)
{
    check(terminated(err, errlen), "an error message without its NUL");
    if (st == GH_OK)
        check_config(cfg);
    else
        check(st == GH_ERR_CONFIG && err[0], "a refusal without GH_ERR_CONFIG and a message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg; /* 20 KiB: not on the stack */
    char err[512];
    struct pairs p;
    pairs_split(&p, data, size);
    if (p.text) {
        memset(err, 'x', sizeof err);
        err[0] = '\0';
        gh_status st = config_load(&cfg, pairs_lookup, &p, err, sizeof err);
        check_outcome(st, &cfg, err, sizeof err);
        free(p.text);
    }
    FILE *f = fopen(path, "wb");
    check(f && fwrite(data, 1, size, f) == size && fclose(f) == 0,
          "cannot write the settings file");
    memset(err, 'x', sizeof err);
    gh_status st = config_load_env(&cfg, path, err, sizeof err);
    check_outcome(st, &cfg, err, sizeof err);
    return 0;
}
