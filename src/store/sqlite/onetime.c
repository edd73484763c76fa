/* One-time tokens on SQLite (confirmation, reset and password-change links), found by the
 * SHA-256 of the token. A consume is one UPDATE … RETURNING, so of two concurrent uses only one
 * finds the token unused. */
#include "sqlite.h"

enum {
    ONETIME_INSERT,
    ONETIME_CONSUME,
    ONETIME_PEEK,
    ONETIME_REVOKE_ALL,
    ONETIME_PURGE,
    STATEMENTS
};
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [ONETIME_INSERT] = "INSERT INTO one_time_tokens (token_hash, user_id, purpose, "
                       "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ONETIME_CONSUME] = "UPDATE one_time_tokens SET used_at = ?3 WHERE token_hash = ?1 AND "
                        "purpose = ?2 AND used_at IS NULL AND expires_at > ?3 "
                        "RETURNING user_id",
    [ONETIME_PEEK] = "SELECT user_id FROM one_time_tokens WHERE token_hash = ?1 AND "
                     "purpose = ?2 AND used_at IS NULL AND expires_at > ?3",
    [ONETIME_REVOKE_ALL] = "UPDATE one_time_tokens SET used_at = ?3 WHERE user_id = ?1 AND "
                           "purpose = ?2 AND used_at IS NULL",
    /* A day after expiry, so a late click still finds the token and is told it expired. */
    [ONETIME_PURGE] = "DELETE FROM one_time_tokens WHERE expires_at <= ?1 - 86400",
};

static const struct sql_statements onetime = {SQL_ONETIME, "one-time tokens", STATEMENTS, sql};

static gh_status sq_onetime_insert(struct store *st, const struct onetime *t)
{
    struct sql_params p = {0};
    sql_param_text(&p, t->token_hash);
    sql_param_text(&p, t->user_id);
    sql_param_text(&p, t->purpose);
    sql_param_int(&p, t->created_at);
    sql_param_int(&p, t->expires_at);
    return sq_exec(st, &onetime, ONETIME_INSERT, &p, false);
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
    gh_status status = sq_query(st, &onetime, id, &p, &row);
    if (status != GH_OK)
        return status;
    sql_copy(&row, 0, user_id, UUID_LEN + 1);
    sql_done(&row);
    return GH_OK;
}

static gh_status sq_onetime_consume(struct store *st, const char *token_hash, const char *purpose,
                                    int64_t now, char user_id[UUID_LEN + 1])
{
    return token_user(st, ONETIME_CONSUME, token_hash, purpose, now, user_id);
}

static gh_status sq_onetime_peek(struct store *st, const char *token_hash, const char *purpose,
                                 int64_t now, char user_id[UUID_LEN + 1])
{
    return token_user(st, ONETIME_PEEK, token_hash, purpose, now, user_id);
}

static gh_status sq_onetime_revoke_all(struct store *st, const char *user_id, const char *purpose,
                                       int64_t now)
{
    struct sql_params p = {0};
    sql_param_text(&p, user_id);
    sql_param_text(&p, purpose);
    sql_param_int(&p, now);
    return sq_exec(st, &onetime, ONETIME_REVOKE_ALL, &p, false);
}

gh_status sq_onetime_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sq_exec(st, &onetime, ONETIME_PURGE, &p, false);
}

void sq_onetime_members(struct store *st)
{
    st->onetime_insert = sq_onetime_insert;
    st->onetime_consume = sq_onetime_consume;
    st->onetime_peek = sq_onetime_peek;
    st->onetime_revoke_all = sq_onetime_revoke_all;
}
