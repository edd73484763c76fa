/* Signing keys of access tokens on PostgreSQL: a key is listed until its retires_at has passed,
 * and a new key retires the ones before it. A retires_at of 0 is stored as NULL (not yet
 * known). */
#include "postgres.h"

enum { KEY_INSERT, KEY_LIST, KEY_RETIRE_OLDER, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [KEY_INSERT] = "INSERT INTO signing_keys (kid, alg, private_key, created_at, activates_at, "
                   "retires_at) VALUES ($1, $2, $3, $4::bigint, $5::bigint, "
                   "NULLIF($6::bigint, 0))",
    [KEY_LIST] = "SELECT " SQL_SIGNING_KEY_COLUMNS " FROM signing_keys "
                 "WHERE retires_at IS NULL OR retires_at > $1::bigint "
                 "ORDER BY created_at DESC, kid LIMIT $2::bigint",
    /* An unknown kid has no created_at: the comparison is NULL and retires nothing. */
    [KEY_RETIRE_OLDER] = "UPDATE signing_keys SET retires_at = $2::bigint WHERE retires_at IS "
                         "NULL AND created_at < (SELECT created_at FROM signing_keys "
                         "WHERE kid = $1)",
};

static const struct sql_statements keys = {SQL_KEYS, "signing keys", STATEMENTS, sql};

static gh_status pg_signing_key_insert(struct store *st, const struct signing_key_row *k)
{
    struct sql_params p = {0};
    sql_param_text(&p, k->kid);
    sql_param_text(&p, k->alg);
    sql_param_text(&p, k->private_key);
    sql_param_int(&p, k->created_at);
    sql_param_int(&p, k->activates_at);
    sql_param_int(&p, k->retires_at);
    return pg_exec(st, &keys, KEY_INSERT, &p, false);
}

static gh_status pg_signing_key_list(struct store *st, int64_t now, struct signing_key_row *out,
                                     size_t cap, size_t *count)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_int(&p, now);
    sql_param_int(&p, (int64_t)cap);
    *count = 0;
    gh_status status = pg_query(st, &keys, KEY_LIST, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    while (status == GH_OK && *count < cap) {
        sql_read_signing_key(&row, 0, &out[(*count)++]);
        status = sql_next(&row);
    }
    sql_done(&row);
    return status == GH_NOT_FOUND ? GH_OK : status;
}

static gh_status pg_signing_key_retire_older(struct store *st, const char *kid, int64_t retires_at)
{
    struct sql_params p = {0};
    sql_param_text(&p, kid);
    sql_param_int(&p, retires_at);
    return pg_exec(st, &keys, KEY_RETIRE_OLDER, &p, false);
}

void pg_keys_members(struct store *st)
{
    st->signing_key_insert = pg_signing_key_insert;
    st->signing_key_list = pg_signing_key_list;
    st->signing_key_retire_older = pg_signing_key_retire_older;
}
