/* The PostgreSQL store's connections, statements, transactions and migrations: one libpq
 * connection per thread, opened on first use, statements prepared once per connection and run
 * with text parameters; migrations embedded in the binary. A broken connection makes the call
 * fail fast with GH_UNAVAILABLE and is reset (at most once a second) by the thread's next call.
 * store_postgres_open builds the struct store in the PostgreSQL dialect: these runners and checks,
 * and the SQL text of the table-group files. */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../embed.h"
#include "../../util/log.h"
#include "../../util/secret.h"
#include "../members/members.h"
#include "postgres.h"

enum { PING = CONN_PING, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [PING] = "SELECT 1",
};

static const struct sql_statements conn_sql = {SQL_CONN, "connection", STATEMENTS, sql};

/* A connection owned by one thread. */
struct conn {
    PGconn *pg;
    /* For each statement prepared on this connection, its number of parameters plus one (0: not
     * prepared yet). */
    int params[SQL_GROUPS][SQL_GROUP_MAX];
    bool in_tx;          /* between begin and commit/rollback */
    int64_t reset_after; /* monotonic second before which a broken connection is not reset */
    int64_t used_at;     /* monotonic second of the last conn_get */
};

static int64_t monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* libpq's messages end with a newline; log lines should not. */
static void log_pg(enum log_level level, const char *what, const char *msg)
{
    size_t n = msg ? strlen(msg) : 0;
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    log_msg(level, "postgres: %s: %.*s", what, (int)n, msg ? msg : "");
}

/* Maps a failed result (or NULL) to a status, logging what is not an expected outcome. */
static gh_status map_error(struct conn *c, const PGresult *res)
{
    if (PQstatus(c->pg) != CONNECTION_OK) {
        log_pg(LOG_ERROR, "connection lost", PQerrorMessage(c->pg));
        return GH_UNAVAILABLE;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
    if (!state) {
        log_pg(LOG_ERROR, "query failed", msg);
        return GH_INTERNAL;
    }
    if (!strcmp(state, "23505"))
        return GH_CONFLICT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")) {
        log_pg(LOG_WARN, "retrying", msg);
        return GH_BUSY;
    }
    /* 08: connection, 53: insufficient resources, 57: operator intervention (including the
     * statement timeout). */
    if (!strncmp(state, "08", 2) || !strncmp(state, "53", 2) || !strncmp(state, "57", 2)) {
        log_pg(LOG_ERROR, state, msg);
        return GH_UNAVAILABLE;
    }
    log_pg(LOG_ERROR, state, msg);
    return GH_INTERNAL;
}

/* ---- connections ---- */

static void conn_free(void *conn)
{
    struct conn *c = conn;
    if (!c)
        return;
    PQfinish(c->pg);
    free(c);
}

/* Server notices ("relation already exists, skipping") are not worth a log line. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Opens the calling thread's connection (thread_conn_open_fn). A server that cannot be reached
 * still gives a connection, marked broken: conn_get reports it and resets it later. */
static gh_status conn_open(void *owner, void **out)
{
    struct sql_store *s = owner;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return GH_NO_MEMORY;
    /* Entries before dbname are defaults the URL may override. */
    const char *const keys[] = {"connect_timeout", "options", "application_name", "dbname", NULL};
    const char *const values[] = {"3", "-c statement_timeout=5000", "gatehouse", s->location, NULL};
    c->pg = PQconnectdbParams(keys, values, 1);
    if (!c->pg) {
        free(c);
        return GH_NO_MEMORY;
    }
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL); /* kept across PQreset */
    if (PQstatus(c->pg) != CONNECTION_OK) {
        log_pg(LOG_ERROR, "cannot connect", PQerrorMessage(c->pg));
        c->reset_after = monotonic_seconds() + 1;
    }
    *out = c;
    return GH_OK;
}

/* True when the idle connection c has something to read. Outside a transaction the server
 * sends nothing unasked (gatehouse listens for no notifications), so that can only be the end
 * of the connection: the server restarted or ended the session meanwhile. */
static bool closed_while_idle(struct conn *c)
{
    struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
    return p.fd >= 0 && poll(&p, 1, 0) > 0;
}

/* Returns this thread's connection to the store, opening it on first use and resetting it when
 * it broke; GH_UNAVAILABLE when the database cannot be reached now. A connection idle for a
 * second or more is checked first, without a round trip: one the server closed meanwhile is
 * reset now, instead of failing the request that finds it so. A connection that broke
 * inside a transaction is not reset before rollback: the transaction's work is gone, and
 * running its remaining statements outside a transaction would be wrong. */
static gh_status conn_get(struct store *st, struct conn **out)
{
    void *opened = NULL;
    gh_status status = thread_conn_get(&sql_store_of(st)->conns, &opened);
    if (status != GH_OK)
        return status;
    struct conn *c = opened;
    int64_t now = monotonic_seconds();
    bool idle = now > c->used_at;
    c->used_at = now;
    bool broken = PQstatus(c->pg) != CONNECTION_OK;
    if (!broken && idle && !c->in_tx && closed_while_idle(c)) {
        log_msg(LOG_INFO, "postgres: the server closed an idle connection");
        broken = true;
    }
    if (broken) {
        if (c->in_tx || now < c->reset_after)
            return GH_UNAVAILABLE;
        c->reset_after = now + 1;
        memset(c->params, 0, sizeof c->params);
        PQreset(c->pg);
        if (PQstatus(c->pg) != CONNECTION_OK) {
            log_pg(LOG_ERROR, "cannot reconnect", PQerrorMessage(c->pg));
            return GH_UNAVAILABLE;
        }
        log_msg(LOG_INFO, "postgres: reconnected");
    }
    *out = c;
    return GH_OK;
}

/* The dialect's connect: connects this thread now, so that a wrong URL or an unreachable
 * server fails at start. */
static gh_status pg_connect(struct store *st)
{
    struct conn *c = NULL;
    return conn_get(st, &c);
}

/* ---- statements ---- */

/* Prepares statement id of g on c under name, once per connection, and learns how many
 * parameters it takes. */
static gh_status prepare(struct conn *c, const struct sql_statements *g, int id, const char *name)
{
    int *params = &c->params[g->group][id];
    if (*params)
        return GH_OK;
    PGresult *res = PQprepare(c->pg, name, g->text[id], 0, NULL);
    gh_status status = GH_OK;
    /* 42P05: prepared before, by a call whose describe failed. */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if ((!res || PQresultStatus(res) != PGRES_COMMAND_OK) && !(state && !strcmp(state, "42P05")))
        status = map_error(c, res);
    PQclear(res);
    if (status != GH_OK)
        return status;
    res = PQdescribePrepared(c->pg, name);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        status = map_error(c, res);
    else
        *params = PQnparams(res) + 1;
    PQclear(res);
    return status;
}

/* Runs statement id of g on this thread's connection with p sent as text; on GH_OK *out holds
 * the result (the caller PQclears it). A list that overflowed, or that does not bind every
 * parameter of the statement, is GH_INTERNAL before the statement runs. */
static gh_status run(struct store *st, const struct sql_statements *g, int id,
                     const struct sql_params *p, PGresult **out)
{
    struct conn *c = NULL;
    gh_status status = sql_statement_check(g, id, p);
    if (status == GH_OK)
        status = conn_get(st, &c);
    if (status != GH_OK)
        return status;
    char name[16];
    snprintf(name, sizeof name, "g%d_%d", (int)g->group, id);
    if ((status = prepare(c, g, id, name)) != GH_OK)
        return status;
    if ((status = sql_params_match(g, id, p, c->params[g->group][id] - 1)) != GH_OK)
        return status;
    int n = p ? p->n : 0;
    const char *values[SQL_PARAMS_MAX];
    char numbers[SQL_PARAMS_MAX][24];
    for (int i = 0; i < n; i++) {
        const struct sql_param *v = &p->v[i];
        if (v->type == SQL_PARAM_TEXT) {
            values[i] = v->text;
        } else if (v->type == SQL_PARAM_BOOL) {
            values[i] = v->num ? "t" : "f";
        } else {
            snprintf(numbers[i], sizeof numbers[i], "%lld", (long long)v->num);
            values[i] = numbers[i];
        }
    }
    PGresult *res = PQexecPrepared(c->pg, name, n, n ? values : NULL, NULL, NULL, 0);
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        status = map_error(c, res);
        PQclear(res);
        return status;
    }
    *out = res;
    return GH_OK;
}

gh_status pg_exec(struct store *st, const struct sql_statements *g, int id,
                  const struct sql_params *p, bool must_change)
{
    PGresult *res = NULL;
    gh_status status = run(st, g, id, p, &res);
    if (status != GH_OK)
        return status;
    if (must_change && !strcmp(PQcmdTuples(res), "0"))
        status = GH_NOT_FOUND;
    PQclear(res);
    return status;
}

static const char *row_text(const struct sql_row *r, int col)
{
    const char *v = PQgetvalue(r->result, r->row, col);
    return v ? v : "";
}

static int64_t row_integer(const struct sql_row *r, int col)
{
    return strtoll(row_text(r, col), NULL, 10);
}

static bool row_boolean(const struct sql_row *r, int col)
{
    return row_text(r, col)[0] == 't';
}

static gh_status row_next(struct sql_row *r)
{
    if (r->row + 1 >= PQntuples(r->result))
        return GH_NOT_FOUND;
    r->row++;
    return GH_OK;
}

static void row_done(struct sql_row *r)
{
    PQclear(r->result);
    r->result = NULL;
}

static const struct sql_row_ops row_ops = {
    .text = row_text,
    .integer = row_integer,
    .boolean = row_boolean,
    .next = row_next,
    .done = row_done,
};

gh_status pg_query(struct store *st, const struct sql_statements *g, int id,
                   const struct sql_params *p, struct sql_row *row)
{
    PGresult *res = NULL;
    gh_status status = run(st, g, id, p, &res);
    if (status != GH_OK)
        return status;
    if (PQntuples(res) < 1) {
        PQclear(res);
        return GH_NOT_FOUND;
    }
    *row = (struct sql_row){.ops = &row_ops, .result = res};
    return GH_OK;
}

/* ---- values PostgreSQL would refuse ---- */

const char *pg_utf8_clean(const char *in, char *out, size_t cap)
{
    if (!in)
        return NULL;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p && o + 4 < cap) {
        size_t len = *p < 0x80         ? 1
                     : (*p >> 5) == 6  ? 2
                     : (*p >> 4) == 14 ? 3
                     : (*p >> 3) == 30 ? 4
                                       : 0;
        bool ok = len > 0;
        for (size_t i = 1; ok && i < len; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (ok && len == 2 && *p < 0xC2)
            ok = false; /* overlong */
        if (ok && len == 3) {
            unsigned cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
            ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
        }
        if (ok && len == 4) {
            unsigned cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
                          (p[3] & 0x3Fu);
            ok = cp >= 0x10000 && cp <= 0x10FFFF;
        }
        if (!ok) {
            out[o++] = '?';
            p++;
            continue;
        }
        memcpy(out + o, p, len);
        o += len;
        p += len;
    }
    out[o] = '\0';
    return out;
}

/* ---- transactions ---- */

/* Runs a parameterless command with the simple-query protocol; with keep, hands over the
 * result (the caller PQclears it). */
static gh_status exec_simple(struct conn *c, const char *text, PGresult **keep)
{
    PGresult *res = PQexec(c->pg, text);
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        gh_status status = map_error(c, res);
        PQclear(res);
        return status;
    }
    if (keep)
        *keep = res;
    else
        PQclear(res);
    return GH_OK;
}

static gh_status pg_begin(struct store *st)
{
    struct conn *c = NULL;
    gh_status status = conn_get(st, &c);
    if (status != GH_OK)
        return status;
    status = exec_simple(c, "BEGIN", NULL);
    if (status == GH_OK)
        c->in_tx = true;
    return status;
}

static gh_status pg_commit(struct store *st)
{
    struct conn *c = NULL;
    gh_status status = conn_get(st, &c);
    if (status != GH_OK)
        return status;
    PGresult *res = NULL;
    status = exec_simple(c, "COMMIT", &res);
    if (status == GH_OK) {
        /* COMMIT of a transaction in which a statement failed rolls back instead. */
        if (strcmp(PQcmdStatus(res), "COMMIT")) {
            log_msg(LOG_ERROR, "postgres: transaction was rolled back at commit");
            status = GH_INTERNAL;
        }
        PQclear(res);
    }
    c->in_tx = false;
    return status;
}

static void pg_rollback(struct store *st)
{
    struct conn *c = thread_conn_peek(&sql_store_of(st)->conns);
    if (!c)
        return;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
        (void)exec_simple(c, "ROLLBACK", NULL);
    c->in_tx = false;
}

/* ---- migrations ---- */

struct migration {
    int version;
    const char *sql;
};

static const struct migration migrations[] = {
    {1, embed_postgres_0001_start}, {2, embed_postgres_0002_start}, {3, embed_postgres_0003_start},
    {4, embed_postgres_0004_start}, {5, embed_postgres_0005_start}, {6, embed_postgres_0006_start},
    {7, embed_postgres_0007_start}, {8, embed_postgres_0008_start}, {9, embed_postgres_0009_start},
};

/* Serialises migrations of instances starting at the same time (any fixed number will do). */
#define MIGRATION_LOCK_KEY "7450488393542283635"

/* Applies one migration and records it, in one transaction; skips it if already applied. */
static gh_status apply_migration(struct conn *c, const struct migration *m)
{
    gh_status st = exec_simple(c, "BEGIN", NULL);
    if (st != GH_OK)
        return st;
    PGresult *res = NULL;
    char text[200];
    st = exec_simple(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", NULL);
    if (st != GH_OK)
        goto out;
    snprintf(text, sizeof text, "SELECT 1 FROM schema_migrations WHERE version = %d", m->version);
    if ((st = exec_simple(c, text, &res)) != GH_OK)
        goto out;
    bool applied = PQntuples(res) > 0;
    PQclear(res);
    if (applied)
        goto out;
    if ((st = exec_simple(c, m->sql, NULL)) != GH_OK)
        goto out;
    snprintf(text, sizeof text,
             "INSERT INTO schema_migrations (version, applied_at) "
             "VALUES (%d, extract(epoch FROM now())::bigint)",
             m->version);
    if ((st = exec_simple(c, text, NULL)) != GH_OK)
        goto out;
    log_msg(LOG_INFO, "applied migration %d", m->version);
out:
    if (st == GH_OK)
        st = exec_simple(c, "COMMIT", NULL);
    if (st != GH_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        (void)exec_simple(c, "ROLLBACK", NULL);
    return st;
}

static gh_status pg_migrate(struct store *st)
{
    struct conn *c = NULL;
    gh_status status = conn_get(st, &c);
    if (status != GH_OK)
        return status;
    /* The bookkeeping table is created under the same lock: two instances starting at once
     * would otherwise race on CREATE TABLE IF NOT EXISTS. */
    if ((status = exec_simple(c, "BEGIN", NULL)) != GH_OK)
        return status;
    status = exec_simple(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", NULL);
    if (status == GH_OK)
        status = exec_simple(c,
                             "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "version integer PRIMARY KEY, applied_at bigint NOT NULL)",
                             NULL);
    if (status == GH_OK)
        status = exec_simple(c, "COMMIT", NULL);
    if (status != GH_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        (void)exec_simple(c, "ROLLBACK", NULL);
    for (size_t i = 0; status == GH_OK && i < sizeof migrations / sizeof migrations[0]; i++)
        status = apply_migration(c, &migrations[i]);
    return status;
}

/* ---- the store ---- */

static const struct sql_dialect dialect = {
    .exec = pg_exec,
    .query = pg_query,
    /* Ids from outside (a URL path) are checked first, so that a malformed one is "not found"
     * instead of a type error, and an upper-case spelling is not found either, as on SQLite
     * (the uuid type would match it). */
    .valid_id = secret_uuid_is_wellformed,
    .clean_text = pg_utf8_clean,
    .migrate = pg_migrate,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .connect = pg_connect,
    .groups =
        {
            [SQL_CONN] = &conn_sql,
            SQL_GROUP_TEXT(postgres),
        },
};

gh_status store_postgres_open(const char *url, struct store **out)
{
    return sql_store_open(url, &dialect, conn_open, conn_free, out);
}
