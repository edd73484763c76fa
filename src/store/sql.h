/* What the two SQL backends of the store (store/sqlite/, store/postgres/) share: the store
 * itself with its connections, the table groups their statements are filed under, bounded
 * parameter lists, the check of text from outside, a row that either backend's result can be
 * read through, the dialect through which the members of store/members/ run either backend's
 * statements, and each record's column list with the one reader of it. */
#ifndef GH_STORE_SQL_H
#define GH_STORE_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../records.h"
#include "../util/status.h"
#include "../util/thread_conn.h"
#include "store.h"

/* ---- the store ---- */

struct sql_dialect;

/* A SQL store: the struct store, its backend's dialect, where its database is, and one
 * connection per thread. */
struct sql_store {
    struct store base;
    const struct sql_dialect *dialect;
    char *location; /* SQLite: the database file; PostgreSQL: the URL */
    struct thread_conns conns;
};

/* Opens a store for location in dialect d, whose threads' connections open_conn opens and
 * close_conn frees (each given the struct sql_store as owner), and opens the calling thread's
 * connection so that a bad location fails at start, not at the first request. Fills every
 * member: ping and those of every table group (store/members/) once for both backends, the
 * migrations and transactions from d. GH_INTERNAL when d lacks a group's statements. */
GH_MUST_CHECK gh_status sql_store_open(const char *location, const struct sql_dialect *d,
                                       thread_conn_open_fn open_conn,
                                       thread_conn_close_fn close_conn, struct store **out);

/* The store of st. */
static inline struct sql_store *sql_store_of(struct store *st)
{
    return (struct sql_store *)st;
}

/* The close member of both backends: closes every thread's connection and frees the store. */
void sql_store_close(struct store *st);

/* ---- statements, filed by table group ---- */

/* The table groups. Each group has one file of struct store members that run its statements
 * (members/users.c, numbering them in members/members.h), and each backend one file with their
 * SQL text (sqlite/users.c, postgres/users.c). */
enum sql_group {
    SQL_CONN,       /* ping and transactions (conn.c) */
    SQL_USERS,      /* users and user_profiles */
    SQL_SESSIONS,   /* sessions */
    SQL_ONETIME,    /* one_time_tokens */
    SQL_OUTBOX,     /* mail_outbox: mails and mail requests */
    SQL_AUDIT,      /* audit_log */
    SQL_RATE,       /* rate_limits */
    SQL_SERVER,     /* server_secrets, readiness */
    SQL_KEYS,       /* signing_keys */
    SQL_TOKENS,     /* refresh_tokens */
    SQL_CLIENTS,    /* oauth_clients */
    SQL_IDENTITIES, /* oauth_identities */
    SQL_STATES,     /* oauth_states */
    SQL_IMPORT,     /* import_id_map, and users by the scheme of their hash */
    SQL_GROUPS
};

/* The most statements a group may have: a connection keeps its prepared statements in a
 * [SQL_GROUPS][SQL_GROUP_MAX] table, and each group file asserts that it fits. */
#define SQL_GROUP_MAX 10

/* A group's statements: text[i] is the SQL of statement i, numbered by the group's enum of
 * members/members.h. */
struct sql_statements {
    enum sql_group group;
    const char *name; /* for log lines */
    int count;
    const char *const *text;
};

/* ---- parameters ---- */

/* The most parameters one statement binds (inserting a user binds 10). */
#define SQL_PARAMS_MAX 12

enum sql_param_type { SQL_PARAM_TEXT, SQL_PARAM_INT, SQL_PARAM_BOOL };

/* A statement's parameters in order ($1 or ?1 first), each added with sql_param_*. Adding one
 * past SQL_PARAMS_MAX writes nothing: it marks the list overflowed, and both backends refuse to
 * run an overflowed list (GH_INTERNAL), so a statement that outgrows the capacity fails on its
 * first run instead of binding a wrong list. Text is borrowed until the statement has run. */
struct sql_params {
    struct sql_param {
        enum sql_param_type type;
        const char *text; /* SQL_PARAM_TEXT; NULL binds SQL NULL */
        int64_t num;      /* SQL_PARAM_INT, and SQL_PARAM_BOOL as 0 or 1 */
    } v[SQL_PARAMS_MAX];
    int n;
    bool overflow;
};

void sql_param_text(struct sql_params *p, const char *v);
void sql_param_int(struct sql_params *p, int64_t v);
void sql_param_bool(struct sql_params *p, bool v);

/* GH_OK when g has a statement id and p (NULL: none) has not overflowed; otherwise
 * GH_INTERNAL, with a log line naming the statement. Both backends check before they run. */
GH_MUST_CHECK gh_status sql_statement_check(const struct sql_statements *g, int id,
                                            const struct sql_params *p);

/* GH_OK when p (NULL: none) binds exactly the `expected` parameters of statement id of g, as
 * the backend counted them; otherwise GH_INTERNAL, with a log line. */
GH_MUST_CHECK gh_status sql_params_match(const struct sql_statements *g, int id,
                                         const struct sql_params *p, int expected);

/* ---- text from outside ---- */

/* True when s is valid UTF-8 of fewer than cap bytes (a NUL within the first cap): text that a
 * record's field of that size holds and that PostgreSQL accepts. Where a column takes text from
 * outside (a provider's subject), both backends refuse other text on insert and miss it on
 * lookup, so that they answer alike (SQLite would store and find invalid UTF-8). */
bool sql_text_fits(const char *s, size_t cap);

/* ---- rows ---- */

struct sql_row;

/* How a backend reads its results (sqlite/conn.c, postgres/conn.c). */
struct sql_row_ops {
    /* Column col as text, "" for NULL; borrowed until the row moves on. */
    const char *(*text)(const struct sql_row *r, int col);
    int64_t (*integer)(const struct sql_row *r, int col);
    bool (*boolean)(const struct sql_row *r, int col);
    /* Moves to the next row: GH_OK on one, GH_NOT_FOUND past the last, or an error. */
    gh_status (*next)(struct sql_row *r);
    /* Finishes the statement (all its changes made) and releases the result. */
    void (*done)(struct sql_row *r);
};

/* The current row of a statement's result, filled by a dialect's query (sq_query, pg_query). */
struct sql_row {
    const struct sql_row_ops *ops;
    void *result; /* sqlite3_stmt or PGresult */
    void *conn;   /* the backend's connection, for errors */
    int row;      /* PostgreSQL: the row of result */
    bool ended;   /* SQLite: the statement has stepped past its last row */
};

static inline const char *sql_text(const struct sql_row *r, int col)
{
    return r->ops->text(r, col);
}

static inline int64_t sql_int(const struct sql_row *r, int col)
{
    return r->ops->integer(r, col);
}

static inline bool sql_bool(const struct sql_row *r, int col)
{
    return r->ops->boolean(r, col);
}

GH_MUST_CHECK static inline gh_status sql_next(struct sql_row *r)
{
    return r->ops->next(r);
}

static inline void sql_done(struct sql_row *r)
{
    r->ops->done(r);
}

/* ---- dialects: what the members of store/members/ run a backend through ---- */

/* A backend's statement runners, its checks of values its database would refuse, its own
 * members of struct store, and its SQL text of every group (sqlite/conn.c, postgres/conn.c). */
struct sql_dialect {
    /* Runs statement id of g with the parameters p (NULL: none) and no result rows. With
     * must_change, GH_NOT_FOUND when it changed no row. */
    gh_status (*exec)(struct store *st, const struct sql_statements *g, int id,
                      const struct sql_params *p, bool must_change);
    /* Runs statement id of g with the parameters p (NULL: none). GH_OK with row on its first
     * result row: read it, sql_next for more, then sql_done. GH_NOT_FOUND when there is no row
     * (nothing to release then). */
    gh_status (*query)(struct store *st, const struct sql_statements *g, int id,
                       const struct sql_params *p, struct sql_row *row);
    /* True when id may be looked up in an id column: PostgreSQL wants a lowercase UUID (its
     * uuid type would refuse other text, or match an upper-case spelling that SQLite would
     * not); SQLite takes anything. */
    bool (*valid_id)(const char *id);
    /* Text as the database takes it: in, or a copy in out (cap bytes) with what the database
     * would refuse replaced (PostgreSQL: invalid UTF-8 by '?'). NULL for a NULL in. */
    const char *(*clean_text)(const char *in, char *out, size_t cap);
    /* The members of struct store that differ by backend: migrations and transactions. */
    gh_status (*migrate)(struct store *st);
    gh_status (*begin)(struct store *st);
    gh_status (*commit)(struct store *st);
    void (*rollback)(struct store *st);
    /* Opens (or checks) the calling thread's connection: GH_OK when it can be used now. */
    gh_status (*connect)(struct store *st);
    /* The SQL text of each group, by enum sql_group. */
    const struct sql_statements *groups[SQL_GROUPS];
};

/* Runs statement id of group g of st's dialect as its exec does. */
GH_MUST_CHECK static inline gh_status sql_exec(struct store *st, enum sql_group g, int id,
                                               const struct sql_params *p, bool must_change)
{
    const struct sql_dialect *d = sql_store_of(st)->dialect;
    return d->exec(st, d->groups[g], id, p, must_change);
}

/* Runs statement id of group g of st's dialect as its query does. */
GH_MUST_CHECK static inline gh_status sql_query(struct store *st, enum sql_group g, int id,
                                                const struct sql_params *p, struct sql_row *row)
{
    const struct sql_dialect *d = sql_store_of(st)->dialect;
    return d->query(st, d->groups[g], id, p, row);
}

/* Whether st's dialect may look up id in an id column (valid_id). */
static inline bool sql_valid_id(struct store *st, const char *id)
{
    return sql_store_of(st)->dialect->valid_id(id);
}

/* in as st's dialect takes it (clean_text), in out (cap bytes) if it must be changed. */
static inline const char *sql_clean_text(struct store *st, const char *in, char *out, size_t cap)
{
    return sql_store_of(st)->dialect->clean_text(in, out, cap);
}

/* Copies column col into dst (cap bytes), cut to fit. */
void sql_copy(const struct sql_row *r, int col, char *dst, size_t cap);

/* ---- records: one column list and one reader each ---- */

/* A user and its profile, from users u JOIN user_profiles p. */
#define SQL_USER_COLUMNS                                                                           \
    "u.id, u.email, u.password_hash, u.first_name, u.last_name, u.is_active, u.is_staff, "         \
    "u.is_superuser, u.thumbnail, u.date_joined, p.id, p.phone_number, p.birth_date, "             \
    "p.github_link"
#define SQL_USER_COLUMN_COUNT 14

/* Reads the SQL_USER_COLUMNS that start at column first. */
void sql_read_user(const struct sql_row *r, int first, struct user *u);

/* A session, from sessions s. */
#define SQL_SESSION_COLUMNS                                                                        \
    "s.token_hash, s.id, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.ip, "            \
    "s.user_agent"
#define SQL_SESSION_COLUMN_COUNT 8

/* Reads the SQL_SESSION_COLUMNS that start at column first. */
void sql_read_session(const struct sql_row *r, int first, struct session *s);

/* A mail or mail request of mail_outbox. */
#define SQL_MAIL_COLUMNS                                                                           \
    "id, recipient, subject, text_body, html_body, attempts, created_at, request"

/* Reads the SQL_MAIL_COLUMNS that start at column first; the strings of m are the caller's
 * (mail_clear). GH_NO_MEMORY, with m cleared, when they cannot be copied. */
GH_MUST_CHECK gh_status sql_read_mail(const struct sql_row *r, int first, struct mail *m);

/* A signing key of signing_keys; a NULL retires_at reads as 0. */
#define SQL_SIGNING_KEY_COLUMNS "kid, alg, private_key, created_at, activates_at, retires_at"

/* Reads the SQL_SIGNING_KEY_COLUMNS that start at column first. */
void sql_read_signing_key(const struct sql_row *r, int first, struct signing_key_row *k);

/* A refresh token of refresh_tokens; NULL text reads as "", a NULL time as 0. */
#define SQL_REFRESH_TOKEN_COLUMNS                                                                  \
    "token_hash, family_id, user_id, client_id, session_hash, created_at, expires_at, "            \
    "rotated_at, revoked_at"

/* Reads the SQL_REFRESH_TOKEN_COLUMNS that start at column first. */
void sql_read_refresh_token(const struct sql_row *r, int first, struct refresh_token *t);

/* An OAuth client of oauth_clients; a NULL secret_hash reads as "". */
#define SQL_CLIENT_COLUMNS "id, name, secret_hash, confidential, grants, created_at"

/* Reads the SQL_CLIENT_COLUMNS that start at column first. */
void sql_read_client(const struct sql_row *r, int first, struct oauth_client *c);

/* An identity at an OpenID Connect provider of oauth_identities; a NULL email reads as "". */
#define SQL_IDENTITY_COLUMNS "provider, subject, user_id, email, created_at"

/* Reads the SQL_IDENTITY_COLUMNS that start at column first. */
void sql_read_identity(const struct sql_row *r, int first, struct oauth_identity *i);

/* A login in progress of oauth_states; a NULL next reads as "". */
#define SQL_STATE_COLUMNS                                                                          \
    "state_hash, binding_hash, provider, code_verifier, nonce, next, created_at, expires_at"

/* Reads the SQL_STATE_COLUMNS that start at column first. */
void sql_read_state(const struct sql_row *r, int first, struct oauth_state *s);

#endif
