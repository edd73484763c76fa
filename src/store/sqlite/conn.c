/* The SQLite store's connections, statements, transactions and migrations: one connection per
 * thread (WAL, busy timeout), prepared statements cached per connection, migrations embedded in
 * the binary. store_sqlite_open builds the struct store in the SQLite dialect: these runners
 * and the SQL text of the table-group files. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../embed.h"
#include "../../util/log.h"
#include "../members/members.h"
#include "sqlite.h"

enum { PING = CONN_PING, BEGIN, COMMIT, ROLLBACK, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [PING] = "SELECT 1",
    [BEGIN] = "BEGIN IMMEDIATE",
    [COMMIT] = "COMMIT",
    [ROLLBACK] = "ROLLBACK",
};

static const struct sql_statements conn_sql = {SQL_CONN, "connection", STATEMENTS, sql};

/* The wal-index header (https://sqlite.org/walformat.html): the first 136 bytes of the
 * database's -shm file, shared by every process that has the database open. It begins with two
 * copies of a 48-byte header that every commit rewrites, the second copy first: its iChange
 * counts the commits, and mxFrame, the salts and the checksums change with them. */
enum {
    WAL_INDEX_REGION = 32768,     /* the size SQLite maps the -shm file in */
    WAL_HEADER_WORDS = 12,        /* one copy: 48 bytes */
    WAL_HEADER_VERSION = 3007000, /* iVersion, the first word: the format described there */
    WAL_HEADER_IS_INIT_BYTE = 12, /* isInit: 1 once the header was written */
};

/* The state of the database a remembered answer was read in: its wal-index header then. The
 * answer is still the answer while the header is unchanged: no connection of any process
 * committed since. */
struct read_state {
    bool valid; /* false: nothing remembered; asked in a transaction, without a wal-index, or
                 * while a commit wrote the header */
    uint32_t wal_header[WAL_HEADER_WORDS];
};

/* The last session this connection looked up, with its user. */
struct last_session {
    struct read_state read;
    struct session session;
    struct user user;
};

/* The last user this connection read by id. */
struct last_user {
    struct read_state read;
    struct user user;
};

/* A connection owned by one thread. */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[SQL_GROUPS][SQL_GROUP_MAX];
    /* The wal-index as SQLite maps it for this connection, mapped until the connection is
     * closed; NULL until it is found (find_wal_index), and for good when the database has none
     * (no_wal_index). Without it nothing is remembered. */
    const volatile uint32_t *wal_index;
    bool no_wal_index;
    struct last_session last_session;
    struct last_user last_user;
};

static gh_status map_rc(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return GH_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return GH_BUSY;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return GH_CONFLICT;
        break;
    default:
        break;
    }
    log_msg(LOG_ERROR, "sqlite: %s (%d)", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
    return GH_INTERNAL;
}

/* ---- connections ---- */

static void conn_free(void *conn)
{
    struct conn *c = conn;
    if (!c)
        return;
    for (int g = 0; g < SQL_GROUPS; g++)
        for (int i = 0; i < SQL_GROUP_MAX; i++)
            sqlite3_finalize(c->stmts[g][i]);
    sqlite3_close(c->db);
    free(c);
}

/* How long a statement waits for a lock another connection holds before it fails (BUSY). */
#define BUSY_WAIT_US 5000000L
/* Its steps: BUSY_FIRST_STEP_US, doubled BUSY_DOUBLINGS times (50 to 800 µs), then
 * BUSY_STEP_MAX_US each. */
#define BUSY_FIRST_STEP_US 50L
#define BUSY_DOUBLINGS     5
#define BUSY_STEP_MAX_US   1000L

/* SQLite's busy handler: waits for another connection's lock in short steps, 50 µs doubling
 * up to 1 ms, BUSY_WAIT_US in all; returns 0 to give up. SQLite's own (sqlite3_busy_timeout)
 * first sleeps 1 ms and then up to 100 ms a step, while a write lock is held here for well
 * under a millisecond; and a connection thread that sleeps holds up every connection it
 * serves (the rate-limit counters of a login are written on the connection's thread). */
static int wait_briefly_when_busy(void *arg, int tries)
{
    (void)arg;
    int doubled = tries < BUSY_DOUBLINGS ? tries : BUSY_DOUBLINGS; /* doubling steps slept */
    long waited = BUSY_FIRST_STEP_US * ((1L << doubled) - 1) + (tries - doubled) * BUSY_STEP_MAX_US;
    if (waited >= BUSY_WAIT_US)
        return 0;
    usleep((useconds_t)(tries < BUSY_DOUBLINGS ? BUSY_FIRST_STEP_US << tries : BUSY_STEP_MAX_US));
    return 1;
}

/* Opens a connection for the calling thread (thread_conn_open_fn). */
static gh_status conn_open(void *owner, void **out)
{
    struct sql_store *s = owner;
    struct conn *c = calloc(1, sizeof *c);
    gh_status st = GH_NO_MEMORY;
    if (!c)
        goto out;
    int rc =
        sqlite3_open_v2(s->location, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        st = map_rc(c->db, rc);
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1); /* so unique violations are told apart */
    sqlite3_busy_handler(c->db, wait_briefly_when_busy, NULL);
    rc = sqlite3_exec(c->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                      "PRAGMA foreign_keys=ON;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        st = map_rc(c->db, rc);
        goto out;
    }
    *out = c;
    c = NULL;
    st = GH_OK;
out:
    conn_free(c);
    return st;
}

/* Returns this thread's connection to the store, opening it on first use. */
static gh_status conn_get(struct store *st, struct conn **out)
{
    void *c = NULL;
    gh_status status = thread_conn_get(&sql_store_of(st)->conns, &c);
    if (status == GH_OK)
        *out = c;
    return status;
}

/* The dialect's connect: opens this thread's connection, so that a bad path fails at start. */
static gh_status sq_connect(struct store *st)
{
    struct conn *c = NULL;
    return conn_get(st, &c);
}

/* ---- statements ---- */

/* Returns statement id of g on this thread's connection, prepared on first use, reset and with
 * p bound. A list that overflowed, or that does not bind every parameter of the statement, is
 * GH_INTERNAL: a wrong list must not run with some parameters left NULL. */
static gh_status stmt_get(struct store *st, const struct sql_statements *g, int id,
                          const struct sql_params *p, struct conn **cp, sqlite3_stmt **out)
{
    struct conn *c = NULL;
    gh_status status = sql_statement_check(g, id, p);
    if (status == GH_OK)
        status = conn_get(st, &c);
    if (status != GH_OK)
        return status;
    sqlite3_stmt **slot = &c->stmts[g->group][id];
    if (!*slot) {
        int rc = sqlite3_prepare_v3(c->db, g->text[id], -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc != SQLITE_OK)
            return map_rc(c->db, rc);
    }
    sqlite3_stmt *s = *slot;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if ((status = sql_params_match(g, id, p, sqlite3_bind_parameter_count(s))) != GH_OK)
        return status;
    for (int i = 0; p && i < p->n; i++) {
        const struct sql_param *v = &p->v[i];
        int rc = v->type != SQL_PARAM_TEXT ? sqlite3_bind_int64(s, i + 1, v->num)
                 : v->text                 ? sqlite3_bind_text(s, i + 1, v->text, -1, SQLITE_STATIC)
                                           : sqlite3_bind_null(s, i + 1);
        if (rc != SQLITE_OK)
            return map_rc(c->db, rc);
    }
    *cp = c;
    *out = s;
    return GH_OK;
}

gh_status sq_exec(struct store *st, const struct sql_statements *g, int id,
                  const struct sql_params *p, bool must_change)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, g, id, p, &c, &s);
    if (status != GH_OK)
        return status;
    int rc = sqlite3_step(s);
    status = rc == SQLITE_DONE ? GH_OK : map_rc(c->db, rc);
    if (status == GH_OK && must_change && sqlite3_changes(c->db) == 0)
        status = GH_NOT_FOUND;
    sqlite3_reset(s);
    return status;
}

static const char *row_text(const struct sql_row *r, int col)
{
    const unsigned char *v = sqlite3_column_text(r->result, col);
    return v ? (const char *)v : "";
}

static int64_t row_integer(const struct sql_row *r, int col)
{
    return sqlite3_column_int64(r->result, col);
}

static bool row_boolean(const struct sql_row *r, int col)
{
    return sqlite3_column_int(r->result, col) != 0;
}

static gh_status row_next(struct sql_row *r)
{
    if (r->ended)
        return GH_NOT_FOUND;
    int rc = sqlite3_step(r->result);
    if (rc == SQLITE_ROW)
        return GH_OK;
    r->ended = true;
    return rc == SQLITE_DONE ? GH_NOT_FOUND : map_rc(((struct conn *)r->conn)->db, rc);
}

/* Steps to the end, so that an UPDATE … RETURNING has made all its changes, and resets. */
static void row_done(struct sql_row *r)
{
    while (!r->ended && sqlite3_step(r->result) == SQLITE_ROW)
        ;
    sqlite3_reset(r->result);
}

static const struct sql_row_ops row_ops = {
    .text = row_text,
    .integer = row_integer,
    .boolean = row_boolean,
    .next = row_next,
    .done = row_done,
};

gh_status sq_query(struct store *st, const struct sql_statements *g, int id,
                   const struct sql_params *p, struct sql_row *row)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, g, id, p, &c, &s);
    if (status != GH_OK)
        return status;
    *row = (struct sql_row){.ops = &row_ops, .result = s, .conn = c};
    if ((status = row_next(row)) != GH_OK)
        sqlite3_reset(s);
    return status;
}

/* ---- transactions ---- */

static gh_status sq_begin(struct store *st)
{
    return sq_exec(st, &conn_sql, BEGIN, NULL, false);
}

static gh_status sq_commit(struct store *st)
{
    return sq_exec(st, &conn_sql, COMMIT, NULL, false);
}

static void sq_rollback(struct store *st)
{
    struct conn *c = thread_conn_peek(&sql_store_of(st)->conns);
    if (c && !sqlite3_get_autocommit(c->db)) {
        gh_status status = sq_exec(st, &conn_sql, ROLLBACK, NULL, false);
        (void)status; /* a failure is logged; the caller has nothing left to undo */
    }
}

/* ---- migrations ---- */

struct migration {
    int version;
    const char *sql;
};

static const struct migration migrations[] = {
    {1, embed_sqlite_0001_start}, {2, embed_sqlite_0002_start}, {3, embed_sqlite_0003_start},
    {4, embed_sqlite_0004_start}, {5, embed_sqlite_0005_start}, {6, embed_sqlite_0006_start},
    {7, embed_sqlite_0007_start}, {8, embed_sqlite_0008_start}, {9, embed_sqlite_0009_start},
};

static gh_status exec_sql(sqlite3 *db, const char *text)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, text, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_msg(LOG_ERROR, "sqlite migration: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return map_rc(NULL, rc);
    }
    return GH_OK;
}

/* Applies one migration and records it, in one transaction; skips it if already applied. */
static gh_status apply_migration(sqlite3 *db, const struct migration *m)
{
    sqlite3_stmt *s = NULL;
    gh_status st = exec_sql(db, "BEGIN IMMEDIATE");
    if (st != GH_OK)
        return st;
    int rc =
        sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1, &s, NULL);
    if (rc != SQLITE_OK) {
        st = map_rc(db, rc);
        goto out;
    }
    sqlite3_bind_int(s, 1, m->version);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        goto out; /* applied already */
    if (rc != SQLITE_DONE) {
        st = map_rc(db, rc);
        goto out;
    }
    if ((st = exec_sql(db, m->sql)) != GH_OK)
        goto out;
    char record[160];
    snprintf(record, sizeof record,
             "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, unixepoch())",
             m->version);
    if ((st = exec_sql(db, record)) != GH_OK)
        goto out;
    log_msg(LOG_INFO, "applied migration %d", m->version);
out:
    sqlite3_finalize(s);
    if (st == GH_OK)
        st = exec_sql(db, "COMMIT");
    if (st != GH_OK)
        (void)exec_sql(db, "ROLLBACK");
    return st;
}

static gh_status sq_migrate(struct store *st)
{
    struct conn *c = NULL;
    gh_status status = conn_get(st, &c);
    if (status != GH_OK)
        return status;
    status = exec_sql(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (size_t i = 0; status == GH_OK && i < sizeof migrations / sizeof migrations[0]; i++)
        status = apply_migration(c->db, &migrations[i]);
    return status;
}

/* ---- the store ---- */

/* SQLite takes any id and any bytes as text: both are used as given. */
static bool any_id(const char *id)
{
    (void)id;
    return true;
}

static const char *text_as_is(const char *in, char *out, size_t cap)
{
    (void)out;
    (void)cap;
    return in;
}

static const struct sql_dialect dialect = {
    .exec = sq_exec,
    .query = sq_query,
    .valid_id = any_id,
    .clean_text = text_as_is,
    .migrate = sq_migrate,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .connect = sq_connect,
    .groups =
        {
            [SQL_CONN] = &conn_sql,
            SQL_GROUP_TEXT(sqlite),
        },
};

/* The page cache of the calling thread's connection (up to 2 MiB each), given back. */
static void sq_release_memory(struct store *st)
{
    struct conn *c = NULL;
    if (conn_get(st, &c) == GH_OK)
        sqlite3_db_release_memory(c->db);
}

/* ---- the last lookups of the session check ----
 * A client sends the same cookie or token with every request, and most requests write nothing.
 * Each connection remembers its last session lookup and its last user read by id, and answers
 * the same question from it while nothing was committed since: while the wal-index header is
 * unchanged. Reading the header is what SQLite does first at every read transaction, without a
 * lock; answering from it skips the read transaction's locks (fcntl), the B-tree descents and
 * the row's decoding. */

/* What the members' lookups do: the queries, not remembered. The same for every SQLite store. */
static gh_status (*query_session)(struct store *, const char *, int64_t, struct session *,
                                  struct user *);
static gh_status (*query_user_by_id)(struct store *, const char *, struct user *);

/* Finds the connection's wal-index: the database file's shared memory, through the VFS's own
 * xShmMap, which hands back the region SQLite mapped for the connection at its first read. A
 * database that is not in WAL mode (or a VFS without shared memory) has none. */
static void find_wal_index(struct conn *c)
{
    sqlite3_stmt *mode = NULL;
    sqlite3_file *file = NULL;
    void volatile *region = NULL;
    if (sqlite3_prepare_v2(c->db, "PRAGMA main.journal_mode", -1, &mode, NULL) != SQLITE_OK ||
        sqlite3_step(mode) != SQLITE_ROW)
        goto out; /* asked again at the next lookup */
    const unsigned char *name = sqlite3_column_text(mode, 0);
    c->no_wal_index =
        !name || strcmp((const char *)name, "wal") ||
        sqlite3_file_control(c->db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
        !file || !file->pMethods || file->pMethods->iVersion < 2 || !file->pMethods->xShmMap;
    /* Not mapped yet (a new database before its first write): asked again at the next lookup. */
    if (!c->no_wal_index &&
        file->pMethods->xShmMap(file, 0, WAL_INDEX_REGION, 0, &region) == SQLITE_OK)
        c->wal_index = region;
out:
    sqlite3_finalize(mode);
}

/* Copies the wal-index header as SQLite reads it (walIndexTryHdr): the first copy, a barrier,
 * the second. A commit writes them in the other order, so equal copies are a whole header;
 * unequal ones are a commit being written, and then false. */
static bool read_wal_header(const volatile uint32_t *index, uint32_t out[WAL_HEADER_WORDS])
{
    uint32_t second[WAL_HEADER_WORDS];
    for (int i = 0; i < WAL_HEADER_WORDS; i++)
        out[i] = __atomic_load_n(&index[i], __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (int i = 0; i < WAL_HEADER_WORDS; i++)
        second[i] = __atomic_load_n(&index[WAL_HEADER_WORDS + i], __ATOMIC_RELAXED);
    return !memcmp(out, second, sizeof second) && out[0] == WAL_HEADER_VERSION &&
           ((const unsigned char *)out)[WAL_HEADER_IS_INIT_BYTE] == 1;
}

/* This thread's connection and the state of the database as it sees it now, read before the
 * query so that a commit in between makes the remembered answer older, never newer, than its
 * state. The state is not valid inside a transaction (the connection's own writes are not
 * committed yet, so the tables are asked), without a wal-index, or while a commit writes it. */
static gh_status read_state_now(struct store *st, struct conn **cp, struct read_state *out)
{
    gh_status status = conn_get(st, cp);
    *out = (struct read_state){0};
    if (status != GH_OK || !sqlite3_get_autocommit((*cp)->db))
        return status;
    struct conn *c = *cp;
    if (!c->wal_index && !c->no_wal_index)
        find_wal_index(c);
    if (c->wal_index)
        out->valid = read_wal_header(c->wal_index, out->wal_header);
    return status;
}

/* True when an answer read in state then is still the answer in state now. */
static bool unchanged_since(const struct read_state *then, const struct read_state *now)
{
    return then->valid && now->valid &&
           !memcmp(then->wal_header, now->wal_header, sizeof now->wal_header);
}

/* A session and its user, as the query would answer them; the session's expiry is checked at
 * every lookup. */
static gh_status sq_session_lookup(struct store *st, const char *token_hash, int64_t now,
                                   struct session *s, struct user *u)
{
    struct conn *c = NULL;
    struct read_state state;
    gh_status status = read_state_now(st, &c, &state);
    if (status != GH_OK)
        return status;
    struct last_session *last = &c->last_session;
    if (unchanged_since(&last->read, &state) && !strcmp(last->session.token_hash, token_hash)) {
        if (last->session.expires_at <= now)
            return GH_NOT_FOUND;
        *s = last->session;
        *u = last->user;
        return GH_OK;
    }
    last->read.valid = false;
    if ((status = query_session(st, token_hash, now, s, u)) == GH_OK) {
        last->session = *s;
        last->user = *u;
        last->read = state;
    }
    return status;
}

/* A user by id, as the query would answer it: what every Bearer request reads. */
static gh_status sq_user_by_id(struct store *st, const char *id, struct user *u)
{
    struct conn *c = NULL;
    struct read_state state;
    gh_status status = read_state_now(st, &c, &state);
    if (status != GH_OK)
        return status;
    struct last_user *last = &c->last_user;
    if (unchanged_since(&last->read, &state) && !strcmp(last->user.id, id)) {
        *u = last->user;
        return GH_OK;
    }
    last->read.valid = false;
    if ((status = query_user_by_id(st, id, u)) == GH_OK) {
        last->user = *u;
        last->read = state;
    }
    return status;
}

gh_status store_sqlite_open(const char *path, struct store **out)
{
    /* Before the library's first use: no global lock around every allocation for statistics
     * nobody reads (later calls, as in the tests that open many stores, change nothing). */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    gh_status st = sql_store_open(path, &dialect, conn_open, conn_free, out);
    if (st == GH_OK) {
        (*out)->release_memory = sq_release_memory;
        query_session = (*out)->session_lookup;
        (*out)->session_lookup = sq_session_lookup;
        query_user_by_id = (*out)->user_by_id;
        (*out)->user_by_id = sq_user_by_id;
    }
    return st;
}
