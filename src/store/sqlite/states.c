/* Logins in progress at OpenID Connect providers on SQLite, found by the SHA-256 of the state
 * parameter. A consume is one DELETE … RETURNING of an unexpired state, so of two concurrent
 * returns from the provider only one finds it. An empty next is stored as NULL. */
#include "../../util/log.h"
#include "sqlite.h"

enum { STATE_INSERT, STATE_CONSUME, STATE_PURGE, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    [STATE_INSERT] = "INSERT INTO oauth_states (state_hash, binding_hash, provider, "
                     "code_verifier, nonce, next, created_at, expires_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, NULLIF(?6, ''), ?7, ?8)",
    [STATE_CONSUME] = "DELETE FROM oauth_states WHERE state_hash = ?1 AND expires_at > ?2 "
                      "RETURNING " SQL_STATE_COLUMNS,
    /* An expired state is of no use to anyone: no grace. */
    [STATE_PURGE] = "DELETE FROM oauth_states WHERE expires_at <= ?1",
};

static const struct sql_statements states = {SQL_STATES, "oauth states", STATEMENTS, sql};

static gh_status sq_state_insert(struct store *st, const struct oauth_state *s)
{
    /* The provider and next come from the request that starts the login: checked as on
     * PostgreSQL, which refuses invalid UTF-8, so both backends refuse the same states. */
    if (!sql_text_fits(s->provider, sizeof s->provider) ||
        !sql_text_fits(s->next, sizeof s->next)) {
        log_msg(LOG_ERROR, "store: oauth state with text that is not UTF-8 or too long");
        return GH_INTERNAL;
    }
    struct sql_params p = {0};
    sql_param_text(&p, s->state_hash);
    sql_param_text(&p, s->binding_hash);
    sql_param_text(&p, s->provider);
    sql_param_text(&p, s->code_verifier);
    sql_param_text(&p, s->nonce);
    sql_param_text(&p, s->next);
    sql_param_int(&p, s->created_at);
    sql_param_int(&p, s->expires_at);
    return sq_exec(st, &states, STATE_INSERT, &p, false);
}

static gh_status sq_state_consume(struct store *st, const char *state_hash, int64_t now,
                                  struct oauth_state *out)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, state_hash);
    sql_param_int(&p, now);
    gh_status status = sq_query(st, &states, STATE_CONSUME, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_state(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

gh_status sq_states_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sq_exec(st, &states, STATE_PURGE, &p, false);
}

void sq_states_members(struct store *st)
{
    st->state_insert = sq_state_insert;
    st->state_consume = sq_state_consume;
}
