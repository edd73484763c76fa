/* Signing keys of access tokens, on either backend: a key is listed until its retires_at has
 * passed, and a new key retires the ones before it. A retires_at of 0 is stored as NULL (not
 * yet known). */
#include "members.h"

static gh_status sql_signing_key_insert(struct store *st, const struct signing_key_row *k)
{
    struct sql_params p = {0};
    sql_param_text(&p, k->kid);
    sql_param_text(&p, k->alg);
    sql_param_text(&p, k->private_key);
    sql_param_int(&p, k->created_at);
    sql_param_int(&p, k->activates_at);
    sql_param_int(&p, k->retires_at);
    return sql_exec(st, SQL_KEYS, KEY_INSERT, &p, false);
}

static gh_status sql_signing_key_list(struct store *st, int64_t now, struct signing_key_row *out,
                                      size_t cap, size_t *count)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_int(&p, now);
    sql_param_int(&p, (int64_t)cap);
    *count = 0;
    gh_status status = sql_query(st, SQL_KEYS, KEY_LIST, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    while (status == GH_OK && *count < cap) {
        sql_read_signing_key(&row, 0, &out[(*count)++]);
        status = sql_next(&row);
    }
    sql_done(&row);
    return status == GH_NOT_FOUND ? GH_OK : status;
}

static gh_status sql_signing_key_retire_older(struct store *st, const char *kid, int64_t retires_at)
{
    struct sql_params p = {0};
    sql_param_text(&p, kid);
    sql_param_int(&p, retires_at);
    return sql_exec(st, SQL_KEYS, KEY_RETIRE_OLDER, &p, false);
}

void sql_keys_members(struct store *st)
{
    st->signing_key_insert = sql_signing_key_insert;
    st->signing_key_list = sql_signing_key_list;
    st->signing_key_retire_older = sql_signing_key_retire_older;
}
