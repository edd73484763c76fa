/* The in-memory store of the unit tests (fake_store.h): the tables as arrays of rows, the
 * members of struct store on them, transactions by snapshot, fault injection, and the small SQL
 * subset that reads the rows behind the store's back. */
#include "fake_store.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/secret.h"
#include "util/utf8.h"

/* The migrations the SQL backends embed (store/migrations/<backend>/): migrate records as many,
 * so that a new migration fails the contract test here until the fake knows its tables. */
#define MIGRATIONS 9
/* How long a write waits for another connection's transaction, as SQLite's busy timeout. */
#define BUSY_TIMEOUT_SECONDS 5
/* Slots for the members of struct store, all function pointers but impl. */
#define MEMBERS (sizeof(struct store) / sizeof(void *))

/* ---- rows ---- */

struct token_row {
    char token_hash[TOKEN_HASH_LEN + 1];
    char user_id[UUID_LEN + 1];
    char purpose[32];
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at;
    bool used; /* used_at is not NULL */
};

struct mail_row {
    int64_t id;
    char *recipient;
    char *request; /* NULL: a mail, not a request */
    char *subject;
    char *text_body;
    char *html_body;
    int64_t attempts;
    int64_t next_attempt_at;
    int64_t sent_at;
    bool sent; /* sent_at is not NULL */
    char *last_error;
    int64_t created_at;
};

/* NULL strings are SQL NULL. */
struct audit_row {
    int64_t id;
    int64_t created_at;
    char *event;
    char *user_id;
    char *email;
    char *ip;
    char *user_agent;
    char *detail;
};

struct rate_row {
    char *key;
    int64_t count;
    int64_t expires_at;
};

struct secret_row {
    char *name;
    char *value;
    int64_t created_at;
};

struct migration_row {
    int64_t version;
    int64_t applied_at;
};

struct readiness_row {
    int64_t checked_at;
    int64_t probes;
};

/* An account imported from another system (import_id_map). */
struct import_row {
    char *source;
    char *old_id;
    char user_id[UUID_LEN + 1];
    int64_t imported_at;
};

struct key_row {
    struct signing_key_row k;
    bool retires; /* retires_at is not NULL */
};

/* Empty client_id and session_hash are SQL NULL. */
struct refresh_row {
    struct refresh_token t;
    bool rotated; /* rotated_at is not NULL */
    bool revoked; /* revoked_at is not NULL */
};

/* A growable array of rows of one type. */
struct rows {
    void *v;
    size_t n, cap;
};

/* Every table. users holds the profiles too (one per user, as the SQL schema has it). */
struct tables {
    bool created; /* migrate has run: the tables exist */
    struct rows users;
    struct rows sessions;
    struct rows tokens;
    struct rows mails;
    struct rows audit;
    struct rows rates;
    struct rows secrets;
    struct rows migrations;
    struct rows readiness;
    struct rows keys;
    struct rows refresh;
    struct rows clients;         /* struct oauth_client; an empty secret_hash is SQL NULL */
    struct rows identities;      /* struct oauth_identity; an empty email is SQL NULL */
    struct rows states;          /* struct oauth_state; an empty next is SQL NULL */
    struct rows imports;         /* struct import_row */
    int64_t mail_seq, audit_seq; /* the last id given */
};

/* The tables, as kinds[] lists them. */
enum table {
    T_USERS,
    T_SESSIONS,
    T_TOKENS,
    T_MAILS,
    T_AUDIT,
    T_RATES,
    T_SECRETS,
    T_MIGRATIONS,
    T_READINESS,
    T_KEYS,
    T_REFRESH,
    T_CLIENTS,
    T_IDENTITIES,
    T_STATES,
    T_IMPORTS,
    TABLES
};

/* What copying and freeing a table needs: its row size and where its rows hold heap strings. */
static const struct table_kind {
    size_t rows; /* offsetof the struct rows in struct tables */
    size_t size;
    size_t nstrings;
    size_t strings[6];
} kinds[TABLES] = {
    [T_USERS] = {offsetof(struct tables, users), sizeof(struct user), 0, {0}},
    [T_SESSIONS] = {offsetof(struct tables, sessions), sizeof(struct session), 0, {0}},
    [T_TOKENS] = {offsetof(struct tables, tokens), sizeof(struct token_row), 0, {0}},
    [T_MAILS] = {offsetof(struct tables, mails),
                 sizeof(struct mail_row),
                 6,
                 {offsetof(struct mail_row, recipient), offsetof(struct mail_row, request),
                  offsetof(struct mail_row, subject), offsetof(struct mail_row, text_body),
                  offsetof(struct mail_row, html_body), offsetof(struct mail_row, last_error)}},
    [T_AUDIT] = {offsetof(struct tables, audit),
                 sizeof(struct audit_row),
                 6,
                 {offsetof(struct audit_row, event), offsetof(struct audit_row, user_id),
                  offsetof(struct audit_row, email), offsetof(struct audit_row, ip),
                  offsetof(struct audit_row, user_agent), offsetof(struct audit_row, detail)}},
    [T_RATES] = {offsetof(struct tables, rates),
                 sizeof(struct rate_row),
                 1,
                 {offsetof(struct rate_row, key)}},
    [T_SECRETS] = {offsetof(struct tables, secrets),
                   sizeof(struct secret_row),
                   2,
                   {offsetof(struct secret_row, name), offsetof(struct secret_row, value)}},
    [T_MIGRATIONS] = {offsetof(struct tables, migrations), sizeof(struct migration_row), 0, {0}},
    [T_READINESS] = {offsetof(struct tables, readiness), sizeof(struct readiness_row), 0, {0}},
    [T_KEYS] = {offsetof(struct tables, keys), sizeof(struct key_row), 0, {0}},
    [T_REFRESH] = {offsetof(struct tables, refresh), sizeof(struct refresh_row), 0, {0}},
    [T_CLIENTS] = {offsetof(struct tables, clients), sizeof(struct oauth_client), 0, {0}},
    [T_IDENTITIES] = {offsetof(struct tables, identities), sizeof(struct oauth_identity), 0, {0}},
    [T_STATES] = {offsetof(struct tables, states), sizeof(struct oauth_state), 0, {0}},
    [T_IMPORTS] = {offsetof(struct tables, imports),
                   sizeof(struct import_row),
                   2,
                   {offsetof(struct import_row, source), offsetof(struct import_row, old_id)}},
};

static struct rows *rows_of(struct tables *t, const struct table_kind *k)
{
    return (struct rows *)((char *)t + k->rows);
}

static char **string_of(void *row, size_t offset)
{
    return (char **)((char *)row + offset);
}

/* Appends a zeroed row of size bytes to r; NULL when out of memory. Earlier row pointers into
 * r are invalid afterwards. */
static void *rows_add(struct rows *r, size_t size)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        void *v = realloc(r->v, cap * size);
        if (!v)
            return NULL;
        r->v = v;
        r->cap = cap;
    }
    void *row = (char *)r->v + r->n++ * size;
    memset(row, 0, size);
    return row;
}

/* Frees the heap strings of a row of kind k. */
static void row_strings_free(const struct table_kind *k, void *row)
{
    for (size_t s = 0; s < k->nstrings; s++) {
        free(*string_of(row, k->strings[s]));
        *string_of(row, k->strings[s]) = NULL;
    }
}

/* Removes row i of r, keeping the order of the others; frees its strings. */
static void rows_remove(struct rows *r, const struct table_kind *k, size_t i)
{
    char *row = (char *)r->v + i * k->size;
    row_strings_free(k, row);
    memmove(row, row + k->size, (r->n - i - 1) * k->size);
    r->n--;
}

static void tables_free(struct tables *t)
{
    for (size_t k = 0; k < TABLES; k++) {
        struct rows *r = rows_of(t, &kinds[k]);
        while (r->n)
            rows_remove(r, &kinds[k], r->n - 1);
        free(r->v);
    }
    memset(t, 0, sizeof *t);
}

static char *dup_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = true;
    return d;
}

/* Copies every row of src into dst (empty), strings and all. */
static gh_status tables_copy(struct tables *dst, const struct tables *src)
{
    bool failed = false;
    memset(dst, 0, sizeof *dst);
    dst->created = src->created;
    dst->mail_seq = src->mail_seq;
    dst->audit_seq = src->audit_seq;
    for (size_t k = 0; k < TABLES && !failed; k++) {
        const struct rows *from = rows_of((struct tables *)src, &kinds[k]);
        struct rows *to = rows_of(dst, &kinds[k]);
        for (size_t i = 0; i < from->n && !failed; i++) {
            const char *row = (const char *)from->v + i * kinds[k].size;
            char *copy = rows_add(to, kinds[k].size);
            if (!copy) {
                failed = true;
                break;
            }
            memcpy(copy, row, kinds[k].size);
            for (size_t s = 0; s < kinds[k].nstrings; s++) {
                char **p = string_of(copy, kinds[k].strings[s]);
                *p = dup_or_null(*p, &failed);
            }
        }
    }
    if (failed) {
        tables_free(dst);
        return GH_NO_MEMORY;
    }
    return GH_OK;
}

/* ---- the database and its stores ---- */

struct fault {
    int after;        /* calls still to run as usual */
    int times;        /* failures still to give; FAKE_ALWAYS: no end */
    gh_status status; /* GH_OK: none */
};

struct fake_store;

struct fake_db {
    pthread_mutex_t lock; /* held for the whole of every call */
    pthread_cond_t tx_ended;
    struct tables live;
    /* The open transaction: the committed rows (what others read meanwhile and what rollback
     * restores), who holds it, and whether a statement in it failed. */
    bool in_tx;
    struct tables committed;
    const struct fake_store *tx_store;
    pthread_t tx_thread;
    bool tx_failed;
    struct fault faults[MEMBERS];
    unsigned calls[MEMBERS];
};

struct fake_store {
    struct store base;
    struct fake_db *db;
    bool owns_db; /* made by fake_store_new: close frees db */
};

gh_status fake_db_new(struct fake_db **out)
{
    struct fake_db *db = calloc(1, sizeof *db);
    if (!db)
        return GH_NO_MEMORY;
    pthread_mutex_init(&db->lock, NULL);
    pthread_cond_init(&db->tx_ended, NULL);
    *out = db;
    return GH_OK;
}

void fake_db_free(struct fake_db **dbp)
{
    struct fake_db *db = dbp ? *dbp : NULL;
    if (!db)
        return;
    if (db->in_tx)
        tables_free(&db->committed);
    tables_free(&db->live);
    pthread_cond_destroy(&db->tx_ended);
    pthread_mutex_destroy(&db->lock);
    free(db);
    *dbp = NULL;
}

struct fake_db *fake_store_db(struct store *st)
{
    return ((struct fake_store *)st->impl)->db;
}

static struct fake_store *fake_of(struct store *st)
{
    return st->impl;
}

/* True when the calling thread's connection of fs holds the open transaction. */
static bool owns_tx(const struct fake_db *db, const struct fake_store *fs)
{
    return db->in_tx && db->tx_store == fs && pthread_equal(db->tx_thread, pthread_self());
}

/* Ends the open transaction: keeps the rows (commit) or puts the committed ones back. */
static void end_tx(struct fake_db *db, bool keep)
{
    if (keep) {
        tables_free(&db->committed);
    } else {
        tables_free(&db->live);
        db->live = db->committed;
        memset(&db->committed, 0, sizeof db->committed);
    }
    db->in_tx = false;
    db->tx_store = NULL;
    db->tx_failed = false;
    pthread_cond_broadcast(&db->tx_ended);
}

/* Waits (lock held) until no other connection holds a transaction; GH_BUSY after the busy
 * timeout. */
static gh_status wait_for_tx_end(struct fake_db *db)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += BUSY_TIMEOUT_SECONDS;
    while (db->in_tx)
        if (pthread_cond_timedwait(&db->tx_ended, &db->lock, &deadline) == ETIMEDOUT)
            break;
    if (db->in_tx) {
        log_msg(LOG_WARN, "fake store: database is locked");
        return GH_BUSY;
    }
    return GH_OK;
}

/* Counts a call of member and applies its fault (lock held): the status the call must answer
 * without running, or GH_OK. */
static gh_status take_call(struct fake_db *db, size_t member)
{
    size_t i = member / sizeof(void *);
    struct fault *f = &db->faults[i];
    db->calls[i]++;
    if (f->status == GH_OK)
        return GH_OK;
    if (f->after > 0) {
        f->after--;
        return GH_OK;
    }
    gh_status status = f->status;
    if (f->times != FAKE_ALWAYS && --f->times <= 0)
        *f = (struct fault){0};
    return status;
}

/* What a call does with the tables. */
enum access {
    PINGS,    /* none */
    READS,    /* reads: another connection's transaction shows its committed rows */
    WRITES,   /* writes: waits for another connection's transaction to end */
    MIGRATES, /* writes, and may run before the tables exist */
};

/* Starts a call of member on st: takes the database lock (leave releases it), counts the call,
 * applies an injected fault, and returns the rows the call works on. NULL, with *status set,
 * when the call must not run: a fault, a failed transaction, tables not yet created, or another
 * connection's transaction that did not end in time. */
static struct tables *enter(struct store *st, size_t member, enum access access, gh_status *status)
{
    struct fake_store *fs = fake_of(st);
    struct fake_db *db = fs->db;
    struct tables *t = &db->live;
    pthread_mutex_lock(&db->lock);
    if ((*status = take_call(db, member)) != GH_OK)
        return NULL;
    if (owns_tx(db, fs) && db->tx_failed) {
        log_msg(LOG_ERROR, "fake store: current transaction is aborted");
        *status = GH_INTERNAL;
        return NULL;
    }
    if (access == PINGS)
        return t;
    if (db->in_tx && !owns_tx(db, fs)) {
        if (access == READS)
            t = &db->committed;
        else if ((*status = wait_for_tx_end(db)) != GH_OK)
            return NULL;
    }
    if (!t->created && access != MIGRATES) {
        log_msg(LOG_ERROR, "fake store: no such table (not migrated)");
        *status = GH_INTERNAL;
        return NULL;
    }
    return t;
}

/* Ends a call (releasing the lock) and returns its status. A statement error inside a
 * transaction fails the transaction, as on PostgreSQL; GH_NOT_FOUND is an answer, and so is
 * GH_CONFLICT when conflict_answers (an INSERT … ON CONFLICT DO NOTHING). */
static gh_status finish(struct store *st, gh_status status, bool conflict_answers)
{
    struct fake_db *db = fake_of(st)->db;
    bool answer =
        status == GH_OK || status == GH_NOT_FOUND || (status == GH_CONFLICT && conflict_answers);
    if (!answer && owns_tx(db, fake_of(st)))
        db->tx_failed = true;
    pthread_mutex_unlock(&db->lock);
    return status;
}

static gh_status leave(struct store *st, gh_status status)
{
    return finish(st, status, false);
}

/* ---- values ---- */

/* Copies src (NULL: empty) into dst of cap bytes, cut to fit: a read of a value longer than
 * the record's field gives the same. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

static bool same_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

/* Valid UTF-8 of fewer than cap bytes: what a record's field holds and PostgreSQL accepts
 * (sql_text_fits of the SQL backends). */
static bool text_fits(const char *s, size_t cap)
{
    return s && strnlen(s, cap) < cap && utf8_is_valid(s);
}

static gh_status refuse(const char *what)
{
    log_msg(LOG_ERROR, "fake store: %s", what);
    return GH_INTERNAL;
}

/* ---- users and profiles ---- */

static struct user *user_by_id(struct tables *t, const char *id)
{
    struct user *users = t->users.v;
    for (size_t i = 0; id && i < t->users.n; i++)
        if (!strcmp(users[i].id, id))
            return &users[i];
    return NULL;
}

static struct user *user_by_email(struct tables *t, const char *email)
{
    struct user *users = t->users.v;
    for (size_t i = 0; email && i < t->users.n; i++)
        if (same_nocase(users[i].email, email))
            return &users[i];
    return NULL;
}

static gh_status fk_user_insert(struct store *st, const struct user *u)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(user_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!secret_uuid_is_wellformed(u->id) || !secret_uuid_is_wellformed(u->profile.id))
        return leave(st, refuse("invalid input syntax for type uuid"));
    if (user_by_id(t, u->id) || user_by_email(t, u->email))
        return finish(st, GH_CONFLICT, true); /* ON CONFLICT DO NOTHING */
    const struct user *users = t->users.v;
    for (size_t i = 0; i < t->users.n; i++)
        if (!strcmp(users[i].profile.id, u->profile.id))
            return leave(st, GH_CONFLICT);
    struct user *row = rows_add(&t->users, sizeof *row);
    if (!row)
        return leave(st, GH_NO_MEMORY);
    *row = *u;
    return leave(st, GH_OK);
}

static gh_status fk_user_by_email(struct store *st, const char *email, struct user *out)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(user_by_email), READS, &status);
    if (t) {
        const struct user *u = user_by_email(t, email);
        if (u)
            *out = *u;
        status = u ? GH_OK : GH_NOT_FOUND;
    }
    return leave(st, status);
}

static gh_status fk_user_by_id(struct store *st, const char *id, struct user *out)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(user_by_id), READS, &status);
    if (t) {
        const struct user *u = user_by_id(t, id);
        if (u)
            *out = *u;
        status = u ? GH_OK : GH_NOT_FOUND;
    }
    return leave(st, status);
}

static gh_status fk_user_activate(struct store *st, const char *id)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(user_activate), WRITES, &status);
    if (t) {
        struct user *u = user_by_id(t, id);
        if (u)
            u->is_active = true;
        status = u ? GH_OK : GH_NOT_FOUND;
    }
    return leave(st, status);
}

static gh_status fk_user_set_password(struct store *st, const char *id, const char *hash)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(user_set_password), WRITES, &status);
    if (t && !hash)
        status = refuse("NOT NULL constraint failed: users.password_hash");
    else if (t) {
        struct user *u = user_by_id(t, id);
        if (u)
            copy_text(u->password_hash, sizeof u->password_hash, hash);
        status = u ? GH_OK : GH_NOT_FOUND;
    }
    return leave(st, status);
}

/* UPDATE ... WHERE id = ? AND password_hash = ?: no row changed is a conflict. */
static gh_status fk_user_replace_password_hash(struct store *st, const char *id,
                                               const char *expected, const char *hash)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(user_replace_password_hash), WRITES, &status);
    if (t && !hash)
        status = refuse("NOT NULL constraint failed: users.password_hash");
    else if (t) {
        struct user *u = user_by_id(t, id);
        bool same = u && expected && !strcmp(u->password_hash, expected);
        if (same)
            copy_text(u->password_hash, sizeof u->password_hash, hash);
        status = same ? GH_OK : GH_CONFLICT;
    }
    return finish(st, status, true);
}

/* A usable password not made with the current parameters: neither empty nor '!...'. */
static bool is_legacy_hash(const struct user *u, const char *prefix)
{
    const char *h = u->password_hash;
    return h[0] && h[0] != '!' && strncmp(h, prefix, strlen(prefix)) != 0;
}

static gh_status fk_user_count_legacy_hashes(struct store *st, const char *prefix, int64_t *count)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(user_count_legacy_hashes), READS, &status);
    *count = 0;
    const struct user *users = t ? t->users.v : NULL;
    for (size_t i = 0; t && prefix && i < t->users.n; i++)
        if (is_legacy_hash(&users[i], prefix))
            (*count)++;
    return leave(st, status);
}

static int user_by_id_order(const void *a, const void *b)
{
    const struct user *x = *(const struct user *const *)a;
    const struct user *y = *(const struct user *const *)b;
    return strcmp(x->id, y->id);
}

static gh_status fk_user_legacy_hashes(struct store *st, const char *prefix, const char *after,
                                       struct user_hash *out, size_t cap, size_t *count)
{
    gh_status status;
    const struct user **listed = NULL;
    struct tables *t = enter(st, FAKE_MEMBER(user_legacy_hashes), READS, &status);
    *count = 0;
    if (!t)
        goto out;
    const struct user *users = t->users.v;
    size_t n = 0;
    if (t->users.n && !(listed = calloc(t->users.n, sizeof *listed))) {
        status = GH_NO_MEMORY;
        goto out;
    }
    for (size_t i = 0; prefix && after && i < t->users.n; i++)
        if (is_legacy_hash(&users[i], prefix) && strcmp(users[i].id, after) > 0)
            listed[n++] = &users[i];
    if (n)
        qsort(listed, n, sizeof *listed, user_by_id_order);
    for (size_t i = 0; i < n && i < cap; i++, (*count)++) {
        memcpy(out[i].user_id, listed[i]->id, sizeof out[i].user_id);
        copy_text(out[i].hash, sizeof out[i].hash, listed[i]->password_hash);
    }
out:
    free(listed);
    return leave(st, status);
}

static gh_status fk_user_update_profile(struct store *st, const struct user *in)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(user_update_profile), WRITES, &status);
    if (t) {
        struct user *u = user_by_id(t, in->id);
        if (u) {
            memcpy(u->first_name, in->first_name, sizeof u->first_name);
            memcpy(u->last_name, in->last_name, sizeof u->last_name);
            memcpy(u->thumbnail, in->thumbnail, sizeof u->thumbnail);
            memcpy(u->profile.phone_number, in->profile.phone_number,
                   sizeof u->profile.phone_number);
            memcpy(u->profile.birth_date, in->profile.birth_date, sizeof u->profile.birth_date);
            memcpy(u->profile.github_link, in->profile.github_link, sizeof u->profile.github_link);
        }
        status = u ? GH_OK : GH_NOT_FOUND;
    }
    return leave(st, status);
}

/* ---- sessions ---- */

static struct session *session_by_hash(struct tables *t, const char *hash)
{
    struct session *sessions = t->sessions.v;
    for (size_t i = 0; hash && i < t->sessions.n; i++)
        if (!strcmp(sessions[i].token_hash, hash))
            return &sessions[i];
    return NULL;
}

static gh_status fk_session_insert(struct store *st, const struct session *s)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(session_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!secret_uuid_is_wellformed(s->id) || !secret_uuid_is_wellformed(s->user_id))
        return leave(st, refuse("invalid input syntax for type uuid"));
    const struct session *sessions = t->sessions.v;
    for (size_t i = 0; i < t->sessions.n; i++)
        if (!strcmp(sessions[i].token_hash, s->token_hash) || !strcmp(sessions[i].id, s->id))
            return leave(st, GH_CONFLICT);
    if (!user_by_id(t, s->user_id))
        return leave(st, refuse("FOREIGN KEY constraint failed: sessions.user_id"));
    struct session *row = rows_add(&t->sessions, sizeof *row);
    if (!row)
        return leave(st, GH_NO_MEMORY);
    *row = *s;
    return leave(st, GH_OK);
}

static gh_status fk_session_lookup(struct store *st, const char *hash, int64_t now,
                                   struct session *s, struct user *u)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(session_lookup), READS, &status);
    if (t) {
        const struct session *found = session_by_hash(t, hash);
        const struct user *owner = found ? user_by_id(t, found->user_id) : NULL;
        status = found && owner && found->expires_at > now ? GH_OK : GH_NOT_FOUND;
        if (status == GH_OK) {
            *s = *found;
            *u = *owner;
        }
    }
    return leave(st, status);
}

static gh_status fk_session_delete(struct store *st, const char *hash)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(session_delete), WRITES, &status);
    if (t) {
        const struct session *found = session_by_hash(t, hash);
        status = found ? GH_OK : GH_NOT_FOUND;
        if (found)
            rows_remove(&t->sessions, &kinds[T_SESSIONS],
                        (size_t)(found - (const struct session *)t->sessions.v));
    }
    return leave(st, status);
}

static gh_status fk_session_touch(struct store *st, const char *hash, int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(session_touch), WRITES, &status);
    if (t) {
        struct session *found = session_by_hash(t, hash);
        if (found)
            found->last_seen_at = now;
    }
    return leave(st, status);
}

/* Newest first; the same second by id, as the SQL backends order them. */
static int newest_first(const void *a, const void *b)
{
    const struct session *x = *(const struct session *const *)a;
    const struct session *y = *(const struct session *const *)b;
    if (x->created_at != y->created_at)
        return x->created_at > y->created_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

static gh_status fk_session_list(struct store *st, const char *user_id, int64_t now,
                                 struct session *out, size_t cap, size_t *count)
{
    gh_status status;
    const struct session **live = NULL;
    struct tables *t = enter(st, FAKE_MEMBER(session_list), READS, &status);
    *count = 0;
    if (!t)
        goto out;
    const struct session *sessions = t->sessions.v;
    size_t n = 0;
    if (t->sessions.n && !(live = calloc(t->sessions.n, sizeof *live))) {
        status = GH_NO_MEMORY;
        goto out;
    }
    for (size_t i = 0; user_id && i < t->sessions.n; i++)
        if (!strcmp(sessions[i].user_id, user_id) && sessions[i].expires_at > now)
            live[n++] = &sessions[i];
    if (n)
        qsort(live, n, sizeof *live, newest_first);
    for (size_t i = 0; i < n && i < cap; i++)
        out[(*count)++] = *live[i];
out:
    free(live);
    return leave(st, status);
}

static gh_status fk_session_delete_all(struct store *st, const char *user_id, const char *keep)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(session_delete_all), WRITES, &status);
    for (size_t i = t ? t->sessions.n : 0; i-- > 0;) {
        const struct session *s = (const struct session *)t->sessions.v + i;
        if (user_id && !strcmp(s->user_id, user_id) && !(keep && !strcmp(s->token_hash, keep)))
            rows_remove(&t->sessions, &kinds[T_SESSIONS], i);
    }
    return leave(st, status);
}

/* ---- one-time tokens ---- */

static gh_status fk_onetime_insert(struct store *st, const struct onetime *o)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(onetime_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!o->purpose)
        return leave(st, refuse("NOT NULL constraint failed: one_time_tokens.purpose"));
    if (!secret_uuid_is_wellformed(o->user_id))
        return leave(st, refuse("invalid input syntax for type uuid"));
    const struct token_row *tokens = t->tokens.v;
    for (size_t i = 0; i < t->tokens.n; i++)
        if (!strcmp(tokens[i].token_hash, o->token_hash))
            return leave(st, GH_CONFLICT);
    if (!user_by_id(t, o->user_id))
        return leave(st, refuse("FOREIGN KEY constraint failed: one_time_tokens.user_id"));
    struct token_row *row = rows_add(&t->tokens, sizeof *row);
    if (!row)
        return leave(st, GH_NO_MEMORY);
    copy_text(row->token_hash, sizeof row->token_hash, o->token_hash);
    copy_text(row->user_id, sizeof row->user_id, o->user_id);
    copy_text(row->purpose, sizeof row->purpose, o->purpose);
    row->created_at = o->created_at;
    row->expires_at = o->expires_at;
    return leave(st, GH_OK);
}

/* The unused, unexpired token of the hash and purpose, or NULL. */
static struct token_row *live_token(struct tables *t, const char *hash, const char *purpose,
                                    int64_t now)
{
    struct token_row *tokens = t->tokens.v;
    for (size_t i = 0; hash && purpose && i < t->tokens.n; i++)
        if (!strcmp(tokens[i].token_hash, hash) && !strcmp(tokens[i].purpose, purpose) &&
            !tokens[i].used && tokens[i].expires_at > now)
            return &tokens[i];
    return NULL;
}

static gh_status fk_onetime_consume(struct store *st, const char *hash, const char *purpose,
                                    int64_t now, char user_id[UUID_LEN + 1])
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(onetime_consume), WRITES, &status);
    if (t) {
        struct token_row *token = live_token(t, hash, purpose, now);
        status = token ? GH_OK : GH_NOT_FOUND;
        if (token) {
            token->used = true;
            token->used_at = now;
            copy_text(user_id, UUID_LEN + 1, token->user_id);
        }
    }
    return leave(st, status);
}

static gh_status fk_onetime_peek(struct store *st, const char *hash, const char *purpose,
                                 int64_t now, char user_id[UUID_LEN + 1])
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(onetime_peek), READS, &status);
    if (t) {
        const struct token_row *token = live_token(t, hash, purpose, now);
        status = token ? GH_OK : GH_NOT_FOUND;
        if (token)
            copy_text(user_id, UUID_LEN + 1, token->user_id);
    }
    return leave(st, status);
}

static gh_status fk_onetime_revoke_all(struct store *st, const char *user_id, const char *purpose,
                                       int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(onetime_revoke_all), WRITES, &status);
    struct token_row *tokens = t ? t->tokens.v : NULL;
    for (size_t i = 0; t && user_id && purpose && i < t->tokens.n; i++)
        if (!strcmp(tokens[i].user_id, user_id) && !strcmp(tokens[i].purpose, purpose) &&
            !tokens[i].used) {
            tokens[i].used = true;
            tokens[i].used_at = now;
        }
    return leave(st, status);
}

/* ---- the outbox ---- */

static struct mail_row *mail_by_id(struct tables *t, int64_t id)
{
    struct mail_row *mails = t->mails.v;
    for (size_t i = 0; i < t->mails.n; i++)
        if (mails[i].id == id)
            return &mails[i];
    return NULL;
}

/* Queues a row: a mail (request NULL) or a request (empty subject and bodies). */
static gh_status add_mail(struct tables *t, const char *recipient, const char *request,
                          const char *subject, const char *text, const char *html, int64_t now)
{
    bool failed = false;
    struct mail_row m = {.next_attempt_at = now, .created_at = now};
    if (!subject || !text || !html)
        return refuse("NOT NULL constraint failed: mail_outbox");
    m.recipient = dup_or_null(recipient ? recipient : "", &failed);
    m.request = dup_or_null(request, &failed);
    m.subject = dup_or_null(subject, &failed);
    m.text_body = dup_or_null(text, &failed);
    m.html_body = dup_or_null(html, &failed);
    struct mail_row *row = failed ? NULL : rows_add(&t->mails, sizeof *row);
    if (!row) {
        row_strings_free(&kinds[T_MAILS], &m);
        return GH_NO_MEMORY;
    }
    m.id = ++t->mail_seq;
    *row = m;
    return GH_OK;
}

static gh_status fk_outbox_insert(struct store *st, const struct mail *m, int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(outbox_insert), WRITES, &status);
    if (t)
        status = add_mail(t, m->recipient, NULL, m->subject, m->text_body, m->html_body, now);
    return leave(st, status);
}

static gh_status fk_outbox_request(struct store *st, const char *recipient, const char *request,
                                   int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(outbox_request), WRITES, &status);
    if (t)
        status = add_mail(t, recipient, request, "", "", "", now);
    return leave(st, status);
}

static gh_status fk_outbox_claim(struct store *st, int64_t now, int64_t lease_until,
                                 struct mail *out)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(outbox_claim), WRITES, &status);
    if (!t)
        return leave(st, status);
    struct mail_row *mails = t->mails.v, *due = NULL;
    for (size_t i = 0; i < t->mails.n; i++) {
        struct mail_row *m = &mails[i];
        if (!m->sent && m->next_attempt_at <= now &&
            (!due || m->next_attempt_at < due->next_attempt_at ||
             (m->next_attempt_at == due->next_attempt_at && m->id < due->id)))
            due = m;
    }
    if (!due)
        return leave(st, GH_NOT_FOUND);
    memset(out, 0, sizeof *out);
    out->id = due->id;
    out->created_at = due->created_at;
    out->attempts = (int)due->attempts + 1;
    copy_text(out->recipient, sizeof out->recipient, due->recipient);
    copy_text(out->request, sizeof out->request, due->request);
    out->subject = strdup(due->subject);
    out->text_body = strdup(due->text_body);
    out->html_body = strdup(due->html_body);
    if (!out->subject || !out->text_body || !out->html_body) {
        mail_clear(out);
        return leave(st, GH_NO_MEMORY);
    }
    due->attempts++;
    due->next_attempt_at = lease_until;
    return leave(st, GH_OK);
}

/* Sets *field to a copy of value (NULL: SQL NULL); false when out of memory. */
static bool replace_string(char **field, const char *value)
{
    bool failed = false;
    char *copy = dup_or_null(value, &failed);
    if (failed)
        return false;
    free(*field);
    *field = copy;
    return true;
}

static gh_status fk_outbox_resolve(struct store *st, const struct mail *m)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(outbox_resolve), WRITES, &status);
    if (!t)
        return leave(st, status);
    struct mail_row *row = mail_by_id(t, m->id);
    if (!row || !row->request)
        return leave(st, GH_NOT_FOUND);
    if (!m->subject || !m->text_body || !m->html_body)
        return leave(st, refuse("NOT NULL constraint failed: mail_outbox"));
    char *subject = strdup(m->subject), *text = strdup(m->text_body), *html = strdup(m->html_body);
    if (!subject || !text || !html) {
        free(subject);
        free(text);
        free(html);
        return leave(st, GH_NO_MEMORY);
    }
    free(row->request);
    free(row->subject);
    free(row->text_body);
    free(row->html_body);
    row->request = NULL;
    row->subject = subject;
    row->text_body = text;
    row->html_body = html;
    return leave(st, GH_OK);
}

static gh_status fk_outbox_discard(struct store *st, int64_t id)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(outbox_discard), WRITES, &status);
    if (t) {
        const struct mail_row *row = mail_by_id(t, id);
        status = row && row->request ? GH_OK : GH_NOT_FOUND;
        if (status == GH_OK)
            rows_remove(&t->mails, &kinds[T_MAILS],
                        (size_t)(row - (const struct mail_row *)t->mails.v));
    }
    return leave(st, status);
}

static gh_status fk_outbox_mark_sent(struct store *st, int64_t id, int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(outbox_mark_sent), WRITES, &status);
    struct mail_row *row = t ? mail_by_id(t, id) : NULL;
    if (t && !row)
        status = GH_NOT_FOUND;
    else if (row && (!replace_string(&row->text_body, "") || !replace_string(&row->html_body, "") ||
                     !replace_string(&row->last_error, NULL)))
        status = GH_NO_MEMORY;
    else if (row) {
        row->sent = true;
        row->sent_at = now;
    }
    return leave(st, status);
}

static gh_status fk_outbox_schedule_retry(struct store *st, int64_t id, int64_t next_attempt_at,
                                          const char *error)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(outbox_schedule_retry), WRITES, &status);
    struct mail_row *row = t ? mail_by_id(t, id) : NULL;
    if (t && !row)
        status = GH_NOT_FOUND;
    else if (row && !replace_string(&row->last_error, error))
        status = GH_NO_MEMORY;
    else if (row)
        row->next_attempt_at = next_attempt_at;
    return leave(st, status);
}

static gh_status fk_outbox_pending(struct store *st, int64_t *count)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(outbox_pending), READS, &status);
    if (t) {
        const struct mail_row *mails = t->mails.v;
        *count = 0;
        for (size_t i = 0; i < t->mails.n; i++)
            *count += !mails[i].sent;
    }
    return leave(st, status);
}

/* ---- audit ---- */

static gh_status fk_audit_insert(struct store *st, const struct audit_event *e, int64_t now)
{
    gh_status status;
    bool failed = false;
    struct tables *t = enter(st, FAKE_MEMBER(audit_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!e->event)
        return leave(st, refuse("NOT NULL constraint failed: audit_log.event"));
    struct audit_row a = {.created_at = now};
    a.event = dup_or_null(e->event, &failed);
    a.user_id = dup_or_null(e->user_id, &failed);
    a.email = dup_or_null(e->email, &failed);
    a.ip = dup_or_null(e->client ? e->client->ip : NULL, &failed);
    a.user_agent = dup_or_null(e->client ? e->client->user_agent : NULL, &failed);
    a.detail = dup_or_null(e->detail, &failed);
    struct audit_row *row = failed ? NULL : rows_add(&t->audit, sizeof *row);
    if (!row) {
        row_strings_free(&kinds[T_AUDIT], &a);
        return leave(st, GH_NO_MEMORY);
    }
    a.id = ++t->audit_seq;
    *row = a;
    return leave(st, GH_OK);
}

/* ---- rate limits ---- */

static struct rate_row *rate_by_key(struct tables *t, const char *key)
{
    struct rate_row *rates = t->rates.v;
    for (size_t i = 0; key && i < t->rates.n; i++)
        if (!strcmp(rates[i].key, key))
            return &rates[i];
    return NULL;
}

static gh_status fk_rate_hit(struct store *st, const char *key, int window, int64_t now,
                             int64_t *count, int64_t *window_end)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(rate_hit), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!key)
        return leave(st, refuse("NOT NULL constraint failed: rate_limits.key"));
    struct rate_row *r = rate_by_key(t, key);
    if (!r) {
        char *copy = strdup(key);
        r = copy ? rows_add(&t->rates, sizeof *r) : NULL;
        if (!r) {
            free(copy);
            return leave(st, GH_NO_MEMORY);
        }
        r->key = copy;
        r->expires_at = now; /* ended: the window starts below */
    }
    if (r->expires_at <= now) {
        r->count = 1;
        r->expires_at = now + window;
    } else {
        r->count++;
    }
    *count = r->count;
    *window_end = r->expires_at;
    return leave(st, GH_OK);
}

static gh_status fk_rate_peek(struct store *st, const char *key, int64_t now, int64_t *count,
                              int64_t *window_end)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(rate_peek), READS, &status);
    if (t) {
        const struct rate_row *r = rate_by_key(t, key);
        bool live = r && r->expires_at > now;
        *count = live ? r->count : 0;
        *window_end = live ? r->expires_at : now;
    }
    return leave(st, status);
}

static gh_status fk_rate_refund(struct store *st, const char *key, int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(rate_refund), WRITES, &status);
    struct rate_row *r = t ? rate_by_key(t, key) : NULL;
    if (r && r->expires_at > now && r->count > 0)
        r->count--;
    return leave(st, status);
}

static gh_status fk_rate_clear(struct store *st, const char *key)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(rate_clear), WRITES, &status);
    const struct rate_row *r = t ? rate_by_key(t, key) : NULL;
    if (r)
        rows_remove(&t->rates, &kinds[T_RATES], (size_t)(r - (const struct rate_row *)t->rates.v));
    return leave(st, status);
}

/* ---- signing keys ---- */

static gh_status fk_signing_key_insert(struct store *st, const struct signing_key_row *k)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(signing_key_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!text_fits(k->kid, sizeof k->kid) || !text_fits(k->alg, sizeof k->alg) ||
        !text_fits(k->private_key, sizeof k->private_key))
        return leave(st, refuse("invalid byte sequence for encoding UTF8: signing_keys"));
    const struct key_row *keys = t->keys.v;
    for (size_t i = 0; i < t->keys.n; i++)
        if (!strcmp(keys[i].k.kid, k->kid))
            return leave(st, GH_CONFLICT); /* a plain INSERT: the transaction fails */
    struct key_row *row = rows_add(&t->keys, sizeof *row);
    if (!row)
        return leave(st, GH_NO_MEMORY);
    row->k = *k;
    row->retires = k->retires_at != 0; /* NULLIF(retires_at, 0) */
    return leave(st, GH_OK);
}

/* Newest first; the same second by kid, as the SQL backends order them. */
static int key_newest_first(const void *a, const void *b)
{
    const struct key_row *x = *(const struct key_row *const *)a;
    const struct key_row *y = *(const struct key_row *const *)b;
    if (x->k.created_at != y->k.created_at)
        return x->k.created_at > y->k.created_at ? -1 : 1;
    return strcmp(x->k.kid, y->k.kid);
}

static gh_status fk_signing_key_list(struct store *st, int64_t now, struct signing_key_row *out,
                                     size_t cap, size_t *count)
{
    gh_status status;
    const struct key_row **listed = NULL;
    struct tables *t = enter(st, FAKE_MEMBER(signing_key_list), READS, &status);
    *count = 0;
    if (!t)
        goto out;
    const struct key_row *keys = t->keys.v;
    size_t n = 0;
    if (t->keys.n && !(listed = calloc(t->keys.n, sizeof *listed))) {
        status = GH_NO_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < t->keys.n; i++)
        if (!keys[i].retires || keys[i].k.retires_at > now)
            listed[n++] = &keys[i];
    if (n)
        qsort(listed, n, sizeof *listed, key_newest_first);
    for (size_t i = 0; i < n && i < cap; i++)
        out[(*count)++] = listed[i]->k;
out:
    free(listed);
    return leave(st, status);
}

static gh_status fk_signing_key_retire_older(struct store *st, const char *kid, int64_t retires_at)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(signing_key_retire_older), WRITES, &status);
    struct key_row *keys = t ? t->keys.v : NULL, *newer = NULL;
    for (size_t i = 0; t && kid && i < t->keys.n && !newer; i++)
        if (!strcmp(keys[i].k.kid, kid))
            newer = &keys[i];
    /* An unknown kid has no created_at: nothing is older. */
    for (size_t i = 0; newer && i < t->keys.n; i++)
        if (!keys[i].retires && keys[i].k.created_at < newer->k.created_at) {
            keys[i].retires = true;
            keys[i].k.retires_at = retires_at;
        }
    return leave(st, status);
}

/* ---- refresh tokens ---- */

static struct refresh_row *refresh_by_hash(struct tables *t, const char *hash)
{
    struct refresh_row *rows = t->refresh.v;
    for (size_t i = 0; hash && i < t->refresh.n; i++)
        if (!strcmp(rows[i].t.token_hash, hash))
            return &rows[i];
    return NULL;
}

/* The token as a read gives it: times that are SQL NULL read as 0. */
static void refresh_read(const struct refresh_row *row, struct refresh_token *out)
{
    *out = row->t;
    out->rotated_at = row->rotated ? row->t.rotated_at : 0;
    out->revoked_at = row->revoked ? row->t.revoked_at : 0;
}

static gh_status fk_refresh_insert(struct store *st, const struct refresh_token *in)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(refresh_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!secret_uuid_is_wellformed(in->family_id) || !secret_uuid_is_wellformed(in->user_id))
        return leave(st, refuse("invalid input syntax for type uuid"));
    /* ON CONFLICT (token_hash) DO NOTHING: the same successor made twice is one row. */
    if (refresh_by_hash(t, in->token_hash))
        return leave(st, GH_OK);
    if (!user_by_id(t, in->user_id))
        return leave(st, refuse("FOREIGN KEY constraint failed: refresh_tokens.user_id"));
    struct refresh_row *row = rows_add(&t->refresh, sizeof *row);
    if (!row)
        return leave(st, GH_NO_MEMORY);
    row->t = *in;
    row->rotated = in->rotated_at != 0; /* NULLIF(…, 0) */
    row->revoked = in->revoked_at != 0;
    return leave(st, GH_OK);
}

static gh_status fk_refresh_rotate(struct store *st, const char *token_hash, int64_t now,
                                   struct refresh_token *out)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(refresh_rotate), WRITES, &status);
    if (!t)
        return leave(st, status);
    struct refresh_row *row = refresh_by_hash(t, token_hash);
    if (!row || row->revoked || row->t.expires_at <= now)
        return leave(st, GH_NOT_FOUND);
    if (row->rotated) {
        /* Rotated before, and neither revoked nor expired since: a retry or a reuse. */
        refresh_read(row, out);
        return finish(st, GH_CONFLICT, true);
    }
    row->rotated = true;
    row->t.rotated_at = now;
    refresh_read(row, out);
    return leave(st, GH_OK);
}

static gh_status fk_refresh_get(struct store *st, const char *token_hash, struct refresh_token *out)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(refresh_get), READS, &status);
    if (t) {
        const struct refresh_row *row = refresh_by_hash(t, token_hash);
        if (row)
            refresh_read(row, out);
        status = row ? GH_OK : GH_NOT_FOUND;
    }
    return leave(st, status);
}

/* What refresh_revoke_* match a token on. */
enum revoke_by { BY_FAMILY, BY_USER, BY_SESSION };

/* Revokes the tokens not yet revoked whose family, user or session is key: revoking again
 * keeps the time of the first revocation. An empty session hash is SQL NULL and matches
 * nothing. */
static gh_status revoke_tokens(struct store *st, size_t member, enum revoke_by by, const char *key,
                               int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, member, WRITES, &status);
    struct refresh_row *rows = t ? t->refresh.v : NULL;
    for (size_t i = 0; t && key && i < t->refresh.n; i++) {
        const struct refresh_token *tok = &rows[i].t;
        const char *value = by == BY_FAMILY ? tok->family_id
                            : by == BY_USER ? tok->user_id
                                            : tok->session_hash;
        if (!rows[i].revoked && *value && !strcmp(value, key)) {
            rows[i].revoked = true;
            rows[i].t.revoked_at = now;
        }
    }
    return leave(st, status);
}

static gh_status fk_refresh_revoke_family(struct store *st, const char *family_id, int64_t now)
{
    return revoke_tokens(st, FAKE_MEMBER(refresh_revoke_family), BY_FAMILY, family_id, now);
}

static gh_status fk_refresh_revoke_user(struct store *st, const char *user_id, int64_t now)
{
    return revoke_tokens(st, FAKE_MEMBER(refresh_revoke_user), BY_USER, user_id, now);
}

static gh_status fk_refresh_revoke_session(struct store *st, const char *session_hash, int64_t now)
{
    return revoke_tokens(st, FAKE_MEMBER(refresh_revoke_session), BY_SESSION, session_hash, now);
}

/* ---- OAuth clients ---- */

static struct oauth_client *client_by_id(struct tables *t, const char *id)
{
    struct oauth_client *clients = t->clients.v;
    for (size_t i = 0; id && i < t->clients.n; i++)
        if (!strcmp(clients[i].id, id))
            return &clients[i];
    return NULL;
}

static gh_status fk_client_insert(struct store *st, const struct oauth_client *c)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(client_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!text_fits(c->id, sizeof c->id))
        return leave(st, refuse("invalid byte sequence for encoding UTF8: oauth_clients.id"));
    if (client_by_id(t, c->id))
        return finish(st, GH_CONFLICT, true); /* ON CONFLICT DO NOTHING */
    struct oauth_client *row = rows_add(&t->clients, sizeof *row);
    if (!row)
        return leave(st, GH_NO_MEMORY);
    *row = *c;
    return leave(st, GH_OK);
}

static gh_status fk_client_get(struct store *st, const char *id, struct oauth_client *out)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(client_get), READS, &status);
    if (t) {
        /* An id no insert accepts (too long, not UTF-8) cannot have been registered. */
        const struct oauth_client *c = text_fits(id, sizeof out->id) ? client_by_id(t, id) : NULL;
        if (c)
            *out = *c;
        status = c ? GH_OK : GH_NOT_FOUND;
    }
    return leave(st, status);
}

/* ---- identities at OpenID Connect providers ---- */

static gh_status fk_identity_insert(struct store *st, const struct oauth_identity *in)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(identity_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!secret_uuid_is_wellformed(in->user_id) || !text_fits(in->provider, sizeof in->provider) ||
        !text_fits(in->subject, sizeof in->subject) || !text_fits(in->email, sizeof in->email))
        return leave(st, refuse("identity with a malformed user id, or text that is not UTF-8 "
                                "or too long"));
    /* The primary key (provider, subject) and UNIQUE (provider, user_id): ON CONFLICT DO
     * NOTHING, checked before the foreign key, as the SQL backends do. */
    const struct oauth_identity *ids = t->identities.v;
    for (size_t i = 0; i < t->identities.n; i++)
        if (!strcmp(ids[i].provider, in->provider) &&
            (!strcmp(ids[i].subject, in->subject) || !strcmp(ids[i].user_id, in->user_id)))
            return finish(st, GH_CONFLICT, true);
    if (!user_by_id(t, in->user_id))
        return leave(st, refuse("FOREIGN KEY constraint failed: oauth_identities.user_id"));
    struct oauth_identity *row = rows_add(&t->identities, sizeof *row);
    if (!row)
        return leave(st, GH_NO_MEMORY);
    *row = *in;
    return leave(st, GH_OK);
}

static gh_status fk_identity_get(struct store *st, const char *provider, const char *subject,
                                 struct oauth_identity *out)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(identity_get), READS, &status);
    if (!t)
        return leave(st, status);
    /* Text that no insert accepts cannot have been linked. */
    const struct oauth_identity *ids = t->identities.v, *found = NULL;
    if (text_fits(provider, sizeof out->provider) && text_fits(subject, sizeof out->subject))
        for (size_t i = 0; i < t->identities.n && !found; i++)
            if (!strcmp(ids[i].provider, provider) && !strcmp(ids[i].subject, subject))
                found = &ids[i];
    if (found)
        *out = *found;
    return leave(st, found ? GH_OK : GH_NOT_FOUND);
}

/* Oldest first; the same second by provider, as the SQL backends order them. */
static int identity_oldest_first(const void *a, const void *b)
{
    const struct oauth_identity *x = *(const struct oauth_identity *const *)a;
    const struct oauth_identity *y = *(const struct oauth_identity *const *)b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return strcmp(x->provider, y->provider);
}

static gh_status fk_identity_list(struct store *st, const char *user_id, struct oauth_identity *out,
                                  size_t cap, size_t *count)
{
    gh_status status;
    const struct oauth_identity **listed = NULL;
    struct tables *t = enter(st, FAKE_MEMBER(identity_list), READS, &status);
    *count = 0;
    if (!t)
        goto out;
    const struct oauth_identity *ids = t->identities.v;
    size_t n = 0;
    if (t->identities.n && !(listed = calloc(t->identities.n, sizeof *listed))) {
        status = GH_NO_MEMORY;
        goto out;
    }
    for (size_t i = 0; user_id && i < t->identities.n; i++)
        if (!strcmp(ids[i].user_id, user_id))
            listed[n++] = &ids[i];
    if (n)
        qsort(listed, n, sizeof *listed, identity_oldest_first);
    for (size_t i = 0; i < n && i < cap; i++)
        out[(*count)++] = *listed[i];
out:
    free(listed);
    return leave(st, status);
}

static gh_status fk_identity_delete(struct store *st, const char *user_id, const char *provider)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(identity_delete), WRITES, &status);
    if (!t)
        return leave(st, status);
    const struct oauth_identity *ids = t->identities.v;
    status = GH_NOT_FOUND;
    for (size_t i = 0; user_id && provider && i < t->identities.n; i++)
        if (!strcmp(ids[i].user_id, user_id) && !strcmp(ids[i].provider, provider)) {
            rows_remove(&t->identities, &kinds[T_IDENTITIES], i);
            status = GH_OK;
            break; /* UNIQUE (provider, user_id): there is no other */
        }
    return leave(st, status);
}

/* ---- accounts imported from other systems ---- */

static const struct import_row *import_find(struct tables *t, const char *source,
                                            const char *old_id)
{
    const struct import_row *rows = t->imports.v;
    for (size_t i = 0; source && old_id && i < t->imports.n; i++)
        if (!strcmp(rows[i].source, source) && !strcmp(rows[i].old_id, old_id))
            return &rows[i];
    return NULL;
}

static gh_status fk_import_map_get(struct store *st, const char *source, const char *old_id,
                                   char user_id[UUID_LEN + 1])
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(import_map_get), READS, &status);
    const struct import_row *found = t ? import_find(t, source, old_id) : NULL;
    if (found)
        memcpy(user_id, found->user_id, UUID_LEN + 1);
    if (t)
        status = found ? GH_OK : GH_NOT_FOUND;
    return leave(st, status);
}

/* The primary key (source, old_id) is checked before the foreign key, as ON CONFLICT DO
 * NOTHING does in the SQL backends. */
static gh_status fk_import_map_insert(struct store *st, const char *source, const char *old_id,
                                      const char *user_id, int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(import_map_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!source || !old_id || !secret_uuid_is_wellformed(user_id))
        return leave(st, refuse("import_id_map row with a NULL or a malformed user id"));
    if (import_find(t, source, old_id))
        return finish(st, GH_CONFLICT, true);
    if (!user_by_id(t, user_id))
        return leave(st, refuse("FOREIGN KEY constraint failed: import_id_map.user_id"));
    char *src = strdup(source), *old = strdup(old_id);
    struct import_row *row = src && old ? rows_add(&t->imports, sizeof *row) : NULL;
    if (!row) {
        free(src);
        free(old);
        return leave(st, GH_NO_MEMORY);
    }
    *row = (struct import_row){.source = src, .old_id = old, .imported_at = now};
    memcpy(row->user_id, user_id, sizeof row->user_id);
    return leave(st, GH_OK);
}

/* ---- logins in progress at OpenID Connect providers ---- */

static gh_status fk_state_insert(struct store *st, const struct oauth_state *s)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(state_insert), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!text_fits(s->provider, sizeof s->provider) || !text_fits(s->next, sizeof s->next))
        return leave(st, refuse("oauth state with text that is not UTF-8 or too long"));
    const struct oauth_state *states = t->states.v;
    for (size_t i = 0; i < t->states.n; i++)
        if (!strcmp(states[i].state_hash, s->state_hash))
            return leave(st, GH_CONFLICT); /* a plain INSERT: the transaction fails */
    struct oauth_state *row = rows_add(&t->states, sizeof *row);
    if (!row)
        return leave(st, GH_NO_MEMORY);
    *row = *s;
    return leave(st, GH_OK);
}

static gh_status fk_state_consume(struct store *st, const char *state_hash, int64_t now,
                                  struct oauth_state *out)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(state_consume), WRITES, &status);
    if (!t)
        return leave(st, status);
    const struct oauth_state *states = t->states.v;
    status = GH_NOT_FOUND;
    for (size_t i = 0; state_hash && i < t->states.n; i++)
        if (!strcmp(states[i].state_hash, state_hash) && states[i].expires_at > now) {
            *out = states[i];
            rows_remove(&t->states, &kinds[T_STATES], i);
            status = GH_OK;
            break;
        }
    return leave(st, status);
}

/* ---- the server: secrets, readiness, expiry, schema ---- */

static gh_status fk_secret_get_or_create(struct store *st, const char *name, const char *candidate,
                                         int64_t now, char *out, size_t cap)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(secret_get_or_create), WRITES, &status);
    if (!t)
        return leave(st, status);
    if (!name || !candidate)
        return leave(st, refuse("NOT NULL constraint failed: server_secrets"));
    struct secret_row *secrets = t->secrets.v, *found = NULL;
    for (size_t i = 0; i < t->secrets.n && !found; i++)
        if (!strcmp(secrets[i].name, name))
            found = &secrets[i];
    if (!found) {
        char *n = strdup(name), *v = strdup(candidate);
        found = n && v ? rows_add(&t->secrets, sizeof *found) : NULL;
        if (!found) {
            free(n);
            free(v);
            return leave(st, GH_NO_MEMORY);
        }
        *found = (struct secret_row){.name = n, .value = v, .created_at = now};
    }
    return leave(st, str_copy(out, cap, found->value) == GH_OK ? GH_OK : GH_INTERNAL);
}

static gh_status fk_ready_write(struct store *st, int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(ready_write), WRITES, &status);
    if (t) {
        struct readiness_row *r = t->readiness.n ? t->readiness.v : NULL;
        status = r ? GH_OK : GH_NOT_FOUND;
        if (r) {
            r->checked_at = now;
            r->probes++;
        }
    }
    return leave(st, status);
}

static gh_status fk_purge_expired(struct store *st, int64_t now)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(purge_expired), WRITES, &status);
    for (size_t i = t ? t->sessions.n : 0; i-- > 0;)
        if (((const struct session *)t->sessions.v)[i].expires_at <= now)
            rows_remove(&t->sessions, &kinds[T_SESSIONS], i);
    /* Tokens a day after expiry, so a late click is told that its link expired. */
    for (size_t i = t ? t->tokens.n : 0; i-- > 0;)
        if (((const struct token_row *)t->tokens.v)[i].expires_at <= now - 86400)
            rows_remove(&t->tokens, &kinds[T_TOKENS], i);
    for (size_t i = t ? t->rates.n : 0; i-- > 0;)
        if (((const struct rate_row *)t->rates.v)[i].expires_at <= now)
            rows_remove(&t->rates, &kinds[T_RATES], i);
    /* Refresh tokens a day after expiry too, so a late use still finds the token expired. */
    for (size_t i = t ? t->refresh.n : 0; i-- > 0;)
        if (((const struct refresh_row *)t->refresh.v)[i].t.expires_at <= now - 86400)
            rows_remove(&t->refresh, &kinds[T_REFRESH], i);
    /* An expired login in progress is of no use to anyone: no grace. */
    for (size_t i = t ? t->states.n : 0; i-- > 0;)
        if (((const struct oauth_state *)t->states.v)[i].expires_at <= now)
            rows_remove(&t->states, &kinds[T_STATES], i);
    return leave(st, status);
}

static gh_status fk_migrate(struct store *st)
{
    gh_status status;
    struct tables *t = enter(st, FAKE_MEMBER(migrate), MIGRATES, &status);
    if (t && !t->created) {
        struct readiness_row *r = rows_add(&t->readiness, sizeof *r);
        t->created = r != NULL;
        status = r ? GH_OK : GH_NO_MEMORY;
    }
    for (int64_t v = 1; t && status == GH_OK && v <= MIGRATIONS; v++) {
        const struct migration_row *done = t->migrations.v;
        bool applied = false;
        for (size_t i = 0; i < t->migrations.n; i++)
            applied = applied || done[i].version == v;
        struct migration_row *m = applied ? NULL : rows_add(&t->migrations, sizeof *m);
        if (m)
            *m = (struct migration_row){.version = v, .applied_at = (int64_t)time(NULL)};
        else if (!applied)
            status = GH_NO_MEMORY;
    }
    return leave(st, status);
}

static gh_status fk_ping(struct store *st)
{
    gh_status status;
    enter(st, FAKE_MEMBER(ping), PINGS, &status);
    return leave(st, status);
}

/* ---- transactions ---- */

static gh_status fk_begin(struct store *st)
{
    struct fake_store *fs = fake_of(st);
    struct fake_db *db = fs->db;
    pthread_mutex_lock(&db->lock);
    gh_status status = take_call(db, FAKE_MEMBER(begin));
    if (status == GH_OK && owns_tx(db, fs))
        status = refuse("cannot start a transaction within a transaction");
    if (status == GH_OK)
        status = wait_for_tx_end(db);
    if (status == GH_OK)
        status = tables_copy(&db->committed, &db->live);
    if (status == GH_OK) {
        db->in_tx = true;
        db->tx_store = fs;
        db->tx_thread = pthread_self();
        db->tx_failed = false;
    }
    pthread_mutex_unlock(&db->lock);
    return status;
}

static gh_status fk_commit(struct store *st)
{
    struct fake_store *fs = fake_of(st);
    struct fake_db *db = fs->db;
    pthread_mutex_lock(&db->lock);
    gh_status status = take_call(db, FAKE_MEMBER(commit));
    bool owner = owns_tx(db, fs);
    if (status == GH_OK && !owner)
        status = refuse("cannot commit - no transaction is active");
    else if (status == GH_OK && db->tx_failed)
        status = refuse("transaction was rolled back at commit");
    if (owner)
        end_tx(db, status == GH_OK);
    pthread_mutex_unlock(&db->lock);
    return status;
}

static void fk_rollback(struct store *st)
{
    struct fake_store *fs = fake_of(st);
    struct fake_db *db = fs->db;
    pthread_mutex_lock(&db->lock);
    db->calls[FAKE_MEMBER(rollback) / sizeof(void *)]++;
    if (owns_tx(db, fs))
        end_tx(db, false);
    pthread_mutex_unlock(&db->lock);
}

/* Closing a connection ends its transaction, as a database does. */
static void fk_close(struct store *st)
{
    struct fake_store *fs = fake_of(st);
    struct fake_db *db = fs->db;
    pthread_mutex_lock(&db->lock);
    if (db->in_tx && db->tx_store == fs)
        end_tx(db, false);
    pthread_mutex_unlock(&db->lock);
    if (fs->owns_db)
        fake_db_free(&fs->db);
    free(fs);
}

gh_status fake_store_open(struct fake_db *db, struct store **out)
{
    struct fake_store *fs = calloc(1, sizeof *fs);
    if (!fs)
        return GH_NO_MEMORY;
    fs->db = db;
    fs->base = (struct store){
        .impl = fs,
        .migrate = fk_migrate,
        .ping = fk_ping,
        .ready_write = fk_ready_write,
        .begin = fk_begin,
        .commit = fk_commit,
        .rollback = fk_rollback,
        .close = fk_close,
        .user_insert = fk_user_insert,
        .user_by_email = fk_user_by_email,
        .user_by_id = fk_user_by_id,
        .user_activate = fk_user_activate,
        .user_set_password = fk_user_set_password,
        .user_replace_password_hash = fk_user_replace_password_hash,
        .user_update_profile = fk_user_update_profile,
        .session_insert = fk_session_insert,
        .session_lookup = fk_session_lookup,
        .session_delete = fk_session_delete,
        .session_touch = fk_session_touch,
        .session_list = fk_session_list,
        .session_delete_all = fk_session_delete_all,
        .onetime_insert = fk_onetime_insert,
        .onetime_consume = fk_onetime_consume,
        .onetime_peek = fk_onetime_peek,
        .onetime_revoke_all = fk_onetime_revoke_all,
        .outbox_insert = fk_outbox_insert,
        .outbox_request = fk_outbox_request,
        .outbox_claim = fk_outbox_claim,
        .outbox_resolve = fk_outbox_resolve,
        .outbox_discard = fk_outbox_discard,
        .outbox_mark_sent = fk_outbox_mark_sent,
        .outbox_schedule_retry = fk_outbox_schedule_retry,
        .outbox_pending = fk_outbox_pending,
        .audit_insert = fk_audit_insert,
        .rate_hit = fk_rate_hit,
        .rate_peek = fk_rate_peek,
        .rate_refund = fk_rate_refund,
        .rate_clear = fk_rate_clear,
        .secret_get_or_create = fk_secret_get_or_create,
        .signing_key_insert = fk_signing_key_insert,
        .signing_key_list = fk_signing_key_list,
        .signing_key_retire_older = fk_signing_key_retire_older,
        .refresh_insert = fk_refresh_insert,
        .refresh_rotate = fk_refresh_rotate,
        .refresh_get = fk_refresh_get,
        .refresh_revoke_family = fk_refresh_revoke_family,
        .refresh_revoke_user = fk_refresh_revoke_user,
        .refresh_revoke_session = fk_refresh_revoke_session,
        .client_insert = fk_client_insert,
        .client_get = fk_client_get,
        .identity_insert = fk_identity_insert,
        .identity_get = fk_identity_get,
        .identity_list = fk_identity_list,
        .identity_delete = fk_identity_delete,
        .state_insert = fk_state_insert,
        .state_consume = fk_state_consume,
        .user_count_legacy_hashes = fk_user_count_legacy_hashes,
        .user_legacy_hashes = fk_user_legacy_hashes,
        .import_map_get = fk_import_map_get,
        .import_map_insert = fk_import_map_insert,
        .purge_expired = fk_purge_expired,
    };
    *out = &fs->base;
    return GH_OK;
}

gh_status fake_store_new(struct store **out)
{
    struct fake_db *db = NULL;
    struct store *st = NULL;
    gh_status status = fake_db_new(&db);
    if (status == GH_OK)
        status = fake_store_open(db, &st);
    if (status == GH_OK) {
        fake_of(st)->owns_db = true;
        db = NULL;
        status = st->migrate(st);
    }
    if (status != GH_OK && st)
        st->close(st);
    fake_db_free(&db);
    if (status == GH_OK)
        *out = st;
    return status;
}

/* ---- faults and counts ---- */

void fake_db_fail(struct fake_db *db, size_t member, int after, int times, gh_status status)
{
    pthread_mutex_lock(&db->lock);
    db->faults[member / sizeof(void *)] =
        status == GH_OK || times == 0
            ? (struct fault){0}
            : (struct fault){.after = after, .times = times, .status = status};
    pthread_mutex_unlock(&db->lock);
}

void fake_db_heal(struct fake_db *db)
{
    pthread_mutex_lock(&db->lock);
    memset(db->faults, 0, sizeof db->faults);
    pthread_mutex_unlock(&db->lock);
}

unsigned fake_db_calls(struct fake_db *db, size_t member)
{
    pthread_mutex_lock(&db->lock);
    unsigned n = db->calls[member / sizeof(void *)];
    pthread_mutex_unlock(&db->lock);
    return n;
}

/* ---- reading behind the store's back: a small SQL subset ---- */

/* A column's value in a row: text, or NULL (null set). */
struct value {
    bool null;
    const char *text;
    char num[24];
};

static void text_value(struct value *v, const char *s)
{
    v->null = !s;
    v->text = s ? s : "";
}

/* The SQL backends store an empty optional field as NULL. */
static void optional_value(struct value *v, const char *s)
{
    text_value(v, s && *s ? s : NULL);
}

static void int_value(struct value *v, int64_t n)
{
    snprintf(v->num, sizeof v->num, "%lld", (long long)n);
    v->null = false;
    v->text = v->num;
}

/* Each table's columns: fills v with the column name of row; false when there is no such
 * column. */
typedef bool (*column_fn)(const void *row, const char *name, struct value *v);

static bool user_column(const void *row, const char *name, struct value *v)
{
    const struct user *u = row;
    if (!strcmp(name, "id"))
        text_value(v, u->id);
    else if (!strcmp(name, "email"))
        text_value(v, u->email);
    else if (!strcmp(name, "password_hash"))
        text_value(v, u->password_hash);
    else if (!strcmp(name, "first_name"))
        text_value(v, u->first_name);
    else if (!strcmp(name, "last_name"))
        text_value(v, u->last_name);
    else if (!strcmp(name, "is_active"))
        int_value(v, u->is_active);
    else if (!strcmp(name, "is_staff"))
        int_value(v, u->is_staff);
    else if (!strcmp(name, "is_superuser"))
        int_value(v, u->is_superuser);
    else if (!strcmp(name, "thumbnail"))
        optional_value(v, u->thumbnail);
    else if (!strcmp(name, "date_joined"))
        int_value(v, u->date_joined);
    else
        return false;
    return true;
}

static bool profile_column(const void *row, const char *name, struct value *v)
{
    const struct user *u = row;
    if (!strcmp(name, "id"))
        text_value(v, u->profile.id);
    else if (!strcmp(name, "user_id"))
        text_value(v, u->id);
    else if (!strcmp(name, "phone_number"))
        optional_value(v, u->profile.phone_number);
    else if (!strcmp(name, "birth_date"))
        optional_value(v, u->profile.birth_date);
    else if (!strcmp(name, "github_link"))
        optional_value(v, u->profile.github_link);
    else
        return false;
    return true;
}

static bool session_column(const void *row, const char *name, struct value *v)
{
    const struct session *s = row;
    if (!strcmp(name, "token_hash"))
        text_value(v, s->token_hash);
    else if (!strcmp(name, "id"))
        text_value(v, s->id);
    else if (!strcmp(name, "user_id"))
        text_value(v, s->user_id);
    else if (!strcmp(name, "created_at"))
        int_value(v, s->created_at);
    else if (!strcmp(name, "expires_at"))
        int_value(v, s->expires_at);
    else if (!strcmp(name, "last_seen_at"))
        int_value(v, s->last_seen_at);
    else if (!strcmp(name, "ip"))
        text_value(v, s->ip);
    else if (!strcmp(name, "user_agent"))
        text_value(v, s->user_agent);
    else
        return false;
    return true;
}

static bool token_column(const void *row, const char *name, struct value *v)
{
    const struct token_row *t = row;
    if (!strcmp(name, "token_hash"))
        text_value(v, t->token_hash);
    else if (!strcmp(name, "user_id"))
        text_value(v, t->user_id);
    else if (!strcmp(name, "purpose"))
        text_value(v, t->purpose);
    else if (!strcmp(name, "created_at"))
        int_value(v, t->created_at);
    else if (!strcmp(name, "expires_at"))
        int_value(v, t->expires_at);
    else if (!strcmp(name, "used_at")) {
        int_value(v, t->used_at);
        v->null = !t->used;
    } else
        return false;
    return true;
}

static bool mail_column(const void *row, const char *name, struct value *v)
{
    const struct mail_row *m = row;
    if (!strcmp(name, "id"))
        int_value(v, m->id);
    else if (!strcmp(name, "recipient"))
        text_value(v, m->recipient);
    else if (!strcmp(name, "request"))
        text_value(v, m->request);
    else if (!strcmp(name, "subject"))
        text_value(v, m->subject);
    else if (!strcmp(name, "text_body"))
        text_value(v, m->text_body);
    else if (!strcmp(name, "html_body"))
        text_value(v, m->html_body);
    else if (!strcmp(name, "attempts"))
        int_value(v, m->attempts);
    else if (!strcmp(name, "next_attempt_at"))
        int_value(v, m->next_attempt_at);
    else if (!strcmp(name, "sent_at")) {
        int_value(v, m->sent_at);
        v->null = !m->sent;
    } else if (!strcmp(name, "last_error"))
        text_value(v, m->last_error);
    else if (!strcmp(name, "created_at"))
        int_value(v, m->created_at);
    else
        return false;
    return true;
}

static bool audit_column(const void *row, const char *name, struct value *v)
{
    const struct audit_row *a = row;
    if (!strcmp(name, "id"))
        int_value(v, a->id);
    else if (!strcmp(name, "created_at"))
        int_value(v, a->created_at);
    else if (!strcmp(name, "event"))
        text_value(v, a->event);
    else if (!strcmp(name, "user_id"))
        text_value(v, a->user_id);
    else if (!strcmp(name, "email"))
        text_value(v, a->email);
    else if (!strcmp(name, "ip"))
        text_value(v, a->ip);
    else if (!strcmp(name, "user_agent"))
        text_value(v, a->user_agent);
    else if (!strcmp(name, "detail"))
        text_value(v, a->detail);
    else
        return false;
    return true;
}

static bool rate_column(const void *row, const char *name, struct value *v)
{
    const struct rate_row *r = row;
    if (!strcmp(name, "key"))
        text_value(v, r->key);
    else if (!strcmp(name, "count"))
        int_value(v, r->count);
    else if (!strcmp(name, "expires_at"))
        int_value(v, r->expires_at);
    else
        return false;
    return true;
}

static bool secret_column(const void *row, const char *name, struct value *v)
{
    const struct secret_row *s = row;
    if (!strcmp(name, "name"))
        text_value(v, s->name);
    else if (!strcmp(name, "value"))
        text_value(v, s->value);
    else if (!strcmp(name, "created_at"))
        int_value(v, s->created_at);
    else
        return false;
    return true;
}

static bool migration_column(const void *row, const char *name, struct value *v)
{
    const struct migration_row *m = row;
    if (!strcmp(name, "version"))
        int_value(v, m->version);
    else if (!strcmp(name, "applied_at"))
        int_value(v, m->applied_at);
    else
        return false;
    return true;
}

static bool readiness_column(const void *row, const char *name, struct value *v)
{
    const struct readiness_row *r = row;
    if (!strcmp(name, "id"))
        int_value(v, 1);
    else if (!strcmp(name, "checked_at"))
        int_value(v, r->checked_at);
    else if (!strcmp(name, "probes"))
        int_value(v, r->probes);
    else
        return false;
    return true;
}

static bool key_column(const void *row, const char *name, struct value *v)
{
    const struct key_row *r = row;
    if (!strcmp(name, "kid"))
        text_value(v, r->k.kid);
    else if (!strcmp(name, "alg"))
        text_value(v, r->k.alg);
    else if (!strcmp(name, "private_key"))
        text_value(v, r->k.private_key);
    else if (!strcmp(name, "created_at"))
        int_value(v, r->k.created_at);
    else if (!strcmp(name, "activates_at"))
        int_value(v, r->k.activates_at);
    else if (!strcmp(name, "retires_at")) {
        int_value(v, r->k.retires_at);
        v->null = !r->retires;
    } else
        return false;
    return true;
}

static bool refresh_column(const void *row, const char *name, struct value *v)
{
    const struct refresh_row *r = row;
    if (!strcmp(name, "token_hash"))
        text_value(v, r->t.token_hash);
    else if (!strcmp(name, "family_id"))
        text_value(v, r->t.family_id);
    else if (!strcmp(name, "user_id"))
        text_value(v, r->t.user_id);
    else if (!strcmp(name, "client_id"))
        optional_value(v, r->t.client_id);
    else if (!strcmp(name, "session_hash"))
        optional_value(v, r->t.session_hash);
    else if (!strcmp(name, "created_at"))
        int_value(v, r->t.created_at);
    else if (!strcmp(name, "expires_at"))
        int_value(v, r->t.expires_at);
    else if (!strcmp(name, "rotated_at")) {
        int_value(v, r->t.rotated_at);
        v->null = !r->rotated;
    } else if (!strcmp(name, "revoked_at")) {
        int_value(v, r->t.revoked_at);
        v->null = !r->revoked;
    } else
        return false;
    return true;
}

static bool client_column(const void *row, const char *name, struct value *v)
{
    const struct oauth_client *c = row;
    if (!strcmp(name, "id"))
        text_value(v, c->id);
    else if (!strcmp(name, "name"))
        text_value(v, c->name);
    else if (!strcmp(name, "secret_hash"))
        optional_value(v, c->secret_hash);
    else if (!strcmp(name, "confidential"))
        int_value(v, c->confidential);
    else if (!strcmp(name, "grants"))
        int_value(v, c->grants);
    else if (!strcmp(name, "created_at"))
        int_value(v, c->created_at);
    else
        return false;
    return true;
}

static bool identity_column(const void *row, const char *name, struct value *v)
{
    const struct oauth_identity *i = row;
    if (!strcmp(name, "provider"))
        text_value(v, i->provider);
    else if (!strcmp(name, "subject"))
        text_value(v, i->subject);
    else if (!strcmp(name, "user_id"))
        text_value(v, i->user_id);
    else if (!strcmp(name, "email"))
        optional_value(v, i->email);
    else if (!strcmp(name, "created_at"))
        int_value(v, i->created_at);
    else
        return false;
    return true;
}

static bool state_column(const void *row, const char *name, struct value *v)
{
    const struct oauth_state *s = row;
    if (!strcmp(name, "state_hash"))
        text_value(v, s->state_hash);
    else if (!strcmp(name, "binding_hash"))
        text_value(v, s->binding_hash);
    else if (!strcmp(name, "provider"))
        text_value(v, s->provider);
    else if (!strcmp(name, "code_verifier"))
        text_value(v, s->code_verifier);
    else if (!strcmp(name, "nonce"))
        text_value(v, s->nonce);
    else if (!strcmp(name, "next"))
        optional_value(v, s->next);
    else if (!strcmp(name, "created_at"))
        int_value(v, s->created_at);
    else if (!strcmp(name, "expires_at"))
        int_value(v, s->expires_at);
    else
        return false;
    return true;
}

static bool import_column(const void *row, const char *name, struct value *v)
{
    const struct import_row *r = row;
    if (!strcmp(name, "source"))
        text_value(v, r->source);
    else if (!strcmp(name, "old_id"))
        text_value(v, r->old_id);
    else if (!strcmp(name, "user_id"))
        text_value(v, r->user_id);
    else if (!strcmp(name, "imported_at"))
        int_value(v, r->imported_at);
    else
        return false;
    return true;
}

/* The tables a query may name, with where their rows are. */
static const struct table_def {
    const char *name;
    const struct table_kind *kind;
    column_fn column;
} table_defs[] = {
    {"users", &kinds[T_USERS], user_column},
    {"user_profiles", &kinds[T_USERS], profile_column},
    {"sessions", &kinds[T_SESSIONS], session_column},
    {"one_time_tokens", &kinds[T_TOKENS], token_column},
    {"mail_outbox", &kinds[T_MAILS], mail_column},
    {"audit_log", &kinds[T_AUDIT], audit_column},
    {"rate_limits", &kinds[T_RATES], rate_column},
    {"server_secrets", &kinds[T_SECRETS], secret_column},
    {"schema_migrations", &kinds[T_MIGRATIONS], migration_column},
    {"readiness", &kinds[T_READINESS], readiness_column},
    {"signing_keys", &kinds[T_KEYS], key_column},
    {"refresh_tokens", &kinds[T_REFRESH], refresh_column},
    {"oauth_clients", &kinds[T_CLIENTS], client_column},
    {"oauth_identities", &kinds[T_IDENTITIES], identity_column},
    {"oauth_states", &kinds[T_STATES], state_column},
    {"import_id_map", &kinds[T_IMPORTS], import_column},
};

/* ---- the lexer ---- */

enum token_type { TOK_END, TOK_WORD, TOK_NUMBER, TOK_STRING, TOK_SYMBOL };

struct lexer {
    const char *p;
    enum token_type type;
    char text[256];
    bool bad; /* a token did not fit or a string was not closed */
};

static void lex_next(struct lexer *l)
{
    size_t n = 0;
    while (isspace((unsigned char)*l->p))
        l->p++;
    const char *p = l->p;
    if (!*p) {
        l->type = TOK_END;
        l->text[0] = '\0';
        return;
    }
    if (isalpha((unsigned char)*p) || *p == '_') {
        l->type = TOK_WORD;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
    } else if (isdigit((unsigned char)*p) || (*p == '-' && isdigit((unsigned char)p[1]))) {
        l->type = TOK_NUMBER;
        p++;
        while (isdigit((unsigned char)*p))
            p++;
    } else if (*p == '\'') {
        /* 'it''s' is it's */
        l->type = TOK_STRING;
        for (p++; *p && !(*p == '\'' && p[1] != '\''); p++) {
            if (*p == '\'')
                p++;
            if (n + 1 < sizeof l->text)
                l->text[n++] = *p;
            else
                l->bad = true;
        }
        if (*p != '\'')
            l->bad = true;
        l->text[n] = '\0';
        l->p = *p ? p + 1 : p;
        return;
    } else {
        l->type = TOK_SYMBOL;
        p += (!strncmp(p, "||", 2) || !strncmp(p, "<>", 2)) ? 2 : 1;
    }
    n = (size_t)(p - l->p);
    if (n >= sizeof l->text) {
        l->bad = true;
        n = sizeof l->text - 1;
    }
    memcpy(l->text, l->p, n);
    l->text[n] = '\0';
    l->p = p;
}

/* True, and past it, when the current token is the keyword or symbol s (any case). */
static bool lex_accept(struct lexer *l, const char *s)
{
    if ((l->type != TOK_WORD && l->type != TOK_SYMBOL) || !same_nocase(l->text, s))
        return false;
    lex_next(l);
    return true;
}

/* Copies the current token, a word (a column), into out and moves past it. */
static bool lex_column(struct lexer *l, char *out, size_t cap)
{
    if (l->type != TOK_WORD || strlen(l->text) >= cap)
        return false;
    strcpy(out, l->text);
    lex_next(l);
    return true;
}

/* ---- the query ---- */

#define QUERY_TERMS 8
#define QUERY_CONDS 8
#define COND_VALUES 8 /* of IN (…) */
#define NAME_CAP    64

enum aggregate { AGG_NONE, AGG_COUNT, AGG_COUNT_DISTINCT, AGG_MIN, AGG_MAX };

struct term {
    bool literal;
    char text[256]; /* the literal, or the column */
};

struct cond_value {
    bool number;
    int64_t num;
    char text[256];
};

struct cond {
    char column[NAME_CAP];
    char op[4]; /* "=", "<>", "<", ">", "IN", "N" (IS NULL), "!N" (IS NOT NULL) */
    int nvalues;
    struct cond_value values[COND_VALUES];
};

struct query {
    enum aggregate agg;
    char agg_column[NAME_CAP];
    struct term terms[QUERY_TERMS];
    int nterms;
    const struct table_def *table;
    bool delete; /* DELETE FROM table: a statement of fake_db_exec */
    struct cond conds[QUERY_CONDS];
    int nconds;
};

static bool parse_expr(struct lexer *l, struct query *q)
{
    static const struct {
        const char *word;
        enum aggregate agg;
    } aggs[] = {{"count", AGG_COUNT}, {"min", AGG_MIN}, {"max", AGG_MAX}};
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++) {
        const char *rest = l->p;
        while (isspace((unsigned char)*rest))
            rest++;
        if (l->type != TOK_WORD || !same_nocase(l->text, aggs[i].word) || *rest != '(')
            continue;
        lex_next(l);
        lex_next(l); /* ( */
        q->agg = aggs[i].agg;
        if (q->agg == AGG_COUNT && lex_accept(l, "*"))
            return lex_accept(l, ")");
        if (q->agg == AGG_COUNT && lex_accept(l, "DISTINCT"))
            q->agg = AGG_COUNT_DISTINCT;
        if (q->agg == AGG_COUNT)
            return false; /* count(col): not needed so far */
        return lex_column(l, q->agg_column, sizeof q->agg_column) && lex_accept(l, ")");
    }
    do {
        if (q->nterms == QUERY_TERMS)
            return false;
        struct term *t = &q->terms[q->nterms++];
        if (l->type == TOK_STRING) {
            t->literal = true;
            strcpy(t->text, l->text);
            lex_next(l);
        } else if (!lex_column(l, t->text, sizeof t->text)) {
            return false;
        }
    } while (lex_accept(l, "||"));
    return true;
}

/* Reads a value, 'text' or an integer, into v. */
static bool parse_value(struct lexer *l, struct cond_value *v)
{
    if (l->type == TOK_NUMBER) {
        v->number = true;
        v->num = strtoll(l->text, NULL, 10);
    } else if (l->type != TOK_STRING) {
        return false;
    }
    strcpy(v->text, l->text);
    lex_next(l);
    return true;
}

static bool parse_cond(struct lexer *l, struct cond *c)
{
    if (!lex_column(l, c->column, sizeof c->column))
        return false;
    if (lex_accept(l, "IS")) {
        strcpy(c->op, lex_accept(l, "NOT") ? "!N" : "N");
        return lex_accept(l, "NULL");
    }
    if (lex_accept(l, "IN")) {
        strcpy(c->op, "IN");
        if (!lex_accept(l, "("))
            return false;
        do {
            if (c->nvalues == COND_VALUES || !parse_value(l, &c->values[c->nvalues++]))
                return false;
        } while (lex_accept(l, ","));
        return lex_accept(l, ")");
    }
    const char *ops[] = {"=", "<>", "<", ">"};
    size_t i = 0;
    while (i < sizeof ops / sizeof ops[0] && !(l->type == TOK_SYMBOL && !strcmp(l->text, ops[i])))
        i++;
    if (i == sizeof ops / sizeof ops[0])
        return false;
    strcpy(c->op, ops[i]);
    lex_next(l);
    c->nvalues = 1;
    return parse_value(l, &c->values[0]);
}

/* Parses SELECT expr FROM table [WHERE …] or, for fake_db_exec, DELETE FROM table [WHERE …]. */
static bool parse_query(const char *sql, struct query *q)
{
    struct lexer l = {.p = sql};
    char table[NAME_CAP];
    memset(q, 0, sizeof *q);
    lex_next(&l);
    if (lex_accept(&l, "DELETE"))
        q->delete = true;
    else if (!lex_accept(&l, "SELECT") || !parse_expr(&l, q))
        return false;
    if (!lex_accept(&l, "FROM") || !lex_column(&l, table, sizeof table))
        return false;
    for (size_t i = 0; i < sizeof table_defs / sizeof table_defs[0]; i++)
        if (!strcmp(table_defs[i].name, table))
            q->table = &table_defs[i];
    if (!q->table)
        return false;
    if (lex_accept(&l, "WHERE")) {
        do {
            if (q->nconds == QUERY_CONDS || !parse_cond(&l, &q->conds[q->nconds++]))
                return false;
        } while (lex_accept(&l, "AND"));
    }
    return l.type == TOK_END && !l.bad;
}

/* True when every column the query names is a column of its table. */
static bool columns_known(const struct query *q)
{
    static const union {
        struct user u;
        struct session s;
        struct token_row t;
        struct mail_row m;
        struct audit_row a;
        struct rate_row r;
        struct secret_row k;
        struct migration_row g;
        struct readiness_row y;
        struct key_row sk;
        struct refresh_row rt;
        struct oauth_client oc;
        struct oauth_identity oi;
        struct oauth_state os;
    } empty;
    struct value v;
    bool ok =
        q->agg == AGG_NONE || q->agg == AGG_COUNT || q->table->column(&empty, q->agg_column, &v);
    for (int i = 0; ok && i < q->nterms; i++)
        ok = q->terms[i].literal || q->table->column(&empty, q->terms[i].text, &v);
    for (int i = 0; ok && i < q->nconds; i++)
        ok = q->table->column(&empty, q->conds[i].column, &v);
    return ok;
}

/* Compares the value v (not NULL) with c: <0, 0 or >0. */
static int compare(const struct value *v, const struct cond_value *c)
{
    if (!c->number)
        return strcmp(v->text, c->text);
    int64_t n = strtoll(v->text, NULL, 10);
    return (n > c->num) - (n < c->num);
}

static bool matches(const struct query *q, const void *row)
{
    for (int i = 0; i < q->nconds; i++) {
        const struct cond *c = &q->conds[i];
        struct value v;
        q->table->column(row, c->column, &v);
        if (c->op[0] == 'N' || c->op[0] == '!') {
            if (v.null != (c->op[0] == 'N'))
                return false;
            continue;
        }
        if (v.null)
            return false;
        if (!strcmp(c->op, "IN")) {
            bool any = false;
            for (int k = 0; k < c->nvalues && !any; k++)
                any = compare(&v, &c->values[k]) == 0;
            if (!any)
                return false;
            continue;
        }
        int cmp = compare(&v, &c->values[0]);
        bool ok = !strcmp(c->op, "=")    ? cmp == 0
                  : !strcmp(c->op, "<>") ? cmp != 0
                  : !strcmp(c->op, "<")  ? cmp < 0
                                         : cmp > 0;
        if (!ok)
            return false;
    }
    return true;
}

/* Writes the value of the query's terms for row (NULL when any is) into out. */
static void concat_terms(const struct query *q, const void *row, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < q->nterms; i++) {
        struct value v;
        if (q->terms[i].literal)
            text_value(&v, q->terms[i].text);
        else
            q->table->column(row, q->terms[i].text, &v);
        if (v.null) {
            snprintf(out, cap, "(null)");
            return;
        }
        int w = snprintf(out + n, cap - n, "%s", v.text);
        n = w < 0 || (size_t)w >= cap - n ? cap - 1 : n + (size_t)w;
    }
}

/* Runs q on the rows of t into out. */
static gh_status run_query(const struct query *q, struct tables *t, char *out, size_t cap)
{
    const struct rows *r = rows_of(t, q->table->kind);
    size_t size = q->table->kind->size;
    int64_t count = 0, best = 0;
    bool have = false;
    for (size_t i = 0; i < r->n; i++) {
        const char *row = (const char *)r->v + i * size;
        if (!matches(q, row))
            continue;
        struct value v;
        if (q->agg == AGG_NONE) {
            concat_terms(q, row, out, cap);
            return GH_OK;
        }
        if (q->agg == AGG_COUNT) {
            count++;
            continue;
        }
        q->table->column(row, q->agg_column, &v);
        if (v.null)
            continue;
        if (q->agg == AGG_COUNT_DISTINCT) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++) {
                const char *earlier = (const char *)r->v + j * size;
                struct value w;
                q->table->column(earlier, q->agg_column, &w);
                seen = matches(q, earlier) && !w.null && !strcmp(w.text, v.text);
            }
            count += !seen;
            continue;
        }
        int64_t n = strtoll(v.text, NULL, 10);
        if (!have || (q->agg == AGG_MIN ? n < best : n > best))
            best = n;
        have = true;
    }
    if (q->agg == AGG_NONE)
        return GH_NOT_FOUND;
    if (q->agg == AGG_MIN || q->agg == AGG_MAX) {
        if (have)
            snprintf(out, cap, "%lld", (long long)best);
        else
            snprintf(out, cap, "(null)");
    } else {
        snprintf(out, cap, "%lld", (long long)count);
    }
    return GH_OK;
}

gh_status fake_db_query(struct fake_db *db, const char *sql, char *out, size_t cap)
{
    struct query q;
    if (!cap)
        return GH_INTERNAL;
    out[0] = '\0';
    if (!parse_query(sql, &q) || q.delete || !columns_known(&q)) {
        log_msg(LOG_ERROR, "fake store: cannot run \"%s\"", sql);
        return GH_INTERNAL;
    }
    pthread_mutex_lock(&db->lock);
    struct tables *t = db->in_tx ? &db->committed : &db->live; /* what other clients see */
    gh_status status = t->created ? run_query(&q, t, out, cap) : GH_INTERNAL;
    pthread_mutex_unlock(&db->lock);
    if (status == GH_INTERNAL)
        log_msg(LOG_ERROR, "fake store: no such table (not migrated): \"%s\"", sql);
    return status;
}

/* ---- changing rows behind the store's back ---- */

/* Deletes the rows of the other tables that reference the user, as their ON DELETE CASCADE
 * does (the profile goes with the users row). */
static void cascade_user(struct tables *t, const char *user_id)
{
    for (size_t i = t->sessions.n; i-- > 0;)
        if (!strcmp(((const struct session *)t->sessions.v)[i].user_id, user_id))
            rows_remove(&t->sessions, &kinds[T_SESSIONS], i);
    for (size_t i = t->tokens.n; i-- > 0;)
        if (!strcmp(((const struct token_row *)t->tokens.v)[i].user_id, user_id))
            rows_remove(&t->tokens, &kinds[T_TOKENS], i);
    for (size_t i = t->refresh.n; i-- > 0;)
        if (!strcmp(((const struct refresh_row *)t->refresh.v)[i].t.user_id, user_id))
            rows_remove(&t->refresh, &kinds[T_REFRESH], i);
    for (size_t i = t->identities.n; i-- > 0;)
        if (!strcmp(((const struct oauth_identity *)t->identities.v)[i].user_id, user_id))
            rows_remove(&t->identities, &kinds[T_IDENTITIES], i);
    for (size_t i = t->imports.n; i-- > 0;)
        if (!strcmp(((const struct import_row *)t->imports.v)[i].user_id, user_id))
            rows_remove(&t->imports, &kinds[T_IMPORTS], i);
}

gh_status fake_db_exec(struct fake_db *db, const char *sql)
{
    struct query q;
    /* A profile lives in its user's row here: it cannot go without it. */
    if (!parse_query(sql, &q) || !q.delete || !columns_known(&q) ||
        (q.table->kind == &kinds[T_USERS] && strcmp(q.table->name, "users"))) {
        log_msg(LOG_ERROR, "fake store: cannot run \"%s\"", sql);
        return GH_INTERNAL;
    }
    pthread_mutex_lock(&db->lock);
    /* Another connection: it waits for a transaction to end, as any write does. */
    gh_status status = wait_for_tx_end(db);
    struct tables *t = &db->live;
    if (status == GH_OK && !t->created) {
        log_msg(LOG_ERROR, "fake store: no such table (not migrated): \"%s\"", sql);
        status = GH_INTERNAL;
    }
    struct rows *r = status == GH_OK ? rows_of(t, q.table->kind) : NULL;
    for (size_t i = r ? r->n : 0; i-- > 0;) {
        void *row = (char *)r->v + i * q.table->kind->size;
        if (!matches(&q, row))
            continue;
        if (q.table->kind == &kinds[T_USERS]) {
            char id[UUID_LEN + 1];
            memcpy(id, ((const struct user *)row)->id, sizeof id);
            cascade_user(t, id);
        }
        rows_remove(r, q.table->kind, i);
    }
    pthread_mutex_unlock(&db->lock);
    return status;
}
