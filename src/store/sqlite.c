/* The SQLite implementation of the store: one connection per thread (WAL, busy timeout),
 * prepared statements cached per connection, migrations embedded in the binary. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../embed.h"
#include "../util/log.h"
#include "../util/thread_conn.h"
#include "store.h"

enum stmt_id {
    ST_USER_INSERT,
    ST_PROFILE_INSERT,
    ST_USER_BY_EMAIL,
    ST_USER_BY_ID,
    ST_USER_ACTIVATE,
    ST_USER_SET_PASSWORD,
    ST_USER_UPDATE,
    ST_PROFILE_UPDATE,
    ST_SESSION_INSERT,
    ST_SESSION_LOOKUP,
    ST_SESSION_DELETE,
    ST_SESSION_TOUCH,
    ST_SESSION_LIST,
    ST_SESSION_DELETE_ALL,
    ST_SESSION_DELETE_ALL_BUT,
    ST_ONETIME_PEEK,
    ST_ONETIME_INSERT,
    ST_ONETIME_CONSUME,
    ST_ONETIME_REVOKE_ALL,
    ST_OUTBOX_INSERT,
    ST_OUTBOX_REQUEST,
    ST_OUTBOX_CLAIM,
    ST_OUTBOX_RESOLVE,
    ST_OUTBOX_DISCARD,
    ST_OUTBOX_SENT,
    ST_OUTBOX_RETRY,
    ST_OUTBOX_PENDING,
    ST_AUDIT_INSERT,
    ST_RATE_HIT,
    ST_RATE_PEEK,
    ST_RATE_REFUND,
    ST_RATE_CLEAR,
    ST_SECRET_INSERT,
    ST_SECRET_GET,
    ST_PURGE_SESSIONS,
    ST_PURGE_TOKENS,
    ST_PURGE_RATES,
    ST_PING,
    ST_READY_WRITE,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_COUNT
};

#define USER_COLUMNS                                                                               \
    "u.id, u.email, u.password_hash, u.first_name, u.last_name, u.is_active, u.is_staff, "         \
    "u.is_superuser, u.thumbnail, u.date_joined, p.id, p.phone_number, p.birth_date, "             \
    "p.github_link"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_USER_INSERT] = "INSERT INTO users (id, email, password_hash, first_name, last_name, "
                       "is_active, is_staff, is_superuser, thumbnail, date_joined) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULLIF(?9, ''), ?10) "
                       "ON CONFLICT DO NOTHING",
    [ST_PROFILE_INSERT] = "INSERT INTO user_profiles (id, user_id, phone_number, birth_date, "
                          "github_link) VALUES (?1, ?2, NULLIF(?3, ''), NULLIF(?4, ''), "
                          "NULLIF(?5, ''))",
    [ST_USER_BY_EMAIL] = "SELECT " USER_COLUMNS " FROM users u JOIN user_profiles p ON "
                         "p.user_id = u.id WHERE u.email = ?1",
    [ST_USER_BY_ID] = "SELECT " USER_COLUMNS " FROM users u JOIN user_profiles p ON "
                      "p.user_id = u.id WHERE u.id = ?1",
    [ST_USER_ACTIVATE] = "UPDATE users SET is_active = 1 WHERE id = ?1",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
    [ST_USER_UPDATE] = "UPDATE users SET first_name = ?2, last_name = ?3, "
                       "thumbnail = NULLIF(?4, '') WHERE id = ?1",
    [ST_PROFILE_UPDATE] = "UPDATE user_profiles SET phone_number = NULLIF(?2, ''), "
                          "birth_date = NULLIF(?3, ''), github_link = NULLIF(?4, '') "
                          "WHERE user_id = ?1",
    [ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
    [ST_SESSION_LIST] = "SELECT token_hash, id, user_id, created_at, expires_at, last_seen_at, "
                        "ip, user_agent FROM sessions WHERE user_id = ?1 AND expires_at > ?2 "
                        "ORDER BY created_at DESC, id LIMIT ?3",
    [ST_SESSION_DELETE_ALL] = "DELETE FROM sessions WHERE user_id = ?1",
    [ST_SESSION_DELETE_ALL_BUT] = "DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2",
    [ST_ONETIME_PEEK] = "SELECT user_id FROM one_time_tokens WHERE token_hash = ?1 AND "
                        "purpose = ?2 AND used_at IS NULL AND expires_at > ?3",
    [ST_RATE_HIT] = "INSERT INTO rate_limits (key, count, expires_at) VALUES (?1, 1, ?3 + ?2) "
                    "ON CONFLICT (key) DO UPDATE SET "
                    "count = CASE WHEN expires_at <= ?3 THEN 1 ELSE count + 1 END, "
                    "expires_at = CASE WHEN expires_at <= ?3 THEN ?3 + ?2 ELSE expires_at END "
                    "RETURNING count, expires_at",
    [ST_RATE_PEEK] = "SELECT count, expires_at FROM rate_limits WHERE key = ?1 AND "
                     "expires_at > ?2",
    [ST_RATE_REFUND] = "UPDATE rate_limits SET count = count - 1 WHERE key = ?1 AND "
                       "expires_at > ?2 AND count > 0",
    [ST_RATE_CLEAR] = "DELETE FROM rate_limits WHERE key = ?1",
    [ST_SECRET_INSERT] = "INSERT INTO server_secrets (name, value, created_at) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (name) DO NOTHING",
    [ST_SECRET_GET] = "SELECT value FROM server_secrets WHERE name = ?1",
    [ST_PURGE_SESSIONS] = "DELETE FROM sessions WHERE expires_at <= ?1",
    [ST_PURGE_TOKENS] = "DELETE FROM one_time_tokens WHERE expires_at <= ?1 - 86400",
    [ST_PURGE_RATES] = "DELETE FROM rate_limits WHERE expires_at <= ?1",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (token_hash, id, user_id, created_at, "
                          "expires_at, last_seen_at, ip, user_agent) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_SESSION_LOOKUP] = "SELECT s.token_hash, s.id, s.user_id, s.created_at, s.expires_at, "
                          "s.last_seen_at, s.ip, s.user_agent, " USER_COLUMNS
                          " FROM sessions s JOIN users u ON u.id = s.user_id "
                          "JOIN user_profiles p ON p.user_id = u.id "
                          "WHERE s.token_hash = ?1 AND s.expires_at > ?2",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",
    [ST_ONETIME_INSERT] = "INSERT INTO one_time_tokens (token_hash, user_id, purpose, "
                          "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_ONETIME_CONSUME] = "UPDATE one_time_tokens SET used_at = ?3 WHERE token_hash = ?1 AND "
                           "purpose = ?2 AND used_at IS NULL AND expires_at > ?3 "
                           "RETURNING user_id",
    [ST_ONETIME_REVOKE_ALL] = "UPDATE one_time_tokens SET used_at = ?3 WHERE user_id = ?1 AND "
                              "purpose = ?2 AND used_at IS NULL",
    [ST_OUTBOX_INSERT] = "INSERT INTO mail_outbox (recipient, subject, text_body, html_body, "
                         "next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    [ST_OUTBOX_REQUEST] = "INSERT INTO mail_outbox (recipient, request, subject, text_body, "
                          "html_body, next_attempt_at, created_at) "
                          "VALUES (?1, ?2, '', '', '', ?3, ?3)",
    [ST_OUTBOX_CLAIM] = "UPDATE mail_outbox SET next_attempt_at = ?2, attempts = attempts + 1 "
                        "WHERE id = (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND "
                        "next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT 1) "
                        "RETURNING id, recipient, subject, text_body, html_body, attempts, "
                        "created_at, request",
    [ST_OUTBOX_RESOLVE] = "UPDATE mail_outbox SET request = NULL, subject = ?2, text_body = ?3, "
                          "html_body = ?4 WHERE id = ?1 AND request IS NOT NULL",
    [ST_OUTBOX_DISCARD] = "DELETE FROM mail_outbox WHERE id = ?1 AND request IS NOT NULL",
    [ST_OUTBOX_SENT] = "UPDATE mail_outbox SET sent_at = ?2, last_error = NULL, text_body = '', "
                       "html_body = '' WHERE id = ?1",
    [ST_OUTBOX_RETRY] = "UPDATE mail_outbox SET next_attempt_at = ?2, last_error = ?3 "
                        "WHERE id = ?1",
    [ST_OUTBOX_PENDING] = "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL",
    [ST_AUDIT_INSERT] = "INSERT INTO audit_log (created_at, event, user_id, email, ip, "
                        "user_agent, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_PING] = "SELECT 1",
    [ST_READY_WRITE] = "UPDATE readiness SET checked_at = ?1, probes = probes + 1 WHERE id = 1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct migration {
    int version;
    const char *sql;
};

/* A connection owned by one thread. */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
};

struct sqlite_store {
    struct store base;
    char *path;
    struct thread_conns conns;
};

static struct sqlite_store *impl_of(struct store *st)
{
    return (struct sqlite_store *)st;
}

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

static void conn_free(void *conn)
{
    struct conn *c = conn;
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    free(c);
}

/* Opens a connection for the calling thread (thread_conn_open_fn). */
static gh_status conn_open(void *owner, void **out)
{
    struct sqlite_store *s = owner;
    struct conn *c = calloc(1, sizeof *c);
    gh_status st = GH_NO_MEMORY;
    if (!c)
        goto out;
    int rc = sqlite3_open_v2(
        s->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        st = map_rc(c->db, rc);
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1); /* so unique violations are told apart */
    sqlite3_busy_timeout(c->db, 5000);
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
static gh_status conn_get(struct sqlite_store *s, struct conn **out)
{
    void *c = NULL;
    gh_status st = thread_conn_get(&s->conns, &c);
    if (st == GH_OK)
        *out = c;
    return st;
}

/* Returns the cached prepared statement, reset and with bindings cleared. */
static gh_status stmt_get(struct store *st, enum stmt_id id, struct conn **cp, sqlite3_stmt **out)
{
    struct conn *c = NULL;
    gh_status status = conn_get(impl_of(st), &c);
    if (status != GH_OK)
        return status;
    if (!c->stmts[id]) {
        int rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->stmts[id], NULL);
        if (rc != SQLITE_OK)
            return map_rc(c->db, rc);
    }
    sqlite3_reset(c->stmts[id]);
    sqlite3_clear_bindings(c->stmts[id]);
    *cp = c;
    *out = c->stmts[id];
    return GH_OK;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void column_copy(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    size_t n = v ? strlen((const char *)v) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

static char *column_dup(sqlite3_stmt *s, int col)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    return strdup(v ? (const char *)v : "");
}

/* Reads the USER_COLUMNS starting at column `first`. */
static void read_user(sqlite3_stmt *s, int first, struct user *u)
{
    memset(u, 0, sizeof *u);
    column_copy(s, first + 0, u->id, sizeof u->id);
    column_copy(s, first + 1, u->email, sizeof u->email);
    column_copy(s, first + 2, u->password_hash, sizeof u->password_hash);
    column_copy(s, first + 3, u->first_name, sizeof u->first_name);
    column_copy(s, first + 4, u->last_name, sizeof u->last_name);
    u->is_active = sqlite3_column_int(s, first + 5) != 0;
    u->is_staff = sqlite3_column_int(s, first + 6) != 0;
    u->is_superuser = sqlite3_column_int(s, first + 7) != 0;
    column_copy(s, first + 8, u->thumbnail, sizeof u->thumbnail);
    u->date_joined = sqlite3_column_int64(s, first + 9);
    column_copy(s, first + 10, u->profile.id, sizeof u->profile.id);
    column_copy(s, first + 11, u->profile.phone_number, sizeof u->profile.phone_number);
    column_copy(s, first + 12, u->profile.birth_date, sizeof u->profile.birth_date);
    column_copy(s, first + 13, u->profile.github_link, sizeof u->profile.github_link);
}

/* Steps a statement that returns no rows; GH_NOT_FOUND when it changed nothing and
 * must_change is set. */
static gh_status step_done(struct conn *c, sqlite3_stmt *s, bool must_change)
{
    int rc = sqlite3_step(s);
    gh_status st = rc == SQLITE_DONE ? GH_OK : map_rc(c->db, rc);
    if (st == GH_OK && must_change && sqlite3_changes(c->db) == 0)
        st = GH_NOT_FOUND;
    sqlite3_reset(s);
    return st;
}

/* Steps a statement expected to return one row; GH_NOT_FOUND when it returned none.
 * The caller reads the row and then calls sqlite3_reset. */
static gh_status step_row(struct conn *c, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return GH_OK;
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? GH_NOT_FOUND : map_rc(c->db, rc);
}

/* Binds text parameters 1..n and runs a statement that returns no rows. */
static gh_status run_with_texts(struct store *st, enum stmt_id id, bool must_change,
                                const char *const *texts, int n)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, id, &c, &s);
    if (status != GH_OK)
        return status;
    for (int i = 0; i < n; i++)
        bind_text(s, i + 1, texts[i]);
    return step_done(c, s, must_change);
}

static gh_status run_simple(struct store *st, enum stmt_id id)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, id, &c, &s);
    return status == GH_OK ? step_done(c, s, false) : status;
}

static gh_status sq_begin(struct store *st)
{
    return run_simple(st, ST_BEGIN);
}

static gh_status sq_commit(struct store *st)
{
    return run_simple(st, ST_COMMIT);
}

static void sq_rollback(struct store *st)
{
    struct conn *c = NULL;
    if (conn_get(impl_of(st), &c) == GH_OK && !sqlite3_get_autocommit(c->db))
        (void)run_simple(st, ST_ROLLBACK);
}

static gh_status sq_ping(struct store *st)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_PING, &c, &s);
    if (status != GH_OK)
        return status;
    status = step_row(c, s);
    if (status == GH_OK)
        sqlite3_reset(s);
    return status;
}

static gh_status sq_ready_write(struct store *st, int64_t now)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_READY_WRITE, &c, &s);
    if (status != GH_OK)
        return status;
    sqlite3_bind_int64(s, 1, now);
    return step_done(c, s, true);
}

static const struct migration migrations[] = {
    {1, embed_sqlite_0001_start}, {2, embed_sqlite_0002_start}, {3, embed_sqlite_0003_start},
    {4, embed_sqlite_0004_start}, {5, embed_sqlite_0005_start},
};

static gh_status exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
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
    gh_status status = conn_get(impl_of(st), &c);
    if (status != GH_OK)
        return status;
    status = exec_sql(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (size_t i = 0; status == GH_OK && i < sizeof migrations / sizeof migrations[0]; i++)
        status = apply_migration(c->db, &migrations[i]);
    return status;
}

static gh_status sq_user_insert(struct store *st, const struct user *u)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_USER_INSERT, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, u->id);
    bind_text(s, 2, u->email);
    bind_text(s, 3, u->password_hash);
    bind_text(s, 4, u->first_name);
    bind_text(s, 5, u->last_name);
    sqlite3_bind_int(s, 6, u->is_active);
    sqlite3_bind_int(s, 7, u->is_staff);
    sqlite3_bind_int(s, 8, u->is_superuser);
    bind_text(s, 9, u->thumbnail);
    sqlite3_bind_int64(s, 10, u->date_joined);
    /* A taken address inserts nothing: a conflict that leaves the transaction usable. */
    if ((status = step_done(c, s, true)) != GH_OK)
        return status == GH_NOT_FOUND ? GH_CONFLICT : status;
    if ((status = stmt_get(st, ST_PROFILE_INSERT, &c, &s)) != GH_OK)
        return status;
    bind_text(s, 1, u->profile.id);
    bind_text(s, 2, u->id);
    bind_text(s, 3, u->profile.phone_number);
    bind_text(s, 4, u->profile.birth_date);
    bind_text(s, 5, u->profile.github_link);
    return step_done(c, s, false);
}

static gh_status user_query(struct store *st, enum stmt_id id, const char *key, struct user *out)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, id, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, key);
    if ((status = step_row(c, s)) != GH_OK)
        return status;
    read_user(s, 0, out);
    sqlite3_reset(s);
    return GH_OK;
}

static gh_status sq_user_by_email(struct store *st, const char *email, struct user *out)
{
    return user_query(st, ST_USER_BY_EMAIL, email, out);
}

static gh_status sq_user_by_id(struct store *st, const char *id, struct user *out)
{
    return user_query(st, ST_USER_BY_ID, id, out);
}

static gh_status sq_user_activate(struct store *st, const char *id)
{
    const char *args[] = {id};
    return run_with_texts(st, ST_USER_ACTIVATE, true, args, 1);
}

static gh_status sq_session_insert(struct store *st, const struct session *ses)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_SESSION_INSERT, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, ses->token_hash);
    bind_text(s, 2, ses->id);
    bind_text(s, 3, ses->user_id);
    sqlite3_bind_int64(s, 4, ses->created_at);
    sqlite3_bind_int64(s, 5, ses->expires_at);
    sqlite3_bind_int64(s, 6, ses->last_seen_at);
    bind_text(s, 7, ses->ip);
    bind_text(s, 8, ses->user_agent);
    return step_done(c, s, false);
}

/* Reads the session columns (token_hash .. user_agent) starting at column 0. */
static void read_session(sqlite3_stmt *s, struct session *ses)
{
    memset(ses, 0, sizeof *ses);
    column_copy(s, 0, ses->token_hash, sizeof ses->token_hash);
    column_copy(s, 1, ses->id, sizeof ses->id);
    column_copy(s, 2, ses->user_id, sizeof ses->user_id);
    ses->created_at = sqlite3_column_int64(s, 3);
    ses->expires_at = sqlite3_column_int64(s, 4);
    ses->last_seen_at = sqlite3_column_int64(s, 5);
    column_copy(s, 6, ses->ip, sizeof ses->ip);
    column_copy(s, 7, ses->user_agent, sizeof ses->user_agent);
}

static gh_status sq_session_lookup(struct store *st, const char *token_hash, int64_t now,
                                   struct session *ses, struct user *u)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_SESSION_LOOKUP, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, now);
    if ((status = step_row(c, s)) != GH_OK)
        return status;
    read_session(s, ses);
    read_user(s, 8, u);
    sqlite3_reset(s);
    return GH_OK;
}

static gh_status sq_session_delete(struct store *st, const char *token_hash)
{
    const char *args[] = {token_hash};
    return run_with_texts(st, ST_SESSION_DELETE, true, args, 1);
}

static gh_status sq_onetime_insert(struct store *st, const struct onetime *t)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_ONETIME_INSERT, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, t->token_hash);
    bind_text(s, 2, t->user_id);
    bind_text(s, 3, t->purpose);
    sqlite3_bind_int64(s, 4, t->created_at);
    sqlite3_bind_int64(s, 5, t->expires_at);
    return step_done(c, s, false);
}

/* Runs the consume (UPDATE … RETURNING) or peek (SELECT) statement of a token and copies the
 * user id of its one row; GH_NOT_FOUND when there is none. */
static gh_status token_user(struct store *st, enum stmt_id id, const char *token_hash,
                            const char *purpose, int64_t now, char user_id[UUID_LEN + 1])
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, id, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, token_hash);
    bind_text(s, 2, purpose);
    sqlite3_bind_int64(s, 3, now);
    if ((status = step_row(c, s)) != GH_OK)
        return status;
    column_copy(s, 0, user_id, UUID_LEN + 1);
    /* Finish the statement so an update is complete before the caller goes on. */
    while (sqlite3_step(s) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    return GH_OK;
}

static gh_status sq_onetime_consume(struct store *st, const char *token_hash, const char *purpose,
                                    int64_t now, char user_id[UUID_LEN + 1])
{
    return token_user(st, ST_ONETIME_CONSUME, token_hash, purpose, now, user_id);
}

static gh_status sq_onetime_revoke_all(struct store *st, const char *user_id, const char *purpose,
                                       int64_t now)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_ONETIME_REVOKE_ALL, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, user_id);
    bind_text(s, 2, purpose);
    sqlite3_bind_int64(s, 3, now);
    return step_done(c, s, false);
}

static gh_status sq_outbox_insert(struct store *st, const struct mail *m, int64_t now)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_OUTBOX_INSERT, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, m->recipient);
    bind_text(s, 2, m->subject);
    bind_text(s, 3, m->text_body);
    bind_text(s, 4, m->html_body);
    sqlite3_bind_int64(s, 5, now);
    return step_done(c, s, false);
}

static gh_status sq_outbox_request(struct store *st, const char *recipient, const char *request,
                                   int64_t now)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_OUTBOX_REQUEST, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, recipient);
    bind_text(s, 2, request);
    sqlite3_bind_int64(s, 3, now);
    return step_done(c, s, false);
}

static gh_status sq_outbox_resolve(struct store *st, const struct mail *m)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_OUTBOX_RESOLVE, &c, &s);
    if (status != GH_OK)
        return status;
    sqlite3_bind_int64(s, 1, m->id);
    bind_text(s, 2, m->subject);
    bind_text(s, 3, m->text_body);
    bind_text(s, 4, m->html_body);
    return step_done(c, s, true);
}

static gh_status sq_outbox_discard(struct store *st, int64_t id)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_OUTBOX_DISCARD, &c, &s);
    if (status != GH_OK)
        return status;
    sqlite3_bind_int64(s, 1, id);
    return step_done(c, s, true);
}

static gh_status sq_outbox_claim(struct store *st, int64_t now, int64_t lease_until,
                                 struct mail *out)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_OUTBOX_CLAIM, &c, &s);
    if (status != GH_OK)
        return status;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, lease_until);
    if ((status = step_row(c, s)) != GH_OK)
        return status;
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(s, 0);
    column_copy(s, 1, out->recipient, sizeof out->recipient);
    out->subject = column_dup(s, 2);
    out->text_body = column_dup(s, 3);
    out->html_body = column_dup(s, 4);
    out->attempts = sqlite3_column_int(s, 5);
    out->created_at = sqlite3_column_int64(s, 6);
    column_copy(s, 7, out->request, sizeof out->request);
    while (sqlite3_step(s) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    if (!out->subject || !out->text_body || !out->html_body) {
        mail_clear(out);
        return GH_NO_MEMORY;
    }
    return GH_OK;
}

static gh_status sq_outbox_mark_sent(struct store *st, int64_t id, int64_t now)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_OUTBOX_SENT, &c, &s);
    if (status != GH_OK)
        return status;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    return step_done(c, s, true);
}

static gh_status sq_outbox_schedule_retry(struct store *st, int64_t id, int64_t next_attempt_at,
                                          const char *error)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_OUTBOX_RETRY, &c, &s);
    if (status != GH_OK)
        return status;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, next_attempt_at);
    bind_text(s, 3, error);
    return step_done(c, s, true);
}

static gh_status sq_outbox_pending(struct store *st, int64_t *count)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_OUTBOX_PENDING, &c, &s);
    if (status != GH_OK)
        return status;
    if ((status = step_row(c, s)) != GH_OK)
        return status;
    *count = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return GH_OK;
}

static gh_status sq_audit_insert(struct store *st, const struct audit_event *e, int64_t now)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_AUDIT_INSERT, &c, &s);
    if (status != GH_OK)
        return status;
    sqlite3_bind_int64(s, 1, now);
    bind_text(s, 2, e->event);
    bind_text(s, 3, e->user_id);
    bind_text(s, 4, e->email);
    bind_text(s, 5, e->client ? e->client->ip : NULL);
    bind_text(s, 6, e->client ? e->client->user_agent : NULL);
    bind_text(s, 7, e->detail);
    return step_done(c, s, false);
}

static gh_status sq_user_set_password(struct store *st, const char *id, const char *hash)
{
    const char *args[] = {id, hash};
    return run_with_texts(st, ST_USER_SET_PASSWORD, true, args, 2);
}

static gh_status sq_user_update_profile(struct store *st, const struct user *u)
{
    const char *user_args[] = {u->id, u->first_name, u->last_name, u->thumbnail};
    const char *profile_args[] = {u->id, u->profile.phone_number, u->profile.birth_date,
                                  u->profile.github_link};
    gh_status status = run_with_texts(st, ST_USER_UPDATE, true, user_args, 4);
    if (status == GH_OK)
        status = run_with_texts(st, ST_PROFILE_UPDATE, true, profile_args, 4);
    return status;
}

static gh_status sq_session_touch(struct store *st, const char *token_hash, int64_t now)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_SESSION_TOUCH, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, now);
    return step_done(c, s, false);
}

static gh_status sq_session_list(struct store *st, const char *user_id, int64_t now,
                                 struct session *out, size_t cap, size_t *count)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_SESSION_LIST, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, user_id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)cap);
    int rc;
    *count = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *count < cap)
        read_session(s, &out[(*count)++]);
    status = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? GH_OK : map_rc(c->db, rc);
    sqlite3_reset(s);
    return status;
}

static gh_status sq_session_delete_all(struct store *st, const char *user_id, const char *keep)
{
    const char *args[] = {user_id, keep};
    return run_with_texts(st, keep ? ST_SESSION_DELETE_ALL_BUT : ST_SESSION_DELETE_ALL, false, args,
                          keep ? 2 : 1);
}

static gh_status sq_onetime_peek(struct store *st, const char *token_hash, const char *purpose,
                                 int64_t now, char user_id[UUID_LEN + 1])
{
    return token_user(st, ST_ONETIME_PEEK, token_hash, purpose, now, user_id);
}

static gh_status sq_rate_hit(struct store *st, const char *key, int window, int64_t now,
                             int64_t *count, int64_t *window_end)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_RATE_HIT, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, key);
    sqlite3_bind_int(s, 2, window);
    sqlite3_bind_int64(s, 3, now);
    if ((status = step_row(c, s)) != GH_OK)
        return status;
    *count = sqlite3_column_int64(s, 0);
    *window_end = sqlite3_column_int64(s, 1);
    while (sqlite3_step(s) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    return GH_OK;
}

static gh_status sq_rate_peek(struct store *st, const char *key, int64_t now, int64_t *count,
                              int64_t *window_end)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_RATE_PEEK, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, key);
    sqlite3_bind_int64(s, 2, now);
    status = step_row(c, s);
    if (status == GH_NOT_FOUND) {
        *count = 0;
        *window_end = now;
        return GH_OK;
    }
    if (status != GH_OK)
        return status;
    *count = sqlite3_column_int64(s, 0);
    *window_end = sqlite3_column_int64(s, 1);
    sqlite3_reset(s);
    return GH_OK;
}

static gh_status sq_rate_refund(struct store *st, const char *key, int64_t now)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_RATE_REFUND, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, key);
    sqlite3_bind_int64(s, 2, now);
    return step_done(c, s, false);
}

static gh_status sq_rate_clear(struct store *st, const char *key)
{
    const char *args[] = {key};
    return run_with_texts(st, ST_RATE_CLEAR, false, args, 1);
}

static gh_status sq_secret_get_or_create(struct store *st, const char *name, const char *candidate,
                                         int64_t now, char *out, size_t cap)
{
    struct conn *c;
    sqlite3_stmt *s;
    gh_status status = stmt_get(st, ST_SECRET_INSERT, &c, &s);
    if (status != GH_OK)
        return status;
    bind_text(s, 1, name);
    bind_text(s, 2, candidate);
    sqlite3_bind_int64(s, 3, now);
    if ((status = step_done(c, s, false)) != GH_OK)
        return status;
    if ((status = stmt_get(st, ST_SECRET_GET, &c, &s)) != GH_OK)
        return status;
    bind_text(s, 1, name);
    if ((status = step_row(c, s)) != GH_OK)
        return status == GH_NOT_FOUND ? GH_INTERNAL : status;
    const unsigned char *v = sqlite3_column_text(s, 0);
    status = str_copy(out, cap, v ? (const char *)v : "") == GH_OK ? GH_OK : GH_INTERNAL;
    sqlite3_reset(s);
    return status;
}

static gh_status sq_purge_expired(struct store *st, int64_t now)
{
    static const enum stmt_id purges[] = {ST_PURGE_SESSIONS, ST_PURGE_TOKENS, ST_PURGE_RATES};
    gh_status status = GH_OK;
    for (size_t i = 0; status == GH_OK && i < sizeof purges / sizeof purges[0]; i++) {
        struct conn *c;
        sqlite3_stmt *s;
        status = stmt_get(st, purges[i], &c, &s);
        if (status != GH_OK)
            break;
        sqlite3_bind_int64(s, 1, now);
        status = step_done(c, s, false);
    }
    return status;
}

static void sq_close(struct store *st)
{
    struct sqlite_store *s = impl_of(st);
    if (!s)
        return;
    thread_conns_close(&s->conns);
    free(s->path);
    free(s);
}

gh_status store_sqlite_open(const char *path, struct store **out)
{
    struct sqlite_store *s = calloc(1, sizeof *s);
    struct conn *c = NULL;
    gh_status st = GH_NO_MEMORY;
    if (!s || !(s->path = strdup(path)))
        goto fail;
    if ((st = thread_conns_init(&s->conns, s, conn_open, conn_free)) != GH_OK)
        goto fail;
    s->base = (struct store){
        .impl = s,
        .migrate = sq_migrate,
        .ping = sq_ping,
        .ready_write = sq_ready_write,
        .begin = sq_begin,
        .commit = sq_commit,
        .rollback = sq_rollback,
        .close = sq_close,
        .user_insert = sq_user_insert,
        .user_by_email = sq_user_by_email,
        .user_by_id = sq_user_by_id,
        .user_activate = sq_user_activate,
        .user_set_password = sq_user_set_password,
        .user_update_profile = sq_user_update_profile,
        .session_insert = sq_session_insert,
        .session_lookup = sq_session_lookup,
        .session_delete = sq_session_delete,
        .session_touch = sq_session_touch,
        .session_list = sq_session_list,
        .session_delete_all = sq_session_delete_all,
        .onetime_peek = sq_onetime_peek,
        .onetime_insert = sq_onetime_insert,
        .onetime_consume = sq_onetime_consume,
        .onetime_revoke_all = sq_onetime_revoke_all,
        .outbox_insert = sq_outbox_insert,
        .outbox_request = sq_outbox_request,
        .outbox_claim = sq_outbox_claim,
        .outbox_resolve = sq_outbox_resolve,
        .outbox_discard = sq_outbox_discard,
        .outbox_mark_sent = sq_outbox_mark_sent,
        .outbox_schedule_retry = sq_outbox_schedule_retry,
        .outbox_pending = sq_outbox_pending,
        .audit_insert = sq_audit_insert,
        .rate_hit = sq_rate_hit,
        .rate_peek = sq_rate_peek,
        .rate_refund = sq_rate_refund,
        .rate_clear = sq_rate_clear,
        .secret_get_or_create = sq_secret_get_or_create,
        .purge_expired = sq_purge_expired,
    };
    /* Open one connection now so a bad path fails at start, not at the first request. */
    if ((st = conn_get(s, &c)) != GH_OK) {
        sq_close(&s->base);
        return st;
    }
    *out = &s->base;
    return GH_OK;
fail:
    if (s)
        free(s->path);
    free(s);
    return st;
}
