/*
 * seed: fill a gatehouse database with many users and live sessions, fast, for bench/run.sh
 * (BENCH_SEED). Rows are written directly, in the schema that `gatehouse migrate` created.
 *
 *   bench-seed sqlite DB_PATH COUNT HASH      users, profiles and sessions into a SQLite file
 *   bench-seed redis COUNT                    the sessions as Redis commands (RESP) on stdout,
 *                                             for `redis-cli --pipe`
 *   bench-seed hash OPSLIMIT MEMLIMIT_KIB     print one Argon2id hash of a fixed password
 *
 * Row i (1..COUNT) is the same on every backend (bench/run.sh writes the PostgreSQL rows with
 * generate_series from the same formulas):
 *   user id     00000000-0000-4000-8000-<i, 12 digits>     email  seed-<i, 9 digits>@example.com
 *   profile id  00000000-0000-4000-9000-<i, 12 digits>     (no phone, birth date, link)
 *   session id  00000000-0000-4000-a000-<i, 12 digits>     of user i
 *   token       "seed" and i in 39 digits: 43 characters, the shape of a real session token;
 *               the row keeps its SHA-256 in lowercase hex, as the server does
 * Every user is active, with the same password hash HASH (one precomputed Argon2id string);
 * every session was created now and expires in 23 to 24 hours.
 *
 * SQLite: one transaction with the journal off (the file is a throwaway) and a large page
 * cache, rows in the order of i so that every index but the token hashes' grows at its end.
 * Prints "seed rows=COUNT seconds=S" on stdout. Exit status 0 or 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#define TOKEN_LEN 43
#define HASH_HEX  64

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 100000000) {
        fprintf(stderr, "seed: bad count: %s\n", s);
        exit(1);
    }
    return v;
}

static void token_hash(long i, char out[HASH_HEX + 1])
{
    char token[TOKEN_LEN + 1];
    unsigned char digest[crypto_hash_sha256_BYTES];
    snprintf(token, sizeof token, "seed%039ld", i);
    crypto_hash_sha256(digest, (const unsigned char *)token, TOKEN_LEN);
    sodium_bin2hex(out, HASH_HEX + 1, digest, sizeof digest);
}

/* Session i expires within the day after the next 23 hours, later for larger i: live for the
 * whole run, and the expiry index grows at its end like the others. */
static long long expires_at(long long now, long i, long count)
{
    return now + 23 * 3600 + (long long)i * 3600 / count;
}

static int check(sqlite3 *db, int rc, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    fprintf(stderr, "seed: %s: %s\n", what, sqlite3_errmsg(db));
    return 1;
}

static int exec(sqlite3 *db, const char *sql)
{
    return check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

/* Binds the values, steps and resets one prepared statement. */
static int step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return check(db, rc, what);
}

static int seed_sqlite(const char *path, long count, const char *pwhash)
{
    double t0 = now_seconds();
    sqlite3 *db = NULL;
    sqlite3_stmt *user = NULL, *profile = NULL, *session = NULL;
    int bad = 1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "seed: cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
        goto out;
    }
    /* The server opens the file in WAL mode; a bulk load is faster with no journal at all.
     * WAL is set again before the file is handed back. */
    if (exec(db, "PRAGMA journal_mode=OFF") || exec(db, "PRAGMA synchronous=OFF") ||
        exec(db, "PRAGMA cache_size=-262144") || exec(db, "PRAGMA foreign_keys=OFF") ||
        exec(db, "BEGIN"))
        goto out;
    if (check(db,
              sqlite3_prepare_v2(db,
                                 "INSERT INTO users (id, email, password_hash, first_name, "
                                 "last_name, is_active, is_staff, is_superuser, thumbnail, "
                                 "date_joined) VALUES (?1, ?2, ?3, 'Seed', 'User', 1, 0, 0, "
                                 "NULL, ?4)",
                                 -1, &user, NULL),
              "prepare users") ||
        check(db,
              sqlite3_prepare_v2(db,
                                 "INSERT INTO user_profiles (id, user_id, phone_number, "
                                 "birth_date, github_link) VALUES (?1, ?2, NULL, NULL, NULL)",
                                 -1, &profile, NULL),
              "prepare user_profiles") ||
        check(db,
              sqlite3_prepare_v2(db,
                                 "INSERT INTO sessions (token_hash, id, user_id, created_at, "
                                 "expires_at, last_seen_at, ip, user_agent) VALUES (?1, ?2, ?3, "
                                 "?4, ?5, ?4, '127.0.0.1', 'bench-seed')",
                                 -1, &session, NULL),
              "prepare sessions"))
        goto out;

    long long now = (long long)time(NULL);
    char id[48], pid[48], email[64];
    for (long i = 1; i <= count; i++) {
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012ld", i);
        snprintf(pid, sizeof pid, "00000000-0000-4000-9000-%012ld", i);
        snprintf(email, sizeof email, "seed-%09ld@example.com", i);
        sqlite3_bind_text(user, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(user, 2, email, -1, SQLITE_STATIC);
        sqlite3_bind_text(user, 3, pwhash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(user, 4, now - 86400);
        sqlite3_bind_text(profile, 1, pid, -1, SQLITE_STATIC);
        sqlite3_bind_text(profile, 2, id, -1, SQLITE_STATIC);
        if (step(db, user, "insert users") || step(db, profile, "insert user_profiles"))
            goto out;
    }

    char sid[48], hash[HASH_HEX + 1];
    for (long i = 1; i <= count; i++) {
        token_hash(i, hash);
        snprintf(sid, sizeof sid, "00000000-0000-4000-a000-%012ld", i);
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012ld", i);
        sqlite3_bind_text(session, 1, hash, HASH_HEX, SQLITE_STATIC);
        sqlite3_bind_text(session, 2, sid, -1, SQLITE_STATIC);
        sqlite3_bind_text(session, 3, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(session, 4, now);
        sqlite3_bind_int64(session, 5, expires_at(now, i, count));
        if (step(db, session, "insert sessions"))
            goto out;
    }
    if (exec(db, "COMMIT"))
        goto out;
    sqlite3_finalize(user);
    sqlite3_finalize(profile);
    sqlite3_finalize(session);
    user = profile = session = NULL;
    if (exec(db, "PRAGMA journal_mode=WAL"))
        goto out;
    bad = 0;
out:
    sqlite3_finalize(user);
    sqlite3_finalize(profile);
    sqlite3_finalize(session);
    if (db && sqlite3_close(db) != SQLITE_OK) {
        fprintf(stderr, "seed: close: %s\n", sqlite3_errmsg(db));
        bad = 1;
    }
    if (!bad)
        printf("seed rows=%ld seconds=%.2f\n", count, now_seconds() - t0);
    return bad;
}

/* RESP for one command of n arguments. */
static void resp(FILE *f, int n, const char *const *argv)
{
    fprintf(f, "*%d\r\n", n);
    for (int k = 0; k < n; k++)
        fprintf(f, "$%zu\r\n%s\r\n", strlen(argv[k]), argv[k]);
}

/* The same keys as the server's Redis session store (src/kv/redis.c): a hash per session,
 * expiring with it, and the set of a user's session hashes. */
static int seed_redis(long count)
{
    long long now = (long long)time(NULL);
    char hash[HASH_HEX + 1], key[80], ukey[80], sid[48], uid[48], created[24], expires[24];
    for (long i = 1; i <= count; i++) {
        token_hash(i, hash);
        snprintf(key, sizeof key, "gh:s:%s", hash);
        snprintf(uid, sizeof uid, "00000000-0000-4000-8000-%012ld", i);
        snprintf(ukey, sizeof ukey, "gh:u:%s", uid);
        snprintf(sid, sizeof sid, "00000000-0000-4000-a000-%012ld", i);
        snprintf(created, sizeof created, "%lld", now);
        snprintf(expires, sizeof expires, "%lld", expires_at(now, i, count));
        const char *hset[] = {"HSET",       key,     "id",           sid,     "user_id",
                              uid,          "created_at", created,   "expires_at", expires,
                              "last_seen_at", created, "ip",         "127.0.0.1", "ua",
                              "bench-seed"};
        const char *expireat[] = {"EXPIREAT", key, expires};
        const char *sadd[] = {"SADD", ukey, hash};
        const char *expire[] = {"EXPIRE", ukey, "86400"};
        resp(stdout, 16, hset);
        resp(stdout, 3, expireat);
        resp(stdout, 3, sadd);
        resp(stdout, 3, expire);
    }
    if (fflush(stdout) != 0) {
        perror("seed: stdout");
        return 1;
    }
    return 0;
}

static int print_hash(const char *ops, const char *mem)
{
    static const char password[] = "seed-password-not-for-login";
    char out[crypto_pwhash_STRBYTES];
    unsigned long long opslimit = strtoull(ops, NULL, 10);
    unsigned long long kib = strtoull(mem, NULL, 10);
    if (opslimit < 1 || kib < 8 || kib > SIZE_MAX / 1024 ||
        crypto_pwhash_str_alg(out, password, sizeof password - 1, opslimit, (size_t)kib * 1024,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        fprintf(stderr, "seed: cannot hash with opslimit %s, memlimit %s KiB\n", ops, mem);
        return 1;
    }
    printf("%s\n", out);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "seed: sodium_init failed\n");
        return 1;
    }
    if (argc == 5 && !strcmp(argv[1], "sqlite"))
        return seed_sqlite(argv[2], parse_count(argv[3]), argv[4]);
    if (argc == 3 && !strcmp(argv[1], "redis"))
        return seed_redis(parse_count(argv[2]));
    if (argc == 4 && !strcmp(argv[1], "hash"))
        return print_hash(argv[2], argv[3]);
    fprintf(stderr, "usage: bench-seed sqlite DB_PATH COUNT HASH | redis COUNT | "
                    "hash OPSLIMIT MEMLIMIT_KIB\n");
    return 2;
}
