/*
 * startup: time from exec of the server to its first 200 answer, for bench/run.sh.
 *
 *   bench-startup PORT RUNS TIMEOUT_MS PROGRAM [ARGS...]
 *
 * RUNS times: starts PROGRAM ARGS (with this process's environment, stdout and stderr), takes
 * the time just before execve, then in a tight loop connects to 127.0.0.1:PORT and sends
 * "GET /health-check/ HTTP/1.1"; the first answer whose status line says 200 stops the clock.
 * Refused connections and other answers are retried at once (no sleep), up to TIMEOUT_MS.
 * Then the server gets SIGTERM (SIGKILL after 10 s) and is reaped before the next run, so
 * every run starts cold in the same way: the port free, the database closed.
 *
 * Prints one line on stdout:
 *   startup runs=5 ms=41.2,38.0,37.5,39.9,38.1 first=41.2 median=38.1 min=37.5 max=41.2 attempts=812
 * Exit status 0 when every run got its 200, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One attempt: 1 when the server answered 200, 0 otherwise. */
static int probe(const struct sockaddr_in *addr, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int ok = 0;
    struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) {
        char req[128], buf[64];
        int n = snprintf(req, sizeof req,
                         "GET /health-check/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                         "Connection: close\r\n\r\n",
                         port);
        if (write(fd, req, (size_t)n) == n) {
            size_t got = 0;
            while (got < 12) {
                ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
                if (r <= 0)
                    break;
                got += (size_t)r;
            }
            buf[got] = '\0';
            ok = got >= 12 && !strncmp(buf, "HTTP/1.", 7) && !strncmp(buf + 9, "200", 3);
        }
    }
    close(fd);
    return ok;
}

static void stop_child(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench-startup PORT RUNS TIMEOUT_MS PROGRAM [ARGS...]\n");
        return 2;
    }
    int port = atoi(argv[1]), runs = atoi(argv[2]);
    double timeout_ms = atof(argv[3]);
    if (port < 1 || port > 65535 || runs < 1 || runs > 100 || timeout_ms <= 0) {
        fprintf(stderr, "startup: bad arguments\n");
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    signal(SIGPIPE, SIG_IGN);

    double ms[100];
    long attempts = 0;
    for (int run = 0; run < runs; run++) {
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0) {
            perror("startup: fork");
            return 1;
        }
        if (pid == 0) {
            execve(argv[4], argv + 4, environ);
            perror("startup: execve");
            _exit(127);
        }
        int ok = 0;
        while (!ok) {
            attempts++;
            ok = probe(&addr, port);
            if (ok)
                break;
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                fprintf(stderr, "startup: the server exited (status %d) before answering 200\n",
                        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
                return 1;
            }
            if (now_ms() - t0 > timeout_ms) {
                fprintf(stderr, "startup: no 200 within %.0f ms\n", timeout_ms);
                stop_child(pid);
                return 1;
            }
        }
        ms[run] = now_ms() - t0;
        stop_child(pid);
    }

    double sorted[100];
    memcpy(sorted, ms, sizeof(double) * (size_t)runs);
    qsort(sorted, (size_t)runs, sizeof(double), by_value);
    printf("startup runs=%d ms=", runs);
    for (int i = 0; i < runs; i++)
        printf("%s%.1f", i ? "," : "", ms[i]);
    printf(" first=%.1f median=%.1f min=%.1f max=%.1f attempts=%ld\n", ms[0],
           runs % 2 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2, sorted[0],
           sorted[runs - 1], attempts);
    return 0;
}
