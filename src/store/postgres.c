/* The PostgreSQL implementation of the store: one libpq connection per thread, opened on first
 * use, statements prepared once per connection and run with text parameters; migrations
 * embedded in the binary. A broken connection makes the call fail fast with GH_UNAVAILABLE and
 * is reset (at most once a second) by the thread's next call. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    ST_COUNT
};

#define USER_COLUMNS                                                                               \
    "u.id, u.email, u.password_hash, u.first_name, u.last_name, u.is_active, u.is_staff, "         \
    "u.is_superuser, u.thumbnail, u.date_joined, p.id, p.phone_number, p.birth_date, "             \
    "p.github_link"

#define SESSION_COLUMNS                                                                            \
    "s.token_hash, s.id, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.ip, "            \
    "s.user_agent"
#define SESSION_COLUMN_COUNT 8

/* Parameters are sent as text and typed by the casts in the SQL. */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_USER_INSERT] = "INSERT INTO users (id, email, password_hash, first_name, last_name, "
                       "is_active, is_staff, is_superuser, thumbnail, date_joined) "
                       "VALUES ($1::uuid, $2, $3, $4, $5, $6::boolean, $7::boolean, $8::boolean, "
                       "NULLIF($9::text, ''), $10::bigint) ON CONFLICT DO NOTHING",
    [ST_PROFILE_INSERT] = "INSERT INTO user_profiles (id, user_id, phone_number, birth_date, "
                          "github_link) VALUES ($1::uuid, $2::uuid, NULLIF($3::text, ''), "
                          "NULLIF($4::text, ''), NULLIF($5::text, ''))",
    [ST_USER_BY_EMAIL] = "SELECT " USER_COLUMNS " FROM users u JOIN user_profiles p ON "
                         "p.user_id = u.id WHERE lower(u.email) = lower($1::text)",
    [ST_USER_BY_ID] = "SELECT " USER_COLUMNS " FROM users u JOIN user_profiles p ON "
                      "p.user_id = u.id WHERE u.id = $1::uuid",
    [ST_USER_ACTIVATE] = "UPDATE users SET is_active = true WHERE id = $1::uuid",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = $2 WHERE id = $1::uuid",
    [ST_USER_UPDATE] = "UPDATE users SET first_name = $2, last_name = $3, "
                       "thumbnail = NULLIF($4::text, '') WHERE id = $1::uuid",
    [ST_PROFILE_UPDATE] = "UPDATE user_profiles SET phone_number = NULLIF($2::text, ''), "
                          "birth_date = NULLIF($3::text, ''), github_link = NULLIF($4::text, '') "
                          "WHERE user_id = $1::uuid",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (token_hash, id, user_id, created_at, "
                          "expires_at, last_seen_at, ip, user_agent) "
                          "VALUES ($1, $2::uuid, $3::uuid, $4::bigint, $5::bigint, $6::bigint, "
                          "$7, $8)",
    [ST_SESSION_LOOKUP] = "SELECT " SESSION_COLUMNS ", " USER_COLUMNS
                          " FROM sessions s JOIN users u ON u.id = s.user_id "
                          "JOIN user_profiles p ON p.user_id = u.id "
                          "WHERE s.token_hash = $1 AND s.expires_at > $2::bigint",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = $1",
    [ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = $2::bigint WHERE token_hash = $1",
    [ST_SESSION_LIST] = "SELECT " SESSION_COLUMNS " FROM sessions s WHERE s.user_id = $1::uuid "
                        "AND s.expires_at > $2::bigint ORDER BY s.created_at DESC, s.id "
                        "LIMIT $3::bigint",
    [ST_SESSION_DELETE_ALL] = "DELETE FROM sessions WHERE user_id = $1::uuid",
    [ST_SESSION_DELETE_ALL_BUT] = "DELETE FROM sessions WHERE user_id = $1::uuid AND "
                                  "token_hash <> $2",
    [ST_ONETIME_PEEK] = "SELECT user_id FROM one_time_tokens WHERE token_hash = $1 AND "
                        "purpose = $2 AND used_at IS NULL AND expires_at > $3::bigint",
    [ST_ONETIME_INSERT] = "INSERT INTO one_time_tokens (token_hash, user_id, purpose, "
                          "created_at, expires_at) VALUES ($1, $2::uuid, $3, $4::bigint, "
                          "$5::bigint)",
    /* Of two concurrent updates of the row the second waits, re-checks used_at on the row the
     * first committed, and returns nothing. */
    [ST_ONETIME_CONSUME] = "UPDATE one_time_tokens SET used_at = $3::bigint WHERE token_hash = $1 "
                           "AND purpose = $2 AND used_at IS NULL AND expires_at > $3::bigint "
                           "RETURNING user_id",
    [ST_ONETIME_REVOKE_ALL] = "UPDATE one_time_tokens SET used_at = $3::bigint WHERE "
                              "user_id = $1::uuid AND purpose = $2 AND used_at IS NULL",
    [ST_OUTBOX_INSERT] = "INSERT INTO mail_outbox (recipient, subject, text_body, html_body, "
                         "next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5::bigint, "
                         "$5::bigint)",
    [ST_OUTBOX_REQUEST] = "INSERT INTO mail_outbox (recipient, request, subject, text_body, "
                          "html_body, next_attempt_at, created_at) "
                          "VALUES ($1, $2, '', '', '', $3::bigint, $3::bigint)",
    /* SKIP LOCKED: a row another instance is claiming right now is passed over, not waited
     * for; a row it has claimed already no longer matches next_attempt_at <= now. */
    [ST_OUTBOX_CLAIM] = "UPDATE mail_outbox SET next_attempt_at = $2::bigint, "
                        "attempts = attempts + 1 WHERE id = (SELECT id FROM mail_outbox "
                        "WHERE sent_at IS NULL AND next_attempt_at <= $1::bigint "
                        "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                        "RETURNING id, recipient, subject, text_body, html_body, attempts, "
                        "created_at, request",
    /* Only a row that is still a request: of two workers resolving it, the second changes
     * nothing. */
    [ST_OUTBOX_RESOLVE] = "UPDATE mail_outbox SET request = NULL, subject = $2, text_body = $3, "
                          "html_body = $4 WHERE id = $1::bigint AND request IS NOT NULL",
    [ST_OUTBOX_DISCARD] = "DELETE FROM mail_outbox WHERE id = $1::bigint AND "
                          "request IS NOT NULL",
    [ST_OUTBOX_SENT] = "UPDATE mail_outbox SET sent_at = $2::bigint, last_error = NULL, "
                       "text_body = '', html_body = '' WHERE id = $1::bigint",
    [ST_OUTBOX_RETRY] = "UPDATE mail_outbox SET next_attempt_at = $2::bigint, last_error = $3 "
                        "WHERE id = $1::bigint",
    [ST_OUTBOX_PENDING] = "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL",
    [ST_AUDIT_INSERT] = "INSERT INTO audit_log (created_at, event, user_id, email, ip, "
                        "user_agent, detail) VALUES ($1::bigint, $2, NULLIF($3::text, '')::uuid, "
                        "$4, $5, $6, $7)",
    [ST_RATE_HIT] = "INSERT INTO rate_limits AS r (key, count, expires_at) "
                    "VALUES ($1, 1, $3::bigint + $2::bigint) ON CONFLICT (key) DO UPDATE SET "
                    "count = CASE WHEN r.expires_at <= $3::bigint THEN 1 ELSE r.count + 1 END, "
                    "expires_at = CASE WHEN r.expires_at <= $3::bigint "
                    "THEN $3::bigint + $2::bigint ELSE r.expires_at END "
                    "RETURNING count, expires_at",
    [ST_RATE_PEEK] = "SELECT count, expires_at FROM rate_limits WHERE key = $1 AND "
                     "expires_at > $2::bigint",
    [ST_RATE_REFUND] = "UPDATE rate_limits SET count = count - 1 WHERE key = $1 AND "
                       "expires_at > $2::bigint AND count > 0",
    [ST_RATE_CLEAR] = "DELETE FROM rate_limits WHERE key = $1",
    /* A concurrent insert of the same name waits for the first to commit, then does nothing;
     * the SELECT, a statement of its own, sees the committed row. */
    [ST_SECRET_INSERT] = "INSERT INTO server_secrets (name, value, created_at) "
                         "VALUES ($1, $2, $3::bigint) ON CONFLICT (name) DO NOTHING",
    [ST_SECRET_GET] = "SELECT value FROM server_secrets WHERE name = $1",
    [ST_PURGE_SESSIONS] = "DELETE FROM sessions WHERE expires_at <= $1::bigint",
    [ST_PURGE_TOKENS] = "DELETE FROM one_time_tokens WHERE expires_at <= $1::bigint - 86400",
    [ST_PURGE_RATES] = "DELETE FROM rate_limits WHERE expires_at <= $1::bigint",
    [ST_PING] = "SELECT 1",
    [ST_READY_WRITE] = "UPDATE readiness SET checked_at = $1::bigint, probes = probes + 1 "
                       "WHERE id = 1",
};

struct migration {
    int version;
    const char *sql;
};

static const struct migration migrations[] = {
    {1, embed_postgres_0001_start}, {2, embed_postgres_0002_start}, {3, embed_postgres_0003_start},
    {4, embed_postgres_0004_start}, {5, embed_postgres_0005_start},
};

/* Serialises migrations of instances starting at the same time (any fixed number will do). */
#define MIGRATION_LOCK_KEY "7450488393542283635"

/* A connection owned by one thread. */
struct conn {
    PGconn *pg;
    bool prepared[ST_COUNT];
    bool in_tx;          /* between begin and commit/rollback */
    int64_t reset_after; /* monotonic second before which a broken connection is not reset */
};

struct pg_store {
    struct store base;
    char *url;
    struct thread_conns conns;
};

static struct pg_store *impl_of(struct store *st)
{
    return (struct pg_store *)st;
}

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
    struct pg_store *s = owner;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return GH_NO_MEMORY;
    /* Entries before dbname are defaults the URL may override. */
    const char *const keys[] = {"connect_timeout", "options", "application_name", "dbname", NULL};
    const char *const values[] = {"3", "-c statement_timeout=5000", "gatehouse", s->url, NULL};
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

/* Returns this thread's connection to the store, opening it on first use and resetting it when
 * it broke; GH_UNAVAILABLE when the database cannot be reached now. A connection that broke
 * inside a transaction is not reset before rollback: the transaction's work is gone, and
 * running its remaining statements outside a transaction would be wrong. */
static gh_status conn_get(struct pg_store *s, struct conn **out)
{
    void *opened = NULL;
    gh_status st = thread_conn_get(&s->conns, &opened);
    if (st != GH_OK)
        return st;
    struct conn *c = opened;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        int64_t now = monotonic_seconds();
        if (c->in_tx || now < c->reset_after)
            return GH_UNAVAILABLE;
        c->reset_after = now + 1;
        memset(c->prepared, 0, sizeof c->prepared);
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

/* Up to 10 parameters, each as text; integers are formatted into the struct's own buffers. */
struct params {
    const char *values[10];
    char numbers[10][24];
    int n;
};

static void p_text(struct params *p, const char *v)
{
    p->values[p->n++] = v;
}

static void p_int(struct params *p, int64_t v)
{
    snprintf(p->numbers[p->n], sizeof p->numbers[p->n], "%lld", (long long)v);
    p->values[p->n] = p->numbers[p->n];
    p->n++;
}

static void p_bool(struct params *p, bool v)
{
    p_text(p, v ? "t" : "f");
}

/* Runs a prepared statement; on GH_OK *out holds the result (the caller PQclears it). */
static gh_status run(struct store *st, enum stmt_id id, const struct params *p, PGresult **out)
{
    struct conn *c = NULL;
    gh_status status = conn_get(impl_of(st), &c);
    if (status != GH_OK)
        return status;
    char name[16];
    snprintf(name, sizeof name, "s%d", (int)id);
    if (!c->prepared[id]) {
        PGresult *res = PQprepare(c->pg, name, stmt_sql[id], 0, NULL);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            status = map_error(c, res);
            PQclear(res);
            return status;
        }
        PQclear(res);
        c->prepared[id] = true;
    }
    PGresult *res = PQexecPrepared(c->pg, name, p ? p->n : 0, p ? p->values : NULL, NULL, NULL, 0);
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        status = map_error(c, res);
        PQclear(res);
        return status;
    }
    *out = res;
    return GH_OK;
}

/* Runs a statement that returns no rows; GH_NOT_FOUND when it changed nothing and must_change
 * is set. */
static gh_status run_done(struct store *st, enum stmt_id id, const struct params *p,
                          bool must_change)
{
    PGresult *res = NULL;
    gh_status status = run(st, id, p, &res);
    if (status != GH_OK)
        return status;
    if (must_change && !strcmp(PQcmdTuples(res), "0"))
        status = GH_NOT_FOUND;
    PQclear(res);
    return status;
}

/* Runs a statement expected to return a row; GH_NOT_FOUND when it returned none. On GH_OK the
 * caller reads row 0 of *out and PQclears it. */
static gh_status run_row(struct store *st, enum stmt_id id, const struct params *p, PGresult **out)
{
    PGresult *res = NULL;
    gh_status status = run(st, id, p, &res);
    if (status != GH_OK)
        return status;
    if (PQntuples(res) < 1) {
        PQclear(res);
        return GH_NOT_FOUND;
    }
    *out = res;
    return GH_OK;
}

static void col_copy(const PGresult *r, int row, int col, char *dst, size_t cap)
{
    const char *v = PQgetvalue(r, row, col);
    size_t n = v ? strlen(v) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

static char *col_dup(const PGresult *r, int row, int col)
{
    const char *v = PQgetvalue(r, row, col);
    return strdup(v ? v : "");
}

static int64_t col_int(const PGresult *r, int row, int col)
{
    const char *v = PQgetvalue(r, row, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

static bool col_bool(const PGresult *r, int row, int col)
{
    const char *v = PQgetvalue(r, row, col);
    return v && v[0] == 't';
}

/* Reads the USER_COLUMNS starting at column `first`. */
static void read_user(const PGresult *r, int row, int first, struct user *u)
{
    memset(u, 0, sizeof *u);
    col_copy(r, row, first + 0, u->id, sizeof u->id);
    col_copy(r, row, first + 1, u->email, sizeof u->email);
    col_copy(r, row, first + 2, u->password_hash, sizeof u->password_hash);
    col_copy(r, row, first + 3, u->first_name, sizeof u->first_name);
    col_copy(r, row, first + 4, u->last_name, sizeof u->last_name);
    u->is_active = col_bool(r, row, first + 5);
    u->is_staff = col_bool(r, row, first + 6);
    u->is_superuser = col_bool(r, row, first + 7);
    col_copy(r, row, first + 8, u->thumbnail, sizeof u->thumbnail);
    u->date_joined = col_int(r, row, first + 9);
    col_copy(r, row, first + 10, u->profile.id, sizeof u->profile.id);
    col_copy(r, row, first + 11, u->profile.phone_number, sizeof u->profile.phone_number);
    col_copy(r, row, first + 12, u->profile.birth_date, sizeof u->profile.birth_date);
    col_copy(r, row, first + 13, u->profile.github_link, sizeof u->profile.github_link);
}

/* Reads the SESSION_COLUMNS starting at column 0. */
static void read_session(const PGresult *r, int row, struct session *ses)
{
    memset(ses, 0, sizeof *ses);
    col_copy(r, row, 0, ses->token_hash, sizeof ses->token_hash);
    col_copy(r, row, 1, ses->id, sizeof ses->id);
    col_copy(r, row, 2, ses->user_id, sizeof ses->user_id);
    ses->created_at = col_int(r, row, 3);
    ses->expires_at = col_int(r, row, 4);
    ses->last_seen_at = col_int(r, row, 5);
    col_copy(r, row, 6, ses->ip, sizeof ses->ip);
    col_copy(r, row, 7, ses->user_agent, sizeof ses->user_agent);
}

/* A UUID in the form gatehouse writes (lowercase, hyphenated). Ids from outside (a URL path)
 * are checked first, so that a malformed one is "not found" instead of a type error, and an
 * upper-case spelling is not found either, as on SQLite (the uuid type would match it). */
static bool is_uuid(const char *s)
{
    if (!s || strlen(s) != UUID_LEN)
        return false;
    for (int i = 0; i < UUID_LEN; i++) {
        char ch = s[i];
        bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
        if (hyphen ? ch != '-' : !hex)
            return false;
    }
    return true;
}

/* Copies in to out (cap bytes), replacing bytes that are not valid UTF-8 by '?': header values
 * such as the user agent may hold any bytes, and PostgreSQL refuses invalid text. */
static const char *utf8_clean(const char *in, char *out, size_t cap)
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

/* ---- connection-level calls ---- */

/* Runs a parameterless command with the simple-query protocol. */
static gh_status exec_simple(struct conn *c, const char *sql, PGresult **keep)
{
    PGresult *res = PQexec(c->pg, sql);
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
    gh_status status = conn_get(impl_of(st), &c);
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
    gh_status status = conn_get(impl_of(st), &c);
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
    struct conn *c = thread_conn_peek(&impl_of(st)->conns);
    if (!c)
        return;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
        (void)exec_simple(c, "ROLLBACK", NULL);
    c->in_tx = false;
}

static gh_status pg_ping(struct store *st)
{
    PGresult *res = NULL;
    gh_status status = run_row(st, ST_PING, NULL, &res);
    if (status == GH_OK)
        PQclear(res);
    return status;
}

static gh_status pg_ready_write(struct store *st, int64_t now)
{
    struct params p = {0};
    p_int(&p, now);
    return run_done(st, ST_READY_WRITE, &p, true);
}

/* Applies one migration and records it, in one transaction; skips it if already applied. */
static gh_status apply_migration(struct conn *c, const struct migration *m)
{
    gh_status st = exec_simple(c, "BEGIN", NULL);
    if (st != GH_OK)
        return st;
    PGresult *res = NULL;
    char sql[200];
    st = exec_simple(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", NULL);
    if (st != GH_OK)
        goto out;
    snprintf(sql, sizeof sql, "SELECT 1 FROM schema_migrations WHERE version = %d", m->version);
    if ((st = exec_simple(c, sql, &res)) != GH_OK)
        goto out;
    bool applied = PQntuples(res) > 0;
    PQclear(res);
    if (applied)
        goto out;
    if ((st = exec_simple(c, m->sql, NULL)) != GH_OK)
        goto out;
    snprintf(sql, sizeof sql,
             "INSERT INTO schema_migrations (version, applied_at) "
             "VALUES (%d, extract(epoch FROM now())::bigint)",
             m->version);
    if ((st = exec_simple(c, sql, NULL)) != GH_OK)
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
    gh_status status = conn_get(impl_of(st), &c);
    if (status != GH_OK)
        return status;
    /* The bookkeeping table is created under the same lock: two instances starting at once
     * would otherwise race on CREATE TABLE IF NOT EXISTS. */
    static const struct migration bookkeeping = {
        0, "CREATE TABLE IF NOT EXISTS schema_migrations ("
           "version integer PRIMARY KEY, applied_at bigint NOT NULL)"};
    if ((status = exec_simple(c, "BEGIN", NULL)) != GH_OK)
        return status;
    status = exec_simple(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", NULL);
    if (status == GH_OK)
        status = exec_simple(c, bookkeeping.sql, NULL);
    if (status == GH_OK)
        status = exec_simple(c, "COMMIT", NULL);
    if (status != GH_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        (void)exec_simple(c, "ROLLBACK", NULL);
    for (size_t i = 0; status == GH_OK && i < sizeof migrations / sizeof migrations[0]; i++)
        status = apply_migration(c, &migrations[i]);
    return status;
}

/* ---- users ---- */

static gh_status pg_user_insert(struct store *st, const struct user *u)
{
    struct params p = {0};
    p_text(&p, u->id);
    p_text(&p, u->email);
    p_text(&p, u->password_hash);
    p_text(&p, u->first_name);
    p_text(&p, u->last_name);
    p_bool(&p, u->is_active);
    p_bool(&p, u->is_staff);
    p_bool(&p, u->is_superuser);
    p_text(&p, u->thumbnail);
    p_int(&p, u->date_joined);
    /* A taken address inserts nothing: a conflict that does not abort the transaction. */
    gh_status status = run_done(st, ST_USER_INSERT, &p, true);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_CONFLICT : status;
    struct params q = {0};
    p_text(&q, u->profile.id);
    p_text(&q, u->id);
    p_text(&q, u->profile.phone_number);
    p_text(&q, u->profile.birth_date);
    p_text(&q, u->profile.github_link);
    return run_done(st, ST_PROFILE_INSERT, &q, false);
}

static gh_status user_query(struct store *st, enum stmt_id id, const char *key, struct user *out)
{
    struct params p = {0};
    p_text(&p, key);
    PGresult *res = NULL;
    gh_status status = run_row(st, id, &p, &res);
    if (status != GH_OK)
        return status;
    read_user(res, 0, 0, out);
    PQclear(res);
    return GH_OK;
}

static gh_status pg_user_by_email(struct store *st, const char *email, struct user *out)
{
    return user_query(st, ST_USER_BY_EMAIL, email, out);
}

static gh_status pg_user_by_id(struct store *st, const char *id, struct user *out)
{
    if (!is_uuid(id))
        return GH_NOT_FOUND;
    return user_query(st, ST_USER_BY_ID, id, out);
}

static gh_status pg_user_activate(struct store *st, const char *id)
{
    if (!is_uuid(id))
        return GH_NOT_FOUND;
    struct params p = {0};
    p_text(&p, id);
    return run_done(st, ST_USER_ACTIVATE, &p, true);
}

static gh_status pg_user_set_password(struct store *st, const char *id, const char *hash)
{
    if (!is_uuid(id))
        return GH_NOT_FOUND;
    struct params p = {0};
    p_text(&p, id);
    p_text(&p, hash);
    return run_done(st, ST_USER_SET_PASSWORD, &p, true);
}

static gh_status pg_user_update_profile(struct store *st, const struct user *u)
{
    if (!is_uuid(u->id))
        return GH_NOT_FOUND;
    struct params p = {0};
    p_text(&p, u->id);
    p_text(&p, u->first_name);
    p_text(&p, u->last_name);
    p_text(&p, u->thumbnail);
    gh_status status = run_done(st, ST_USER_UPDATE, &p, true);
    if (status != GH_OK)
        return status;
    struct params q = {0};
    p_text(&q, u->id);
    p_text(&q, u->profile.phone_number);
    p_text(&q, u->profile.birth_date);
    p_text(&q, u->profile.github_link);
    return run_done(st, ST_PROFILE_UPDATE, &q, true);
}

/* ---- sessions ---- */

static gh_status pg_session_insert(struct store *st, const struct session *ses)
{
    char ip[sizeof ses->ip * 2], agent[sizeof ses->user_agent * 2];
    struct params p = {0};
    p_text(&p, ses->token_hash);
    p_text(&p, ses->id);
    p_text(&p, ses->user_id);
    p_int(&p, ses->created_at);
    p_int(&p, ses->expires_at);
    p_int(&p, ses->last_seen_at);
    p_text(&p, utf8_clean(ses->ip, ip, sizeof ip));
    p_text(&p, utf8_clean(ses->user_agent, agent, sizeof agent));
    return run_done(st, ST_SESSION_INSERT, &p, false);
}

static gh_status pg_session_lookup(struct store *st, const char *token_hash, int64_t now,
                                   struct session *ses, struct user *u)
{
    struct params p = {0};
    p_text(&p, token_hash);
    p_int(&p, now);
    PGresult *res = NULL;
    gh_status status = run_row(st, ST_SESSION_LOOKUP, &p, &res);
    if (status != GH_OK)
        return status;
    read_session(res, 0, ses);
    read_user(res, 0, SESSION_COLUMN_COUNT, u);
    PQclear(res);
    return GH_OK;
}

static gh_status pg_session_delete(struct store *st, const char *token_hash)
{
    struct params p = {0};
    p_text(&p, token_hash);
    return run_done(st, ST_SESSION_DELETE, &p, true);
}

static gh_status pg_session_touch(struct store *st, const char *token_hash, int64_t now)
{
    struct params p = {0};
    p_text(&p, token_hash);
    p_int(&p, now);
    return run_done(st, ST_SESSION_TOUCH, &p, false);
}

static gh_status pg_session_list(struct store *st, const char *user_id, int64_t now,
                                 struct session *out, size_t cap, size_t *count)
{
    *count = 0;
    if (!is_uuid(user_id))
        return GH_OK;
    struct params p = {0};
    p_text(&p, user_id);
    p_int(&p, now);
    p_int(&p, (int64_t)cap);
    PGresult *res = NULL;
    gh_status status = run(st, ST_SESSION_LIST, &p, &res);
    if (status != GH_OK)
        return status;
    int rows = PQntuples(res);
    for (int i = 0; i < rows && *count < cap; i++)
        read_session(res, i, &out[(*count)++]);
    PQclear(res);
    return GH_OK;
}

static gh_status pg_session_delete_all(struct store *st, const char *user_id, const char *keep)
{
    if (!is_uuid(user_id))
        return GH_OK;
    struct params p = {0};
    p_text(&p, user_id);
    if (keep)
        p_text(&p, keep);
    return run_done(st, keep ? ST_SESSION_DELETE_ALL_BUT : ST_SESSION_DELETE_ALL, &p, false);
}

/* ---- one-time tokens ---- */

static gh_status pg_onetime_insert(struct store *st, const struct onetime *t)
{
    struct params p = {0};
    p_text(&p, t->token_hash);
    p_text(&p, t->user_id);
    p_text(&p, t->purpose);
    p_int(&p, t->created_at);
    p_int(&p, t->expires_at);
    return run_done(st, ST_ONETIME_INSERT, &p, false);
}

static gh_status onetime_query(struct store *st, enum stmt_id id, const char *token_hash,
                               const char *purpose, int64_t now, char user_id[UUID_LEN + 1])
{
    struct params p = {0};
    p_text(&p, token_hash);
    p_text(&p, purpose);
    p_int(&p, now);
    PGresult *res = NULL;
    gh_status status = run_row(st, id, &p, &res);
    if (status != GH_OK)
        return status;
    col_copy(res, 0, 0, user_id, UUID_LEN + 1);
    PQclear(res);
    return GH_OK;
}

static gh_status pg_onetime_consume(struct store *st, const char *token_hash, const char *purpose,
                                    int64_t now, char user_id[UUID_LEN + 1])
{
    return onetime_query(st, ST_ONETIME_CONSUME, token_hash, purpose, now, user_id);
}

static gh_status pg_onetime_peek(struct store *st, const char *token_hash, const char *purpose,
                                 int64_t now, char user_id[UUID_LEN + 1])
{
    return onetime_query(st, ST_ONETIME_PEEK, token_hash, purpose, now, user_id);
}

static gh_status pg_onetime_revoke_all(struct store *st, const char *user_id, const char *purpose,
                                       int64_t now)
{
    if (!is_uuid(user_id))
        return GH_OK;
    struct params p = {0};
    p_text(&p, user_id);
    p_text(&p, purpose);
    p_int(&p, now);
    return run_done(st, ST_ONETIME_REVOKE_ALL, &p, false);
}

/* ---- mail outbox ---- */

static gh_status pg_outbox_insert(struct store *st, const struct mail *m, int64_t now)
{
    struct params p = {0};
    p_text(&p, m->recipient);
    p_text(&p, m->subject);
    p_text(&p, m->text_body);
    p_text(&p, m->html_body);
    p_int(&p, now);
    return run_done(st, ST_OUTBOX_INSERT, &p, false);
}

static gh_status pg_outbox_request(struct store *st, const char *recipient, const char *request,
                                   int64_t now)
{
    struct params p = {0};
    p_text(&p, recipient);
    p_text(&p, request);
    p_int(&p, now);
    return run_done(st, ST_OUTBOX_REQUEST, &p, false);
}

static gh_status pg_outbox_resolve(struct store *st, const struct mail *m)
{
    struct params p = {0};
    p_int(&p, m->id);
    p_text(&p, m->subject);
    p_text(&p, m->text_body);
    p_text(&p, m->html_body);
    return run_done(st, ST_OUTBOX_RESOLVE, &p, true);
}

static gh_status pg_outbox_discard(struct store *st, int64_t id)
{
    struct params p = {0};
    p_int(&p, id);
    return run_done(st, ST_OUTBOX_DISCARD, &p, true);
}

static gh_status pg_outbox_claim(struct store *st, int64_t now, int64_t lease_until,
                                 struct mail *out)
{
    struct params p = {0};
    p_int(&p, now);
    p_int(&p, lease_until);
    PGresult *res = NULL;
    gh_status status = run_row(st, ST_OUTBOX_CLAIM, &p, &res);
    if (status != GH_OK)
        return status;
    memset(out, 0, sizeof *out);
    out->id = col_int(res, 0, 0);
    col_copy(res, 0, 1, out->recipient, sizeof out->recipient);
    out->subject = col_dup(res, 0, 2);
    out->text_body = col_dup(res, 0, 3);
    out->html_body = col_dup(res, 0, 4);
    out->attempts = (int)col_int(res, 0, 5);
    out->created_at = col_int(res, 0, 6);
    col_copy(res, 0, 7, out->request, sizeof out->request);
    PQclear(res);
    if (!out->subject || !out->text_body || !out->html_body) {
        mail_clear(out);
        return GH_NO_MEMORY;
    }
    return GH_OK;
}

static gh_status pg_outbox_mark_sent(struct store *st, int64_t id, int64_t now)
{
    struct params p = {0};
    p_int(&p, id);
    p_int(&p, now);
    return run_done(st, ST_OUTBOX_SENT, &p, true);
}

static gh_status pg_outbox_schedule_retry(struct store *st, int64_t id, int64_t next_attempt_at,
                                          const char *error)
{
    char clean[1024];
    struct params p = {0};
    p_int(&p, id);
    p_int(&p, next_attempt_at);
    p_text(&p, utf8_clean(error, clean, sizeof clean));
    return run_done(st, ST_OUTBOX_RETRY, &p, true);
}

static gh_status pg_outbox_pending(struct store *st, int64_t *count)
{
    PGresult *res = NULL;
    gh_status status = run_row(st, ST_OUTBOX_PENDING, NULL, &res);
    if (status != GH_OK)
        return status;
    *count = col_int(res, 0, 0);
    PQclear(res);
    return GH_OK;
}

/* ---- audit, rate limits, expiry ---- */

static gh_status pg_audit_insert(struct store *st, const struct audit_event *e, int64_t now)
{
    char ip[IP_MAX * 2], agent[USER_AGENT_MAX * 2], detail[1024];
    struct params p = {0};
    p_int(&p, now);
    p_text(&p, e->event);
    p_text(&p, is_uuid(e->user_id) ? e->user_id : NULL);
    p_text(&p, e->email);
    p_text(&p, e->client ? utf8_clean(e->client->ip, ip, sizeof ip) : NULL);
    p_text(&p, e->client ? utf8_clean(e->client->user_agent, agent, sizeof agent) : NULL);
    p_text(&p, utf8_clean(e->detail, detail, sizeof detail));
    return run_done(st, ST_AUDIT_INSERT, &p, false);
}

static gh_status pg_rate_hit(struct store *st, const char *key, int window, int64_t now,
                             int64_t *count, int64_t *window_end)
{
    struct params p = {0};
    p_text(&p, key);
    p_int(&p, window);
    p_int(&p, now);
    PGresult *res = NULL;
    gh_status status = run_row(st, ST_RATE_HIT, &p, &res);
    if (status != GH_OK)
        return status;
    *count = col_int(res, 0, 0);
    *window_end = col_int(res, 0, 1);
    PQclear(res);
    return GH_OK;
}

static gh_status pg_rate_peek(struct store *st, const char *key, int64_t now, int64_t *count,
                              int64_t *window_end)
{
    struct params p = {0};
    p_text(&p, key);
    p_int(&p, now);
    PGresult *res = NULL;
    gh_status status = run_row(st, ST_RATE_PEEK, &p, &res);
    if (status == GH_NOT_FOUND) {
        *count = 0;
        *window_end = now;
        return GH_OK;
    }
    if (status != GH_OK)
        return status;
    *count = col_int(res, 0, 0);
    *window_end = col_int(res, 0, 1);
    PQclear(res);
    return GH_OK;
}

static gh_status pg_rate_refund(struct store *st, const char *key, int64_t now)
{
    struct params p = {0};
    p_text(&p, key);
    p_int(&p, now);
    return run_done(st, ST_RATE_REFUND, &p, false);
}

static gh_status pg_rate_clear(struct store *st, const char *key)
{
    struct params p = {0};
    p_text(&p, key);
    return run_done(st, ST_RATE_CLEAR, &p, false);
}

static gh_status pg_secret_get_or_create(struct store *st, const char *name, const char *candidate,
                                         int64_t now, char *out, size_t cap)
{
    struct params p = {0};
    p_text(&p, name);
    p_text(&p, candidate);
    p_int(&p, now);
    gh_status status = run_done(st, ST_SECRET_INSERT, &p, false);
    if (status != GH_OK)
        return status;
    struct params q = {0};
    p_text(&q, name);
    PGresult *res = NULL;
    status = run_row(st, ST_SECRET_GET, &q, &res);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_INTERNAL : status;
    status = str_copy(out, cap, PQgetvalue(res, 0, 0)) == GH_OK ? GH_OK : GH_INTERNAL;
    PQclear(res);
    return status;
}

static gh_status pg_purge_expired(struct store *st, int64_t now)
{
    static const enum stmt_id purges[] = {ST_PURGE_SESSIONS, ST_PURGE_TOKENS, ST_PURGE_RATES};
    gh_status status = GH_OK;
    for (size_t i = 0; status == GH_OK && i < sizeof purges / sizeof purges[0]; i++) {
        struct params p = {0};
        p_int(&p, now);
        status = run_done(st, purges[i], &p, false);
    }
    return status;
}

static void pg_close(struct store *st)
{
    struct pg_store *s = impl_of(st);
    if (!s)
        return;
    thread_conns_close(&s->conns);
    free(s->url);
    free(s);
}

gh_status store_postgres_open(const char *url, struct store **out)
{
    struct pg_store *s = calloc(1, sizeof *s);
    struct conn *c = NULL;
    gh_status st = GH_NO_MEMORY;
    if (!s || !(s->url = strdup(url)) ||
        (st = thread_conns_init(&s->conns, s, conn_open, conn_free)) != GH_OK) {
        if (s)
            free(s->url);
        free(s);
        return st;
    }
    s->base = (struct store){
        .impl = s,
        .migrate = pg_migrate,
        .ping = pg_ping,
        .ready_write = pg_ready_write,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .close = pg_close,
        .user_insert = pg_user_insert,
        .user_by_email = pg_user_by_email,
        .user_by_id = pg_user_by_id,
        .user_activate = pg_user_activate,
        .user_set_password = pg_user_set_password,
        .user_update_profile = pg_user_update_profile,
        .session_insert = pg_session_insert,
        .session_lookup = pg_session_lookup,
        .session_delete = pg_session_delete,
        .session_touch = pg_session_touch,
        .session_list = pg_session_list,
        .session_delete_all = pg_session_delete_all,
        .onetime_peek = pg_onetime_peek,
        .onetime_insert = pg_onetime_insert,
        .onetime_consume = pg_onetime_consume,
        .onetime_revoke_all = pg_onetime_revoke_all,
        .outbox_insert = pg_outbox_insert,
        .outbox_request = pg_outbox_request,
        .outbox_claim = pg_outbox_claim,
        .outbox_resolve = pg_outbox_resolve,
        .outbox_discard = pg_outbox_discard,
        .outbox_mark_sent = pg_outbox_mark_sent,
        .outbox_schedule_retry = pg_outbox_schedule_retry,
        .outbox_pending = pg_outbox_pending,
        .audit_insert = pg_audit_insert,
        .rate_hit = pg_rate_hit,
        .rate_peek = pg_rate_peek,
        .rate_refund = pg_rate_refund,
        .rate_clear = pg_rate_clear,
        .secret_get_or_create = pg_secret_get_or_create,
        .purge_expired = pg_purge_expired,
    };
    /* Connect now so a wrong URL or an unreachable server fails at start. */
    if ((st = conn_get(s, &c)) != GH_OK) {
        pg_close(&s->base);
        return st;
    }
    *out = &s->base;
    return GH_OK;
}
