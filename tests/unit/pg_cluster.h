/* A throwaway PostgreSQL cluster for the unit tests that need one: initdb and pg_ctl from
 * GATEHOUSE_TEST_PG_BIN (default /usr/lib/postgresql/15/bin), run as the `postgres` user when we
 * are root, on a free loopback port with its socket in its own temp directory, removed at exit.
 * Include it once, in the test file (the functions are static). */
#ifndef GH_TEST_PG_CLUSTER_H
#define GH_TEST_PG_CLUSTER_H

#include <libpq-fe.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "free_port.h"

static char pg_cluster_dir[64];
static char pg_cluster_bin[256] = "/usr/lib/postgresql/15/bin";
static int pg_cluster_port;
static bool pg_cluster_running;

/* Runs a shell command line built from fmt; returns its exit status. */
__attribute__((format(printf, 1, 2))) static inline int pg_cluster_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* "runuser -u postgres -- " when root (initdb refuses to run as root), else nothing. */
static inline const char *pg_cluster_as_postgres(void)
{
    return geteuid() == 0 ? "runuser -u postgres -- " : "";
}

/* Starts the server of the cluster made by pg_cluster_create; 0 on success. */
static inline int pg_cluster_start(void)
{
    return pg_cluster_sh("%s%s/pg_ctl start -D %s/data -l %s/postgres.log -w -t 30 -o '-p %d -k %s "
                         "-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' "
                         ">/dev/null",
                         pg_cluster_as_postgres(), pg_cluster_bin, pg_cluster_dir, pg_cluster_dir,
                         pg_cluster_port, pg_cluster_dir);
}

/* Stops the server (fast shutdown: open connections are cut); 0 on success. */
static inline int pg_cluster_stop(void)
{
    return pg_cluster_sh("%s%s/pg_ctl stop -D %s/data -m fast -w >/dev/null",
                         pg_cluster_as_postgres(), pg_cluster_bin, pg_cluster_dir);
}

/* Stops the server and removes the cluster (also run at exit). */
static inline void pg_cluster_remove(void)
{
    if (pg_cluster_running)
        (void)pg_cluster_stop();
    pg_cluster_running = false;
    if (pg_cluster_dir[0])
        (void)pg_cluster_sh("rm -rf '%s'", pg_cluster_dir);
    pg_cluster_dir[0] = '\0';
}

/* Makes the cluster and starts its server; 0 on success. */
static inline int pg_cluster_create(void)
{
    const char *bin = getenv("GATEHOUSE_TEST_PG_BIN");
    if (bin && *bin)
        snprintf(pg_cluster_bin, sizeof pg_cluster_bin, "%s", bin);
    strcpy(pg_cluster_dir, "/tmp/gatehouse-pgunit-XXXXXX");
    if (!mkdtemp(pg_cluster_dir)) {
        pg_cluster_dir[0] = '\0';
        return -1;
    }
    atexit(pg_cluster_remove);
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw || chown(pg_cluster_dir, pw->pw_uid, pw->pw_gid)) {
            fprintf(stderr, "no postgres user to run the test cluster as\n");
            return -1;
        }
    }
    if (pg_cluster_sh("%s%s/initdb -D %s/data -A trust -U postgres -E UTF8 --locale=C --no-sync "
                      ">/dev/null",
                      pg_cluster_as_postgres(), pg_cluster_bin, pg_cluster_dir)) {
        fprintf(stderr, "initdb failed (is PostgreSQL 15 installed in %s?)\n", pg_cluster_bin);
        return -1;
    }
    for (int attempt = 0; attempt < 5 && !pg_cluster_running; attempt++) {
        pg_cluster_port = test_free_port();
        pg_cluster_running = pg_cluster_port > 0 && pg_cluster_start() == 0;
    }
    return pg_cluster_running ? 0 : -1;
}

/* The URL of database db in the cluster. */
static inline void pg_cluster_url(char *out, size_t cap, const char *db)
{
    snprintf(out, cap, "postgres://postgres@127.0.0.1:%d/%s", pg_cluster_port, db);
}

/* Runs one statement on a connection of its own to database db; copies the first value of the
 * first row into out (cap bytes; "" without rows) unless out is NULL. 0 on success; on failure
 * the message goes to stderr. */
static inline int pg_cluster_exec(const char *db, const char *sql, char *out, size_t cap)
{
    char url[160];
    int rc = -1;
    pg_cluster_url(url, sizeof url, db);
    PGconn *c = PQconnectdb(url);
    PGresult *r = NULL;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "connect %s: %s", url, PQerrorMessage(c));
        goto out;
    }
    r = PQexec(c, sql);
    ExecStatusType rs = PQresultStatus(r);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
        goto out;
    }
    if (out)
        snprintf(out, cap, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    rc = 0;
out:
    PQclear(r);
    PQfinish(c);
    return rc;
}

#endif
