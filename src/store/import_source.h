/* Reading the accounts of another system's database for `gatehouse import`: SQL on a database
 * that is not gatehouse's, so it lives in store/ beside the rest of the SQL. Two kinds:
 *
 *   rust-auth  PostgreSQL: users (id uuid, email, password, first_name, last_name, is_active,
 *              is_staff, is_superuser, thumbnail, date_joined timestamptz) and user_profile
 *              (id, user_id, phone_number, birth_date date, github_link) — the schema of the
 *              rust-auth migrations this route set comes from.
 *   django     PostgreSQL or SQLite: users_user (id integer or uuid, email, password,
 *              first_name, last_name, is_active, is_staff, is_superuser, date_joined,
 *              last_login) and user_profile (user_id, phone_number, birth_date, github_link).
 *
 * Rows come in the source's id order through one cursor (PostgreSQL: in one read-only,
 * repeatable-read transaction; SQLite: one statement on a read-only connection), so the source
 * is read as of one moment and in one pass. */
#ifndef GH_IMPORT_SOURCE_H
#define GH_IMPORT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/status.h"

enum import_kind { IMPORT_RUST_AUTH, IMPORT_DJANGO };

/* One account of the source, as text the way the source holds it (checked by core/import.c).
 * Buffers are larger than gatehouse's fields, so a value too long is seen as too long instead of
 * cut; a longer value still is cut and then fails the checks. */
struct import_row {
    char id[80];
    char email[512];
    char password[512];
    char first_name[1024];
    char last_name[1024];
    bool is_active, is_staff, is_superuser;
    int64_t date_joined; /* unix seconds; 0 when unknown */
    char thumbnail[1024];
    bool has_profile;
    char phone_number[128];
    char birth_date[64];
    char github_link[1024];
};

struct import_source {
    /* The next at most cap rows into rows; *n = 0 at the end. */
    gh_status (*next)(struct import_source *s, struct import_row *rows, size_t cap, size_t *n);
    /* The addresses (lower-cased, trimmed) that more than one row of the source has, sorted
     * (strcmp); the caller frees each and the array. */
    gh_status (*duplicate_emails)(struct import_source *s, char ***out, size_t *n);
    /* How many rows the source has. */
    gh_status (*count)(struct import_source *s, int64_t *n);
    void (*close)(struct import_source *s);
    /* The kind and location without credentials ("django:postgres://host:5432/db",
     * "django:sqlite:/abs/path.db"): names the source in import_id_map. */
    char name[600];
};

/* Opens the source database named by url: postgres:// or postgresql:// URLs (both kinds),
 * sqlite:///abs/path, sqlite:path or a plain file path (django). On failure err says why in one
 * sentence; GH_ERR_CONFIG when the URL or the kind is wrong, GH_UNAVAILABLE when the database
 * cannot be opened or lacks the tables. */
GH_MUST_CHECK gh_status import_source_open(enum import_kind kind, const char *url,
                                           struct import_source **out, char *err, size_t errlen);

/* The backends (store/postgres/source.c, store/sqlite/source.c). */
GH_MUST_CHECK gh_status import_source_postgres(enum import_kind kind, const char *url,
                                               struct import_source **out, char *err,
                                               size_t errlen);
GH_MUST_CHECK gh_status import_source_sqlite(const char *path, struct import_source **out,
                                             char *err, size_t errlen);

#endif
