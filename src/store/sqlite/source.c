/* Reading a Django import source on SQLite: a read-only connection of its own and one
 * statement stepped over the accounts in id order. Django keeps datetimes there as text (UTC,
 * "YYYY-MM-DD HH:MM:SS[.ffffff]"), booleans as 0/1 and UUID ids as 32 hex digits. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../import_source.h"

struct sq_source {
    struct import_source base;
    sqlite3 *db;
    sqlite3_stmt *rows;
    bool done;
};

static const char rows_sql[] =
    "SELECT CAST(u.id AS TEXT), u.email, u.password, u.first_name, u.last_name, "
    "coalesce(u.is_active, 0), coalesce(u.is_staff, 0), coalesce(u.is_superuser, 0), "
    "coalesce(CAST(strftime('%s', u.date_joined) AS INTEGER), 0), '', p.user_id IS NOT NULL, "
    "coalesce(CAST(p.phone_number AS TEXT), ''), coalesce(CAST(p.birth_date AS TEXT), ''), "
    "coalesce(CAST(p.github_link AS TEXT), '') "
    "FROM users_user u LEFT JOIN user_profile p ON p.user_id = u.id ORDER BY u.id";

static void copy(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

static gh_status sq_next(struct import_source *src, struct import_row *rows, size_t cap, size_t *n)
{
    struct sq_source *s = (struct sq_source *)src;
    *n = 0;
    while (!s->done && *n < cap) {
        int rc = sqlite3_step(s->rows);
        if (rc == SQLITE_DONE) {
            s->done = true;
            break;
        }
        if (rc != SQLITE_ROW) {
            fprintf(stderr, "gatehouse: import: reading the source failed: %s\n",
                    sqlite3_errmsg(s->db));
            return GH_UNAVAILABLE;
        }
        struct import_row *o = &rows[(*n)++];
        memset(o, 0, sizeof *o);
        copy(s->rows, 0, o->id, sizeof o->id);
        copy(s->rows, 1, o->email, sizeof o->email);
        copy(s->rows, 2, o->password, sizeof o->password);
        copy(s->rows, 3, o->first_name, sizeof o->first_name);
        copy(s->rows, 4, o->last_name, sizeof o->last_name);
        o->is_active = sqlite3_column_int(s->rows, 5) != 0;
        o->is_staff = sqlite3_column_int(s->rows, 6) != 0;
        o->is_superuser = sqlite3_column_int(s->rows, 7) != 0;
        o->date_joined = sqlite3_column_int64(s->rows, 8);
        copy(s->rows, 9, o->thumbnail, sizeof o->thumbnail);
        o->has_profile = sqlite3_column_int(s->rows, 10) != 0;
        copy(s->rows, 11, o->phone_number, sizeof o->phone_number);
        copy(s->rows, 12, o->birth_date, sizeof o->birth_date);
        copy(s->rows, 13, o->github_link, sizeof o->github_link);
    }
    return GH_OK;
}

static gh_status sq_duplicates(struct import_source *src, char ***out, size_t *n)
{
    struct sq_source *s = (struct sq_source *)src;
    sqlite3_stmt *q = NULL;
    char **list = NULL;
    size_t count = 0, cap = 0;
    gh_status st = GH_UNAVAILABLE;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT lower(trim(email, char(32, 9, 10, 11, 12, 13))) AS e "
                           "FROM users_user GROUP BY e "
                           "HAVING count(*) > 1 ORDER BY e",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (count + 1 >= cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(list, ncap * sizeof *grown);
            if (!grown) {
                st = GH_NO_MEMORY;
                goto out;
            }
            list = grown;
            cap = ncap;
        }
        const unsigned char *v = sqlite3_column_text(q, 0);
        if (!(list[count] = strdup(v ? (const char *)v : ""))) {
            st = GH_NO_MEMORY;
            goto out;
        }
        count++;
    }
    if (rc != SQLITE_DONE)
        goto out;
    *out = list;
    *n = count;
    list = NULL;
    st = GH_OK;
out:
    if (st == GH_UNAVAILABLE)
        fprintf(stderr, "gatehouse: import: reading the source failed: %s\n",
                sqlite3_errmsg(s->db));
    for (size_t i = 0; list && i < count; i++)
        free(list[i]);
    free(list);
    sqlite3_finalize(q);
    return st;
}

static gh_status sq_count(struct import_source *src, int64_t *n)
{
    struct sq_source *s = (struct sq_source *)src;
    sqlite3_stmt *q = NULL;
    gh_status st = GH_UNAVAILABLE;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM users_user", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        *n = sqlite3_column_int64(q, 0);
        st = GH_OK;
    }
    sqlite3_finalize(q);
    return st;
}

static void sq_close(struct import_source *src)
{
    struct sq_source *s = (struct sq_source *)src;
    if (!s)
        return;
    sqlite3_finalize(s->rows);
    sqlite3_close(s->db);
    free(s);
}

gh_status import_source_sqlite(const char *path, struct import_source **out, char *err,
                               size_t errlen)
{
    struct sq_source *s = calloc(1, sizeof *s);
    gh_status st = GH_NO_MEMORY;
    if (!s)
        goto out;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the source database %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        st = GH_UNAVAILABLE;
        goto out;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* one read transaction: the whole source as of one moment */
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, rows_sql, -1, &s->rows, NULL) != SQLITE_OK) {
        snprintf(err, errlen,
                 "the source database %s has no Django users_user and user_profile "
                 "tables: %s",
                 path, sqlite3_errmsg(s->db));
        st = GH_UNAVAILABLE;
        goto out;
    }
    char *full = realpath(path, NULL);
    snprintf(s->base.name, sizeof s->base.name, "django:sqlite:%s", full ? full : path);
    free(full);
    s->base.next = sq_next;
    s->base.duplicate_emails = sq_duplicates;
    s->base.count = sq_count;
    s->base.close = sq_close;
    *out = &s->base;
    s = NULL;
    st = GH_OK;
out:
    if (s)
        sq_close(&s->base);
    return st;
}
