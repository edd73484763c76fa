/*
 * hashrate: the raw Argon2id verify rate of this machine, the reference for
 * the login throughput measured by bench/run.sh.
 *
 *   bench-hashrate [threads [seconds [opslimit [memlimit_kib]]]]
 *
 * Makes one Argon2id hash (defaults: opslimit 2, memlimit 19456 KiB, the
 * server's default parameters), then runs crypto_pwhash_str_verify() on it in
 * `threads` threads (default: the number of online CPUs) for `seconds`
 * seconds (default 5). Prints one line to stdout:
 *
 *   hashrate threads=2 seconds=5.01 verifies=712 per_second=142.1
 *
 * Exit status 0 on success, 1 on any failure.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

static const char password[] = "correct horse battery staple";

static char hash[crypto_pwhash_STRBYTES];
static atomic_bool stop;
static atomic_long verifies;
static atomic_bool failed;

/* Monotonic time in seconds. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse a positive integer argument; exit with a message when it is not one. */
static unsigned long long parse_arg(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (0 != errno || end == s || '\0' != *end || 0 == v) {
        fprintf(stderr, "hashrate: bad %s: %s\n", what, s);
        exit(1);
    }
    return v;
}

/* Thread body: verify the shared hash until told to stop. */
static void *verify_loop(void *arg)
{
    (void) arg;
    while (!atomic_load(&stop)) {
        if (0 != crypto_pwhash_str_verify(hash, password, sizeof password - 1)) {
            atomic_store(&failed, 1);
            break;
        }
        atomic_fetch_add(&verifies, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned long long threads = cpus > 0 ? (unsigned long long)cpus : 1;
    unsigned long long seconds = 5;
    unsigned long long opslimit = 2;
    unsigned long long memlimit_kib = 19456;

    if (argc > 1) threads = parse_arg(argv[1], "thread count");
    if (argc > 2) seconds = parse_arg(argv[2], "duration");
    if (argc > 3) opslimit = parse_arg(argv[3], "opslimit");
    if (argc > 4) memlimit_kib = parse_arg(argv[4], "memlimit");
    if (threads > 256 || seconds > 3600 || memlimit_kib > SIZE_MAX / 1024) {
        fprintf(stderr, "hashrate: argument out of range\n");
        return 1;
    }

    if (sodium_init() < 0) {
        fprintf(stderr, "hashrate: sodium_init failed\n");
        return 1;
    }
    if (0 != crypto_pwhash_str_alg(hash, password, sizeof password - 1,
                                   opslimit, (size_t)memlimit_kib * 1024,
                                   crypto_pwhash_ALG_ARGON2ID13)) {
        fprintf(stderr, "hashrate: hashing failed (out of memory?)\n");
        return 1;
    }

    pthread_t *tids = calloc(threads, sizeof *tids);
    if (NULL == tids) {
        fprintf(stderr, "hashrate: out of memory\n");
        return 1;
    }
    double start = now();
    unsigned long long started = 0;
    for (; started < threads; started++) {
        if (0 != pthread_create(&tids[started], NULL, verify_loop, NULL)) {
            fprintf(stderr, "hashrate: pthread_create failed\n");
            atomic_store(&failed, 1);
            break;
        }
    }
    struct timespec d = { .tv_sec = (time_t)seconds, .tv_nsec = 0 };
    while (started == threads && 0 != nanosleep(&d, &d) && EINTR == errno)
        ;
    atomic_store(&stop, 1);
    for (unsigned long long i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    double elapsed = now() - start;
    free(tids);

    if (atomic_load(&failed)) {
        fprintf(stderr, "hashrate: verification failed\n");
        return 1;
    }
    long n = atomic_load(&verifies);
    printf("hashrate threads=%llu seconds=%.2f verifies=%ld per_second=%.1f\n",
           threads, elapsed, n, (double)n / elapsed);
    return 0;
}
