/* Reading an import's source on PostgreSQL (rust-auth or Django): one connection of its own,
 * one read-only repeatable-read transaction, one cursor over the accounts in id order. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../import_source.h"

struct pg_source {
    struct import_source base;
    PGconn *pg;
    enum import_kind kind;
};

/* The columns of struct import_row, in order, for each kind. */
static const char *const rows_sql[] = {
    [IMPORT_RUST_AUTH] =
        "DECLARE gh_import NO SCROLL CURSOR FOR "
        "SELECT u.id::text, u.email, u.password, u.first_name, u.last_name, "
        "coalesce(u.is_active, false), coalesce(u.is_staff, false), "
        "coalesce(u.is_superuser, false), coalesce(extract(epoch FROM u.date_joined)::bigint, 0), "
        "coalesce(u.thumbnail, ''), p.user_id IS NOT NULL, coalesce(p.phone_number::text, ''), "
        "coalesce(to_char(p.birth_date, 'YYYY-MM-DD'), ''), coalesce(p.github_link, '') "
        "FROM users u LEFT JOIN user_profile p ON p.user_id = u.id ORDER BY u.id",
    [IMPORT_DJANGO] =
        "DECLARE gh_import NO SCROLL CURSOR FOR "
        "SELECT u.id::text, u.email, u.password, u.first_name, u.last_name, "
        "coalesce(u.is_active, false), coalesce(u.is_staff, false), "
        "coalesce(u.is_superuser, false), coalesce(extract(epoch FROM u.date_joined)::bigint, 0), "
        "'', p.user_id IS NOT NULL, coalesce(p.phone_number::text, ''), "
        "coalesce(to_char(p.birth_date, 'YYYY-MM-DD'), ''), coalesce(p.github_link, '') "
        "FROM users_user u LEFT JOIN user_profile p ON p.user_id = u.id ORDER BY u.id",
};
static const char *const users_table[] = {
    [IMPORT_RUST_AUTH] = "users", [IMPORT_DJANGO] = "users_user"};

/* Runs text; GH_OK with *res (the caller clears it) when it succeeded. */
static gh_status run(struct pg_source *s, const char *text, PGresult **res, char *err,
                     size_t errlen)
{
    PGresult *r = PQexec(s->pg, text);
    ExecStatusType rs = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(s->pg);
        snprintf(err, errlen, "the source database refused a query: %.*s", (int)strcspn(msg, "\n"),
                 msg);
        PQclear(r);
        return GH_UNAVAILABLE;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return GH_OK;
}

static void copy(const PGresult *r, int row, int col, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s", PQgetvalue(r, row, col));
}

static gh_status pg_next(struct import_source *src, struct import_row *rows, size_t cap, size_t *n)
{
    struct pg_source *s = (struct pg_source *)src;
    char text[64], err[256];
    PGresult *r = NULL;
    *n = 0;
    snprintf(text, sizeof text, "FETCH FORWARD %zu FROM gh_import", cap);
    if (run(s, text, &r, err, sizeof err) != GH_OK) {
        fprintf(stderr, "gatehouse: import: %s\n", err);
        return GH_UNAVAILABLE;
    }
    int count = PQntuples(r);
    for (int i = 0; i < count && (size_t)i < cap; i++) {
        struct import_row *o = &rows[i];
        memset(o, 0, sizeof *o);
        copy(r, i, 0, o->id, sizeof o->id);
        copy(r, i, 1, o->email, sizeof o->email);
        copy(r, i, 2, o->password, sizeof o->password);
        copy(r, i, 3, o->first_name, sizeof o->first_name);
        copy(r, i, 4, o->last_name, sizeof o->last_name);
        o->is_active = PQgetvalue(r, i, 5)[0] == 't';
        o->is_staff = PQgetvalue(r, i, 6)[0] == 't';
        o->is_superuser = PQgetvalue(r, i, 7)[0] == 't';
        o->date_joined = strtoll(PQgetvalue(r, i, 8), NULL, 10);
        copy(r, i, 9, o->thumbnail, sizeof o->thumbnail);
        o->has_profile = PQgetvalue(r, i, 10)[0] == 't';
        copy(r, i, 11, o->phone_number, sizeof o->phone_number);
        copy(r, i, 12, o->birth_date, sizeof o->birth_date);
        copy(r, i, 13, o->github_link, sizeof o->github_link);
        (*n)++;
    }
    PQclear(r);
    return GH_OK;
}

/* The whitespace that email_normalize trims (isspace in the C locale). */
#define TRIMMED "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"

static gh_status pg_duplicates(struct import_source *src, char ***out, size_t *n)
{
    struct pg_source *s = (struct pg_source *)src;
    char text[256], err[256];
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    snprintf(text, sizeof text,
             "SELECT e FROM (SELECT lower(btrim(email, %s)) AS e FROM %s) a GROUP BY e "
             "HAVING count(*) > 1 ORDER BY e COLLATE \"C\"",
             TRIMMED, users_table[s->kind]);
    if (run(s, text, &r, err, sizeof err) != GH_OK) {
        fprintf(stderr, "gatehouse: import: %s\n", err);
        return GH_UNAVAILABLE;
    }
    int count = PQntuples(r);
    char **list = calloc((size_t)count + 1, sizeof *list);
    gh_status st = list ? GH_OK : GH_NO_MEMORY;
    for (int i = 0; st == GH_OK && i < count; i++)
        if (!(list[i] = strdup(PQgetvalue(r, i, 0))))
            st = GH_NO_MEMORY;
    PQclear(r);
    if (st != GH_OK) {
        for (int i = 0; list && i < count; i++)
            free(list[i]);
        free(list);
        return st;
    }
    *out = list;
    *n = (size_t)count;
    return GH_OK;
}

static gh_status pg_count(struct import_source *src, int64_t *n)
{
    struct pg_source *s = (struct pg_source *)src;
    char text[128], err[256];
    PGresult *r = NULL;
    snprintf(text, sizeof text, "SELECT count(*) FROM %s", users_table[s->kind]);
    if (run(s, text, &r, err, sizeof err) != GH_OK)
        return GH_UNAVAILABLE;
    *n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return GH_OK;
}

static void pg_close(struct import_source *src)
{
    struct pg_source *s = (struct pg_source *)src;
    if (!s)
        return;
    if (s->pg)
        PQfinish(s->pg);
    free(s);
}

/* The source's name: the kind and host, port and database, never the credentials. */
static void source_name(struct pg_source *s, const char *kind)
{
    snprintf(s->base.name, sizeof s->base.name, "%s:postgres://%s:%s/%s", kind,
             PQhost(s->pg) ? PQhost(s->pg) : "", PQport(s->pg) ? PQport(s->pg) : "",
             PQdb(s->pg) ? PQdb(s->pg) : "");
}

gh_status import_source_postgres(enum import_kind kind, const char *url, struct import_source **out,
                                 char *err, size_t errlen)
{
    struct pg_source *s = calloc(1, sizeof *s);
    char *parse_err = NULL;
    gh_status st = GH_NO_MEMORY;
    if (!s)
        goto out;
    s->kind = kind;
    PQconninfoOption *opts = PQconninfoParse(url, &parse_err);
    if (!opts) {
        snprintf(err, errlen, "--from is not a valid PostgreSQL URL: %.*s",
                 parse_err ? (int)strcspn(parse_err, "\n") : 0, parse_err ? parse_err : "");
        PQfreemem(parse_err);
        st = GH_ERR_CONFIG;
        goto out;
    }
    PQconninfoFree(opts);
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const values[] = {"5", "gatehouse import", url, NULL};
    s->pg = PQconnectdbParams(keys, values, 1);
    if (!s->pg || PQstatus(s->pg) != CONNECTION_OK) {
        const char *msg = s->pg ? PQerrorMessage(s->pg) : "out of memory";
        snprintf(err, errlen, "cannot connect to the source database: %.*s",
                 (int)strcspn(msg, "\n"), msg);
        st = GH_UNAVAILABLE;
        goto out;
    }
    source_name(s, kind == IMPORT_DJANGO ? "django" : "rust-auth");
    if ((st = run(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, err, errlen)) !=
            GH_OK ||
        (st = run(s, rows_sql[kind], NULL, err, errlen)) != GH_OK)
        goto out;
    s->base.next = pg_next;
    s->base.duplicate_emails = pg_duplicates;
    s->base.count = pg_count;
    s->base.close = pg_close;
    *out = &s->base;
    s = NULL;
    st = GH_OK;
out:
    if (s)
        pg_close(&s->base);
    return st;
}
