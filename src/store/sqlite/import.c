/* Accounts imported from other systems on SQLite: the map of a source's rows to gatehouse
 * users, and users by the scheme of their password hash (the hashes an import brought and no
 * login has replaced yet). */
#include <string.h>

#include "sqlite.h"

enum { LEGACY_COUNT, LEGACY_LIST, MAP_GET, MAP_INSERT, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* A hash not made with the current parameters; ?1 is their prefix. */
#define LEGACY_WHERE                                                                               \
    "password_hash <> '' AND substr(password_hash, 1, 1) <> '!' AND "                              \
    "substr(password_hash, 1, length(?1)) <> ?1"

static const char *const sql[STATEMENTS] = {
    [LEGACY_COUNT] = "SELECT count(*) FROM users WHERE " LEGACY_WHERE,
    [LEGACY_LIST] = "SELECT id, password_hash FROM users WHERE id > ?2 AND " LEGACY_WHERE
                    " ORDER BY id LIMIT ?3",
    [MAP_GET] = "SELECT user_id FROM import_id_map WHERE source = ?1 AND old_id = ?2",
    [MAP_INSERT] = "INSERT INTO import_id_map (source, old_id, user_id, imported_at) "
                   "VALUES (?1, ?2, ?3, ?4)",
};

static const struct sql_statements import = {SQL_IMPORT, "import", STATEMENTS, sql};

static gh_status sq_user_count_legacy_hashes(struct store *st, const char *current_prefix,
                                             int64_t *count)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, current_prefix);
    gh_status status = sq_query(st, &import, LEGACY_COUNT, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_INTERNAL : status;
    *count = sql_int(&row, 0);
    sql_done(&row);
    return GH_OK;
}

static gh_status sq_user_legacy_hashes(struct store *st, const char *current_prefix,
                                       const char *after, struct user_hash *out, size_t cap,
                                       size_t *count)
{
    struct sql_params p = {0};
    struct sql_row row;
    *count = 0;
    sql_param_text(&p, current_prefix);
    sql_param_text(&p, after);
    sql_param_int(&p, (int64_t)cap);
    gh_status status = sq_query(st, &import, LEGACY_LIST, &p, &row);
    if (status == GH_NOT_FOUND)
        return GH_OK;
    while (status == GH_OK && *count < cap) {
        sql_copy(&row, 0, out[*count].user_id, sizeof out[*count].user_id);
        sql_copy(&row, 1, out[*count].hash, sizeof out[*count].hash);
        (*count)++;
        status = sql_next(&row);
    }
    sql_done(&row);
    return status == GH_NOT_FOUND || status == GH_OK ? GH_OK : status;
}

static gh_status sq_import_map_get(struct store *st, const char *source, const char *old_id,
                                   char user_id[UUID_LEN + 1])
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, source);
    sql_param_text(&p, old_id);
    gh_status status = sq_query(st, &import, MAP_GET, &p, &row);
    if (status != GH_OK)
        return status;
    sql_copy(&row, 0, user_id, UUID_LEN + 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status sq_import_map_insert(struct store *st, const char *source, const char *old_id,
                                      const char *user_id, int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, source);
    sql_param_text(&p, old_id);
    sql_param_text(&p, user_id);
    sql_param_int(&p, now);
    return sq_exec(st, &import, MAP_INSERT, &p, false);
}

void sq_import_members(struct store *st)
{
    st->user_count_legacy_hashes = sq_user_count_legacy_hashes;
    st->user_legacy_hashes = sq_user_legacy_hashes;
    st->import_map_get = sq_import_map_get;
    st->import_map_insert = sq_import_map_insert;
}
