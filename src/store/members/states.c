/* Logins in progress at OpenID Connect providers, on either backend, found by the SHA-256 of
 * the state parameter. A consume is one DELETE … RETURNING of an unexpired state, so of two
 * concurrent returns from the provider only one finds it. An empty next is stored as NULL. */
#include "../../util/log.h"
#include "members.h"

static gh_status sql_state_insert(struct store *st, const struct oauth_state *s)
{
    /* The provider and next come from the request that starts the login; PostgreSQL would
     * refuse invalid UTF-8 with an error, so it is refused here, alike on SQLite. */
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
    return sql_exec(st, SQL_STATES, STATE_INSERT, &p, false);
}

static gh_status sql_state_consume(struct store *st, const char *state_hash, int64_t now,
                                   struct oauth_state *out)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, state_hash);
    sql_param_int(&p, now);
    gh_status status = sql_query(st, SQL_STATES, STATE_CONSUME, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_state(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

gh_status sql_states_purge(struct store *st, int64_t now)
{
    struct sql_params p = {0};
    sql_param_int(&p, now);
    return sql_exec(st, SQL_STATES, STATE_PURGE, &p, false);
}

void sql_states_members(struct store *st)
{
    st->state_insert = sql_state_insert;
    st->state_consume = sql_state_consume;
}
