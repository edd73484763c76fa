/* Accounts imported from other systems, on either backend: the map of a source's rows to
 * gatehouse users (import_id_map), and users whose password hash is not of the current
 * parameters (the hashes an import brought and no login has replaced yet). Source names and
 * old ids come from another database and are checked (sql_text_fits) before a query, since
 * PostgreSQL refuses invalid UTF-8 with an error, alike on SQLite; user ids the dialect would
 * not look up (valid_id) are refused. */
#include "members.h"

/* The longest source name or old id the map keeps. */
#define IMPORT_TEXT_MAX 1024

static gh_status sql_user_count_legacy_hashes(struct store *st, const char *current_prefix,
                                              int64_t *count)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, current_prefix);
    gh_status status = sql_query(st, SQL_IMPORT, IMPORT_LEGACY_COUNT, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_INTERNAL : status;
    *count = sql_int(&row, 0);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_user_legacy_hashes(struct store *st, const char *current_prefix,
                                        const char *after, struct user_hash *out, size_t cap,
                                        size_t *count)
{
    struct sql_params p = {0};
    struct sql_row row;
    *count = 0;
    if (!sql_valid_id(st, after))
        return GH_INTERNAL;
    sql_param_text(&p, current_prefix);
    sql_param_text(&p, after);
    sql_param_int(&p, (int64_t)cap);
    gh_status status = sql_query(st, SQL_IMPORT, IMPORT_LEGACY_LIST, &p, &row);
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

static gh_status sql_import_map_get(struct store *st, const char *source, const char *old_id,
                                    char user_id[UUID_LEN + 1])
{
    struct sql_params p = {0};
    struct sql_row row;
    if (!sql_text_fits(source, IMPORT_TEXT_MAX) || !sql_text_fits(old_id, IMPORT_TEXT_MAX))
        return GH_NOT_FOUND;
    sql_param_text(&p, source);
    sql_param_text(&p, old_id);
    gh_status status = sql_query(st, SQL_IMPORT, IMPORT_MAP_GET, &p, &row);
    if (status != GH_OK)
        return status;
    sql_copy(&row, 0, user_id, UUID_LEN + 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_import_map_insert(struct store *st, const char *source, const char *old_id,
                                       const char *user_id, int64_t now)
{
    struct sql_params p = {0};
    if (!sql_valid_id(st, user_id) || !sql_text_fits(source, IMPORT_TEXT_MAX) ||
        !sql_text_fits(old_id, IMPORT_TEXT_MAX))
        return GH_INTERNAL;
    sql_param_text(&p, source);
    sql_param_text(&p, old_id);
    sql_param_text(&p, user_id);
    sql_param_int(&p, now);
    return sql_exec(st, SQL_IMPORT, IMPORT_MAP_INSERT, &p, false);
}

void sql_import_members(struct store *st)
{
    st->user_count_legacy_hashes = sql_user_count_legacy_hashes;
    st->user_legacy_hashes = sql_user_legacy_hashes;
    st->import_map_get = sql_import_map_get;
    st->import_map_insert = sql_import_map_insert;
}
