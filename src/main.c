/* gatehouse: the command line (serve, migrate, healthcheck, ...) and the start-up and shutdown
 * of the server. */
#include <ctype.h>
#include <curl/curl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "config.h"
#include "core/account.h"
#include "core/clients.h"
#include "core/keys.h"
#include "core/device.h"
#include "core/import.h"
#include "core/mailer.h"
#include "core/password.h"
#include "http/router.h"
#include "http/server.h"
#include "kv/kv.h"
#include "media/media.h"
#include "mail/mail.h"
#include "store/import_source.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/timeutil.h"
#include "util/workpool.h"

#ifndef GATEHOUSE_VERSION
#define GATEHOUSE_VERSION "0.0.0-dev"
#endif

/* How long shutdown waits for in-flight requests before closing them. */
#define SHUTDOWN_GRACE_MS 10000

static void print_help(void)
{
    printf(
        "gatehouse %s: a self-hosted authentication server\n\n"
        "Usage: gatehouse [--config FILE] [COMMAND]\n\n"
        "Commands:\n"
        "  serve      start the HTTP server (default)\n"
        "  migrate    apply database migrations and exit\n"
        "  routes     print the route table (METHOD PATH per line) and exit\n"
        "  config     print the effective settings (NAME=value per line, secrets masked)\n"
        "             and exit; a setting that is refused is named on standard error\n"
        "  user create --email EMAIL [--first-name F] [--last-name L] [--staff] "
        "[--superuser]\n"
        "             create an active account; the password is read from standard input\n"
        "  client create --name NAME [--confidential] [--grant refresh_token|client_credentials]\n"
        "             register an OAuth client; prints its id and, once, its secret\n"
        "  keys rotate  add a signing key for access tokens (the old one retires)\n"
        "  import --source rust-auth|django --from URL [--dry-run] [--keep-staff]\n"
        "             import the accounts of another system's database (postgres:// URL;\n"
        "             for django also sqlite:///path or a file path); prints a JSON report\n"
        "  healthcheck  GET /health-check/ of the server GATEHOUSE_LISTEN names (on loopback\n"
        "             when it listens on every address); exit 0 when it answers 200, else 1\n\n"
        "Options:\n"
        "  --config FILE  read settings (KEY=VALUE lines) from FILE; the environment wins\n"
        "  --help         show this help\n"
        "  --version      show the version\n\n"
        "Settings are environment variables such as GATEHOUSE_LISTEN, GATEHOUSE_PUBLIC_URL,\n"
        "GATEHOUSE_DATA_DIR, DATABASE_URL and GATEHOUSE_MAIL_URL; `gatehouse config` lists\n"
        "them all with their values, and the README says what each means.\n",
        GATEHOUSE_VERSION);
}

/* Blocks the signals the main thread waits for, before any other thread exists, so every
 * thread inherits the mask and only sigwait sees them. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Waits (bounded) for the pools' jobs and in-flight requests to finish. */
static void drain(struct app *app, struct http_server *srv)
{
    int64_t deadline = time_mono_ms() + SHUTDOWN_GRACE_MS;
    while (time_mono_ms() < deadline &&
           (workpool_depth(app->cpu_pool) > 0 || workpool_depth(app->io_pool) > 0 ||
            http_server_in_flight(srv) > 0)) {
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
}

/* Raises the open-file limit to its hard maximum: every connection, lingering socket and
 * database connection is a descriptor, and the usual soft limit of 1024 is below the default
 * connection limit plus what the server opens itself. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_msg(LOG_WARN, "cannot raise the open-file limit");
    }
}

static int serve(struct config *cfg)
{
    struct app app = {.cfg = cfg};
    struct http_server *srv = NULL;
    sigset_t signals;
    int fd = -1, exit_code = 1;
    uint16_t port = 0;
    block_signals(&signals);
    raise_fd_limit();
    if (app_open(cfg, &app) != GH_OK)
        goto out;
    if (http_listen(cfg->listen_host, cfg->listen_port, &fd, &port) != GH_OK ||
        config_set_port(cfg, port) != GH_OK)
        goto out;
    struct http_setup setup;
    api_http_setup(&app, &setup);
    if (http_server_start(&setup, fd, &srv) != GH_OK)
        goto out;
    fd = -1;
    log_msg(LOG_INFO, "gatehouse %s listening on %s:%u (public URL %s)", GATEHOUSE_VERSION,
            cfg->listen_host, (unsigned)port, cfg->public_url);
    int sig = 0;
    sigwait(&signals, &sig);
    log_msg(LOG_INFO, "signal %d: finishing in-flight requests", sig);
    http_server_stop_accepting(srv);
    drain(&app, srv);
    exit_code = 0;
out:
    http_server_stop(&srv);
    if (fd >= 0)
        close(fd);
    app_close(&app);
    if (exit_code == 0)
        log_msg(LOG_INFO, "stopped");
    return exit_code;
}

/* Prints the route table as the HTTP layer serves it, one "METHOD /path/" per line, with the
 * wildcards written as in the docs ("*" as {id}, a final "**" as {path}). The API
 * documentation (docs/api.md, docs/openapi.yaml) is checked against this list by the test
 * suite. */
static int print_routes(void)
{
    for (size_t i = 0; i < api_route_count; i++) {
        const char *path = api_routes[i].path;
        size_t n = strlen(path);
        bool rest = n >= 2 && !strcmp(path + n - 2, "**");
        /* OAuth endpoints, well-known documents and files (a last segment with a dot, such as
         * /openapi.yaml) are written without the slash (RFC style) */
        bool bare = !strncmp(path, "/oauth/", 7) || !strncmp(path, "/.well-known/", 13) ||
                    strchr(strrchr(path, '/'), '.');
        printf("%s ", api_routes[i].method);
        for (const char *p = path; *p; p++) {
            if (p[0] == '*' && p[1] == '*') {
                fputs("{path}", stdout);
                p++;
            } else if (*p == '*') {
                /* a provider's name under /oauth/ and /users/providers/, an id elsewhere */
                bool provider = (p - path >= 7 && !strncmp(p - 7, "/oauth/", 7)) ||
                                (p - path >= 11 && !strncmp(p - 11, "/providers/", 11));
                fputs(provider ? "{provider}" : "{id}", stdout);
            } else {
                putchar(*p);
            }
        }
        puts(rest || bare || !strcmp(path, "/") ? "" : "/");
    }
    return 0;
}

/* gatehouse config: every setting as NAME=value, in the order of the settings table, with the
 * values the server would use (derived ones filled in) and secrets masked. */
static int print_settings(const struct config *cfg)
{
    for (size_t i = 0; i < config_setting_count; i++) {
        struct buf value = {0};
        gh_status st = config_setting_value(cfg, &config_settings[i], &value);
        if (st == GH_OK)
            printf("%s=%s\n", config_settings[i].name, value.data);
        buf_free(&value);
        if (st != GH_OK) {
            fprintf(stderr, "gatehouse: out of memory\n");
            return 1;
        }
    }
    for (size_t i = 0; i < cfg->provider_count; i++) {
        const struct oidc_provider_config *p = &cfg->providers[i];
        char upper[sizeof p->name];
        for (size_t k = 0; k < sizeof upper; k++)
            upper[k] = (char)toupper((unsigned char)p->name[k]);
        for (size_t k = 0; k < provider_setting_count; k++) {
            const struct provider_setting *ps = &provider_settings[k];
            const char *value = (const char *)p + ps->field;
            printf("GATEHOUSE_OIDC_%s_%s=%s\n", upper, ps->suffix,
                   ps->secret && value[0] ? "********" : value);
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

/* gatehouse config --list: NAME, default and help of every setting, tab-separated, one per
 * line. The test suite checks the README's settings table against it. */
static int print_settings_table(void)
{
    for (size_t i = 0; i < config_setting_count; i++)
        printf("%s\t%s\t%s\n", config_settings[i].name, config_setting_default(&config_settings[i]),
               config_settings[i].help);
    for (size_t k = 0; k < provider_setting_count; k++)
        printf("GATEHOUSE_OIDC_<NAME>_%s\t%s\t%s\n", provider_settings[k].suffix,
               provider_settings[k].def       ? provider_settings[k].def
               : provider_settings[k].derived ? provider_settings[k].derived
                                              : "",
               provider_settings[k].help);
    return 0;
}

/* Options of `gatehouse user create`. */
struct user_create_args {
    const char *email;
    const char *first_name;
    const char *last_name;
    struct account_roles roles;
};

/* Parses the words after "user create"; false (after a message) when they are wrong. */
static bool parse_user_create(int argc, char **argv, struct user_create_args *a)
{
    for (int i = 0; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (!strcmp(argv[i], "--email") && has_value)
            a->email = argv[++i];
        else if (!strcmp(argv[i], "--first-name") && has_value)
            a->first_name = argv[++i];
        else if (!strcmp(argv[i], "--last-name") && has_value)
            a->last_name = argv[++i];
        else if (!strcmp(argv[i], "--staff"))
            a->roles.staff = true;
        else if (!strcmp(argv[i], "--superuser"))
            a->roles.superuser = true;
        else {
            fprintf(stderr, "gatehouse: user create: unknown or incomplete option '%s'\n", argv[i]);
            return false;
        }
    }
    if (!a->email) {
        fprintf(stderr, "gatehouse: user create needs --email\n");
        return false;
    }
    return true;
}

/* Reads one line (the password) from standard input, without its line end. */
static bool read_password(char *out, size_t cap)
{
    if (!fgets(out, (int)cap, stdin))
        return false;
    out[strcspn(out, "\r\n")] = '\0';
    return true;
}

/* gatehouse user create: an active account made by an operator, no confirmation mail. */
static int user_create(const struct config *cfg, const struct user_create_args *a)
{
    static const char *const reasons[GH_STATUS_COUNT] = {
        [GH_ERR_INVALID_EMAIL] = "the email address is not valid",
        [GH_ERR_EMAIL_TAKEN] = "an account with this email already exists",
        [GH_ERR_INVALID_FIRST_NAME] = "the first name must have 1 to 150 characters",
        [GH_ERR_INVALID_LAST_NAME] = "the last name must have 1 to 150 characters",
        [GH_ERR_PASSWORD_TOO_SHORT] = "the password is too short",
        [GH_ERR_PASSWORD_TOO_LONG] = "the password is longer than 128 characters",
        [GH_ERR_PASSWORD_COMMON] = "the password is too common",
        [GH_ERR_PASSWORD_CONTAINS_EMAIL] = "the password contains the email address",
    };
    char password[PASSWORD_MAX_CHARS * 4 + 2], id[UUID_LEN + 1];
    struct app app = {.cfg = cfg};
    int rc = 1;
    if (!read_password(password, sizeof password)) {
        fprintf(stderr, "gatehouse: user create reads the password from standard input\n");
        return 1;
    }
    if (app_open_store(cfg, &app.store) != GH_OK)
        goto out;
    if (device_key_load(&app) != GH_OK) {
        log_msg(LOG_ERROR, "the device cookie key could not be read or created");
        goto out;
    }
    struct registration r = {.email = a->email,
                             .password = password,
                             .first_name = a->first_name ? a->first_name : "Admin",
                             .last_name = a->last_name ? a->last_name : "User"};
    gh_status st = account_create(&app, &r, &a->roles, id);
    if (st == GH_OK) {
        printf("%s\n", id);
        rc = 0;
    } else {
        fprintf(stderr, "gatehouse: user create: %s\n",
                st < GH_STATUS_COUNT && reasons[st] ? reasons[st]
                                                    : "the account could not be stored");
    }
out:
    sodium_memzero(password, sizeof password);
    if (app.store)
        app.store->close(app.store);
    return rc;
}

/* Options of `gatehouse client create`. */
struct client_create_args {
    const char *name;
    bool confidential;
    unsigned grants;
};

/* Parses the words after "client create"; false (after a message) when they are wrong. */
static bool parse_client_create(int argc, char **argv, struct client_create_args *a)
{
    for (int i = 0; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (!strcmp(argv[i], "--name") && has_value) {
            a->name = argv[++i];
        } else if (!strcmp(argv[i], "--confidential")) {
            a->confidential = true;
        } else if (!strcmp(argv[i], "--grant") && has_value) {
            const char *g = argv[++i];
            if (!strcmp(g, "refresh_token"))
                a->grants |= CLIENT_GRANT_REFRESH_TOKEN;
            else if (!strcmp(g, "client_credentials"))
                a->grants |= CLIENT_GRANT_CLIENT_CREDENTIALS;
            else {
                fprintf(stderr,
                        "gatehouse: client create: unknown grant '%s' (refresh_token, "
                        "client_credentials)\n",
                        g);
                return false;
            }
        } else {
            fprintf(stderr, "gatehouse: client create: unknown or incomplete option '%s'\n",
                    argv[i]);
            return false;
        }
    }
    if (!a->name || !a->name[0]) {
        fprintf(stderr, "gatehouse: client create needs --name\n");
        return false;
    }
    if (!a->grants)
        a->grants = a->confidential ? CLIENT_GRANT_CLIENT_CREDENTIALS : CLIENT_GRANT_REFRESH_TOKEN;
    if ((a->grants & CLIENT_GRANT_CLIENT_CREDENTIALS) && !a->confidential) {
        fprintf(stderr, "gatehouse: client create: client_credentials needs --confidential\n");
        return false;
    }
    return true;
}

/* gatehouse client create: registers an OAuth client and prints its id and, once, its secret. */
static int client_create_command(const struct config *cfg, const struct client_create_args *a)
{
    struct app app = {.cfg = cfg};
    char id[UUID_LEN + 1], secret[TOKEN_LEN + 1];
    int rc = 1;
    if (app_open_store(cfg, &app.store) != GH_OK)
        goto out;
    if (client_create(&app, a->name, a->confidential, a->grants, id, secret) != GH_OK) {
        fprintf(stderr, "gatehouse: client create: the client could not be stored\n");
        goto out;
    }
    printf("client_id=%s\n", id);
    if (a->confidential)
        printf("client_secret=%s\n", secret);
    rc = 0;
out:
    sodium_memzero(secret, sizeof secret);
    if (app.store)
        app.store->close(app.store);
    return rc;
}

/* gatehouse keys rotate: a new signing key, published now and signing once every instance has
 * reread the keys; the old ones retire then. */
static int keys_rotate_command(const struct config *cfg)
{
    struct app app = {.cfg = cfg};
    char kid[JWT_KID_MAX], when[RFC3339_LEN + 1];
    int64_t activates_at = 0;
    int rc = 1;
    if (app_open_store(cfg, &app.store) != GH_OK || keys_open(&app) != GH_OK)
        goto out;
    if (keys_rotate(&app, kid, &activates_at) != GH_OK) {
        fprintf(stderr, "gatehouse: keys rotate: the new key could not be stored\n");
        goto out;
    }
    time_format_rfc3339(activates_at, when);
    printf("kid=%s\nsigns_from=%s\n", kid, when);
    rc = 0;
out:
    keys_close(&app.keys);
    if (app.store)
        app.store->close(app.store);
    return rc;
}

/* Options of `gatehouse import`. */
struct import_args {
    const char *source;
    const char *from;
    struct import_options opt;
};

/* Parses the words after "import"; false (after a message) when they are wrong. */
static bool parse_import(int argc, char **argv, struct import_args *a)
{
    for (int i = 0; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (!strcmp(argv[i], "--source") && has_value)
            a->source = argv[++i];
        else if (!strcmp(argv[i], "--from") && has_value)
            a->from = argv[++i];
        else if (!strcmp(argv[i], "--dry-run"))
            a->opt.dry_run = true;
        else if (!strcmp(argv[i], "--keep-staff"))
            a->opt.keep_staff = true;
        else {
            fprintf(stderr, "gatehouse: import: unknown or incomplete option '%s'\n", argv[i]);
            return false;
        }
    }
    if (!a->source || !a->from) {
        fprintf(stderr, "gatehouse: import needs --source rust-auth|django and --from URL\n");
        return false;
    }
    if (!strcmp(a->source, "rust-auth"))
        a->opt.kind = IMPORT_RUST_AUTH;
    else if (!strcmp(a->source, "django"))
        a->opt.kind = IMPORT_DJANGO;
    else {
        fprintf(stderr, "gatehouse: import: unknown source '%s' (rust-auth, django)\n", a->source);
        return false;
    }
    return true;
}

/* The progress line on a terminal: rewritten in place after each batch. */
static void import_progress(void *ctx, int64_t done, int64_t total, int64_t imported)
{
    (void)ctx;
    fprintf(stderr, "\rgatehouse import: %lld of %lld rows read, %lld imported", (long long)done,
            (long long)total, (long long)imported);
    fflush(stderr);
}

/* gatehouse import: reads the source, imports into the configured database, prints the JSON
 * report on standard output. Exit 0 when every row was judged, 1 when the import failed, 2 when
 * the source cannot be used as given. */
static int import_command(const struct config *cfg, struct import_args *a)
{
    struct app app = {.cfg = cfg};
    struct import_source *src = NULL;
    struct import_report rep = {0};
    char err[512];
    int rc = 1;
    gh_status st = import_source_open(a->opt.kind, a->from, &src, err, sizeof err);
    if (st != GH_OK) {
        fprintf(stderr, "gatehouse: import: %s\n", err);
        return st == GH_ERR_CONFIG ? 2 : 1;
    }
    if (app_open_store(cfg, &app.store) != GH_OK)
        goto out;
    bool terminal = isatty(STDERR_FILENO);
    if (terminal)
        a->opt.progress = import_progress;
    int64_t t0 = time_mono_us();
    st = import_run(&app, src, &a->opt, &rep);
    double seconds = (double)(time_mono_us() - t0) / 1e6;
    if (terminal)
        fputc('\n', stderr);
    json_t *report = import_report_json(&rep, &a->opt, src->name, seconds);
    char *text = report ? json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(report);
    if (st != GH_OK)
        fprintf(stderr, "gatehouse: import: stopped after %lld rows: the database failed\n",
                (long long)rep.read);
    else if (!text)
        fprintf(stderr, "gatehouse: import: the report could not be written\n");
    else
        rc = 0;
out:
    import_report_free(&rep);
    if (src)
        src->close(src);
    if (app.store)
        app.store->close(app.store);
    return rc;
}

/* Discards a response body. */
static size_t discard_body(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

/* gatehouse healthcheck: the container image's HEALTHCHECK, which has no HTTP client of its
 * own. Asks the server these settings describe for /health-check/, on loopback when it listens
 * on every address, without any proxy of the environment; 0 when it answers 200 in time. */
static int healthcheck(const struct config *cfg)
{
    const char *host = cfg->listen_host;
    bool v6 = strchr(host, ':') && host[0] != '[';
    if (!strcmp(host, "0.0.0.0") || !host[0])
        host = "127.0.0.1";
    else if (!strcmp(host, "::"))
        host = "::1";
    if (cfg->listen_port == 0) {
        fprintf(stderr, "gatehouse: healthcheck: GATEHOUSE_LISTEN names no port\n");
        return 1;
    }
    char url[CONFIG_URL_MAX];
    snprintf(url, sizeof url, v6 ? "http://[%s]:%u/health-check/" : "http://%s:%u/health-check/",
             host, (unsigned)cfg->listen_port);
    CURL *curl = curl_easy_init();
    if (!curl) {
        fprintf(stderr, "gatehouse: healthcheck: out of memory\n");
        return 1;
    }
    long status = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "gatehouse: healthcheck: %s: %s\n", url, curl_easy_strerror(rc));
        return 1;
    }
    if (status != 200) {
        fprintf(stderr, "gatehouse: healthcheck: %s answered %ld\n", url, status);
        return 1;
    }
    printf("%s answered 200\n", url);
    return 0;
}

static int migrate(const struct config *cfg)
{
    struct store *st = NULL;
    if (app_open_store(cfg, &st) != GH_OK)
        return 1;
    st->close(st);
    log_msg(LOG_INFO, "database is up to date");
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *command = "serve";
    struct user_create_args create = {0};
    struct client_create_args client = {0};
    struct import_args import = {0};
    static struct config cfg;
    char err[512];
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_help();
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("gatehouse %s\n", GATEHOUSE_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!strcmp(argv[i], "routes")) {
            return print_routes();
        } else if (!strcmp(argv[i], "config") && i + 1 < argc && !strcmp(argv[i + 1], "--list")) {
            return print_settings_table();
        } else if (!strcmp(argv[i], "serve") || !strcmp(argv[i], "migrate") ||
                   !strcmp(argv[i], "config") || !strcmp(argv[i], "healthcheck")) {
            command = argv[i];
        } else if (!strcmp(argv[i], "user") && i + 1 < argc && !strcmp(argv[i + 1], "create")) {
            if (!parse_user_create(argc - i - 2, argv + i + 2, &create))
                return 2;
            command = "user create";
            break;
        } else if (!strcmp(argv[i], "client") && i + 1 < argc && !strcmp(argv[i + 1], "create")) {
            if (!parse_client_create(argc - i - 2, argv + i + 2, &client))
                return 2;
            command = "client create";
            break;
        } else if (!strcmp(argv[i], "import")) {
            if (!parse_import(argc - i - 1, argv + i + 1, &import))
                return 2;
            command = "import";
            break;
        } else if (!strcmp(argv[i], "keys") && i + 1 < argc && !strcmp(argv[i + 1], "rotate")) {
            command = "keys rotate";
            i++;
        } else {
            fprintf(stderr, "gatehouse: unknown argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "gatehouse: cannot initialise the crypto or HTTP client library\n");
        return 1;
    }
    secret_wipe_json_memory();
    if (config_load_env(&cfg, config_path, err, sizeof err) != GH_OK) {
        fprintf(stderr, "gatehouse: %s\n", err);
        goto out;
    }
    if (!strcmp(command, "config")) {
        rc = print_settings(&cfg);
        goto out;
    }
    if (!strcmp(command, "healthcheck")) {
        rc = healthcheck(&cfg);
        goto out;
    }
    log_init(cfg.log_format == LOG_FORMAT_JSON ||
             (cfg.log_format == LOG_FORMAT_AUTO && !isatty(STDERR_FILENO)));
    if (password_list_init() != GH_OK)
        goto out;
    if (!strcmp(command, "migrate"))
        rc = migrate(&cfg);
    else if (!strcmp(command, "user create"))
        rc = user_create(&cfg, &create);
    else if (!strcmp(command, "client create"))
        rc = client_create_command(&cfg, &client);
    else if (!strcmp(command, "keys rotate"))
        rc = keys_rotate_command(&cfg);
    else if (!strcmp(command, "import"))
        rc = import_command(&cfg, &import);
    else
        rc = serve(&cfg);
out:
    log_shutdown();
    password_list_free();
    curl_global_cleanup();
    return rc;
}
