/* A throwaway redis-server for the unit tests that need one: on a free loopback port, with no
 * persistence (--save '' --appendonly no), run from its own temp directory and stopped at exit.
 * Include it once, in the test file (the functions are static). */
#ifndef GH_TEST_REDIS_SERVER_H
#define GH_TEST_REDIS_SERVER_H

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "free_port.h"

static pid_t redis_server_pid;
static int redis_server_port;
static char redis_server_dir[64];

/* Runs one command on a connection of its own; true when it answered without an error. */
static inline bool redis_server_command(const char *command)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_server_port, tv);
    bool ok = false;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, command);
        ok = r && r->type != REDIS_REPLY_ERROR;
        freeReplyObject(r);
    }
    redisFree(c);
    return ok;
}

/* Stops the server (SIGTERM, then waits for it). */
static inline void redis_server_stop(void)
{
    if (redis_server_pid > 0) {
        kill(redis_server_pid, SIGTERM);
        waitpid(redis_server_pid, NULL, 0);
    }
    redis_server_pid = 0;
}

/* Starts redis-server on redis_server_port and waits until it answers PING; 0 on success. */
static inline int redis_server_start(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", redis_server_port);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 || chdir(redis_server_dir))
            _exit(127);
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    redis_server_pid = pid;
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            redis_server_pid = 0;
            return -1;
        }
        if (redis_server_command("PING"))
            return 0;
        struct timespec pause = {0, 50000000L};
        nanosleep(&pause, NULL);
    }
    redis_server_stop();
    return -1;
}

/* Stops the server and removes its directory (also run at exit). */
static inline void redis_server_remove(void)
{
    redis_server_stop();
    if (redis_server_dir[0])
        rmdir(redis_server_dir);
    redis_server_dir[0] = '\0';
}

/* Makes the directory, picks a port and starts the server; 0 on success. */
static inline int redis_server_create(void)
{
    strcpy(redis_server_dir, "/tmp/gatehouse-redisunit-XXXXXX");
    if (!mkdtemp(redis_server_dir)) {
        redis_server_dir[0] = '\0';
        return -1;
    }
    atexit(redis_server_remove);
    for (int attempt = 0; attempt < 5; attempt++) {
        redis_server_port = test_free_port();
        if (redis_server_port > 0 && redis_server_start() == 0)
            return 0;
    }
    fprintf(stderr, "redis-server did not start (is it installed?)\n");
    return -1;
}

/* The REDIS_URL of the server. */
static inline void redis_server_url(char *out, size_t cap)
{
    snprintf(out, cap, "redis://127.0.0.1:%d/0", redis_server_port);
}

#endif
