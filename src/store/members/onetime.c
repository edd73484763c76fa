/* One-time tokens, on either backend (confirmation, reset and password-change links), found by
 * the SHA-256 of the token. A consume is one UPDATE … RETURNING, so of two concurrent uses only
 * one finds the token unused; a user id the dialect would not look up (valid_id) has no tokens
 * to revoke. */
#include "members.h"

static gh_status sql_onetime_insert(struct store *st, const struct onetime *t)
{
    struct sql_params p = {0};
    sql_param_text(&p, t->token_hash);
    sql_param_text(&p, t->user_id);
    sql_param_text(&p, t->purpose);
    sql_param_int(&p, t->created_at);
    sql_param_int(&p, t->expires_at);
    return sql_exec(st, SQL_ONETIME, ONETIME_INSERT, &p, false);
}

/* Runs ONETIME_CONSUME or ONETIME_PEEK and copies the user id of its row; GH_NOT_FOUND when
 * there is none. */
static gh_status token_user(struct store *st, int id, const char *token_hash, const char *purpose,
                            int64_t now, char user_id[UUID_LEN + 1])
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, token_hash);
    sql_param_text(&p, purpose);
    sql_param_int(&p, now);
    gh_status status = sql_query(st, SQL_ONETIME, id, &p, &row);
    if (status != GH_OK)
        return status;
    sql_copy(&row, 0, user_id, UUID_LEN + 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_onetime_consume(struct store *st, const char *token_hash, const char *purpose,
                                     int64_t now, char user_id[UUID_LEN + 1])
{
    return token_user(st, ONETIME_CONSUME, token_hash, purpose, now, user_id);
}

static gh_status sql_onetime_peek(struct store *st, const char *token_hash, const char *purpose,
                                  int64_t now, char user_id[UUID_LEN + 1])
{
    return token_user(st, ONETIME_PEEK, token_hash, purpose, now, user_id);
}

static gh_status sql_onetime_revoke_all(struct store *st, const char *user_id, const char *purpose,
                                        int64_t now)
{
    if (!sql_valid_id(st, user_id))
        return GH_OK;
    struct sql_params p = {0};
    sql_param_text(&p, user_id);
    sql_param_text(&p, purpose);
    sql_param_int(&p, now);
    return sql_exec(st, SQL_ONETIME, ONETIME_REVOKE_ALL, &p, false);
}

gh_status sql_onetime_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sql_exec(st, SQL_ONETIME, ONETIME_PURGE, &p, false);
}

void sql_onetime_members(struct store *st)
{
    st->onetime_insert = sql_onetime_insert;
    st->onetime_consume = sql_onetime_consume;
    st->onetime_peek = sql_onetime_peek;
    st->onetime_revoke_all = sql_onetime_revoke_all;
}
