/* libFuzzer target for the whole request path: a real gatehouse server runs in this process
 * (SQLite, file mail, file media, the hash pool, the outbox), and each input is the raw bytes a
 * client sends on one TCP connection — request line, headers, cookies, query, body. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "config.h"
#include "core/account.h"
#include "core/password.h"
#include "http/server.h"
#include "kv/kv.h"
#include "mail/mail.h"
#include "media/media.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/timeutil.h"

/* The account and the session that the seeds' Cookie headers name, so that inputs get past
 * the session check into the handlers. The token has the shape of a real one (43 characters
 * of base64url); the session is put back before each input if an input logged it out. */
#define FUZZ_EMAIL      "fuzz@example.com"
#define FUZZ_PASSWORD   "correct horse battery staple"
#define FUZZ_TOKEN      "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz"
#define FUZZ_SESSION_ID "6f7a7a00-0000-4000-8000-00000000f022"

/* The public URL the seeds' Origin headers name; the listening port itself is random. */
#define FUZZ_PUBLIC_URL "http://gatehouse.fuzz"

/* How long one input may take on the wire before the harness gives up on the reply. */
#define EXCHANGE_TIMEOUT_S 5
/* How long the harness waits for the server to read the input before ending it anyway. */
#define SEND_FIN_DELAY_MS 2
/* A reply that pauses this long with no request in flight is not coming. */
#define RECV_IDLE_MS 100

struct setting {
    const char *name;
    const char *value;
};

static char data_dir[PATH_MAX];

/* Fast hashing, limits no input reaches, quiet logs: the server a fuzzer wants. */
static const struct setting settings[] = {
    {"GATEHOUSE_DATA_DIR", data_dir},
    {"GATEHOUSE_LISTEN", "127.0.0.1:0"},
    {"GATEHOUSE_PUBLIC_URL", FUZZ_PUBLIC_URL},
    {"GATEHOUSE_ARGON2_MEMORY_KIB", "8192"},
    {"GATEHOUSE_ARGON2_ITERATIONS", "1"},
    {"GATEHOUSE_HASH_THREADS", "1"},
    {"GATEHOUSE_THREADS", "2"},
    {"GATEHOUSE_CONNECTION_TIMEOUT", "2"},
    {"GATEHOUSE_RATE_IP_MAX", "100000000"},
    {"GATEHOUSE_RATE_ACCOUNT_MAX", "100000000"},
    {"GATEHOUSE_RATE_EMAIL_MAX", "100000000"},
    {"GATEHOUSE_LOG_REQUESTS", "false"},
    {"GATEHOUSE_LOG_FORMAT", "text"},
    {NULL, NULL},
};

static struct config cfg;
static struct app app = {.cfg = &cfg};
static struct http_server *srv;
static uint16_t port;
static struct session fuzz_session;
static bool show_replies; /* FUZZ_HTTP_SHOW=1: replies are copied to stderr, to check seeds */

static const char *setting_lookup(void *ctx, const char *name)
{
    (void)ctx;
    for (const struct setting *s = settings; s->name; s++)
        if (!strcmp(s->name, name))
            return s->value;
    return NULL;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Stops the server and everything behind it, then deletes the data directory: at exit, so
 * that the leak check at exit sees only what a request really lost. */
static void stop_app(void)
{
    http_server_stop(&srv);
    app_close(&app);
    log_shutdown();
    password_list_free();
    curl_global_cleanup();
    if (data_dir[0])
        nftw(data_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz/http: %s\n", what);
    exit(1);
}

/* The fuzz account (active, as `gatehouse user create` makes it) and its session. */
static void create_fuzz_account(void)
{
    struct registration r = {.email = FUZZ_EMAIL,
                             .password = FUZZ_PASSWORD,
                             .first_name = "Fuzz",
                             .last_name = "Tester"};
    struct account_roles roles = {0};
    char user_id[UUID_LEN + 1];
    if (account_create(&app, &r, &roles, user_id) != GH_OK)
        die("cannot create the fuzz account");
    int64_t now = time_now();
    secret_token_hash(FUZZ_TOKEN, fuzz_session.token_hash);
    strcpy(fuzz_session.id, FUZZ_SESSION_ID);
    strcpy(fuzz_session.user_id, user_id);
    fuzz_session.created_at = now;
    fuzz_session.last_seen_at = now;
    fuzz_session.expires_at = now + cfg.session_ttl;
    strcpy(fuzz_session.ip, "127.0.0.1");
    strcpy(fuzz_session.user_agent, "fuzz");
}

/* Puts the fuzz session back when an earlier input logged it out or revoked it. */
static void ensure_fuzz_session(void)
{
    struct session s;
    struct user u;
    if (app.kv->session_lookup(app.kv, fuzz_session.token_hash, time_now(), &s, &u) ==
            GH_NOT_FOUND &&
        app.kv->session_insert(app.kv, &fuzz_session) != GH_OK)
        die("cannot restore the fuzz session");
}

/* Assembles the app as serve() in src/main.c does (app_open), on a fresh data directory. */
static void start_app(void)
{
    char err[512] = "";
    const char *tmp = getenv("TMPDIR");
    snprintf(data_dir, sizeof data_dir, "%s/gatehouse-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(data_dir)) {
        data_dir[0] = '\0';
        die("cannot create a temporary data directory");
    }
    atexit(stop_app);
    if (config_load(&cfg, setting_lookup, NULL, err, sizeof err) != GH_OK)
        die(err);
    log_init(false);
    if (password_list_init() != GH_OK)
        die("cannot load the common-password list");
    app.cfg = &cfg;
    if (app_open(&cfg, &app) != GH_OK)
        die("cannot open the app (database, pools, backends)");
    int fd = -1;
    struct http_setup setup;
    api_http_setup(&app, &setup);
    if (http_listen(cfg.listen_host, cfg.listen_port, &fd, &port) != GH_OK ||
        config_set_port(&cfg, port) != GH_OK || http_server_start(&setup, fd, &srv) != GH_OK)
        die("cannot start the HTTP server");
    create_fuzz_account();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN); /* the server may close while the input is still being sent */
    show_replies = getenv("FUZZ_HTTP_SHOW") && !strcmp(getenv("FUZZ_HTTP_SHOW"), "1");
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("cannot initialise libsodium or libcurl");
    start_app();
    return 0;
}

/* Sleeps a tenth of a millisecond. */
static void pause_briefly(void)
{
    struct timespec pause = {0, 100 * 1000};
    nanosleep(&pause, NULL);
}

/* Waits until the server has completed every request it started (bounded), so that a crash
 * or leak in request completion is blamed on the input that caused it. */
static void wait_for_server(void)
{
    int64_t deadline = time_mono_ms() + 1000 * EXCHANGE_TIMEOUT_S;
    while (http_server_in_flight(srv) > 0 && time_mono_ms() < deadline)
        pause_briefly();
}

/* Waits (at most SEND_FIN_DELAY_MS) until the server shows it has read what was sent: a
 * request has started, or a reply is arriving. */
static void wait_for_read(int fd)
{
    int64_t deadline = time_mono_ms() + SEND_FIN_DELAY_MS;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (http_server_in_flight(srv) == 0 && poll(&pfd, 1, 0) == 0 && time_mono_ms() < deadline)
        pause_briefly();
}

/* Reads the reply until the server closes the connection. A wait with no request in flight
 * means libmicrohttpd missed the end of the input: the connection is then reset, which it
 * does notice. */
static void read_reply(int fd)
{
    char reply[16384];
    int64_t deadline = time_mono_ms() + 1000 * EXCHANGE_TIMEOUT_S;
    for (;;) {
        ssize_t n = recv(fd, reply, sizeof reply, 0);
        if (n > 0) {
            if (show_replies)
                fwrite(reply, 1, (size_t)n, stderr);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            break;
        if (http_server_in_flight(srv) == 0 || time_mono_ms() >= deadline) {
            struct linger reset = {.l_onoff = 1, .l_linger = 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
            break;
        }
    }
    if (show_replies)
        fputs("\n----\n", stderr);
}

/* Sends the input on a fresh connection, closes the sending side and reads the reply. */
static void exchange(const uint8_t *data, size_t size)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval send_timeout = {.tv_sec = EXCHANGE_TIMEOUT_S};
    struct timeval recv_timeout = {.tv_usec = 1000 * RECV_IDLE_MS};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("cannot create a socket");
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &recv_timeout, sizeof recv_timeout) ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout))
        die("cannot set socket timeouts");
    /* Out of local ports (closed connections linger in TIME_WAIT where the kernel does not
     * reuse them): wait for some to expire. A refused connection is a finding. */
    int tries = 0;
    while (connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
        if (errno == EISCONN) /* an interrupted connect went through meanwhile */
            break;
        if ((errno != EADDRNOTAVAIL && errno != EAGAIN && errno != EINTR && errno != EALREADY) ||
            ++tries > 1000) {
            fprintf(stderr, "fuzz/http: connect: %s\n", strerror(errno));
            abort();
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server answered and closed early */
        sent += (size_t)n;
    }
    /* libmicrohttpd's epoll loop can miss an end of stream that arrives together with the
     * request (a short read counts as "nothing more to read") and would then hold the
     * connection until its inactivity timeout: the end is sent once the request was read. */
    wait_for_read(fd);
    shutdown(fd, SHUT_WR);
    read_reply(fd);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ensure_fuzz_session();
    exchange(data, size);
    wait_for_server();
    return 0;
}
