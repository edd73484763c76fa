/* Identities at OpenID Connect providers, on either backend, found by (provider, subject). A
 * subject is linked to one account and an account has one identity per provider: an insert
 * that would break either inserts nothing and is a conflict. Provider, subject and email come
 * from outside and are checked (sql_text_fits) before a query, since PostgreSQL refuses invalid
 * UTF-8 with an error, alike on SQLite; user ids the dialect would not look up (valid_id) are
 * refused on insert and have no identities. An empty email is stored as NULL. */
#include "../../util/log.h"
#include "members.h"

static gh_status sql_identity_insert(struct store *st, const struct oauth_identity *i)
{
    /* gatehouse makes user ids: another spelling is a caller's bug, refused as SQLite's foreign
     * key refuses such a user. Text PostgreSQL would refuse is refused here, alike on SQLite. */
    if (!sql_valid_id(st, i->user_id) || !sql_text_fits(i->provider, sizeof i->provider) ||
        !sql_text_fits(i->subject, sizeof i->subject) ||
        !sql_text_fits(i->email, sizeof i->email)) {
        log_msg(LOG_ERROR, "store: identity with a malformed user id, or text that is not "
                           "UTF-8 or too long");
        return GH_INTERNAL;
    }
    struct sql_params p = {0};
    sql_param_text(&p, i->provider);
    sql_param_text(&p, i->subject);
    sql_param_text(&p, i->user_id);
    sql_param_text(&p, i->email);
    sql_param_int(&p, i->created_at);
    gh_status status = sql_exec(st, SQL_IDENTITIES, IDENTITY_INSERT, &p, true);
    return status == GH_NOT_FOUND ? GH_CONFLICT : status;
}

static gh_status sql_identity_get(struct store *st, const char *provider, const char *subject,
                                  struct oauth_identity *out)
{
    /* Text that no insert accepts cannot have been linked. */
    if (!sql_text_fits(provider, sizeof out->provider) ||
        !sql_text_fits(subject, sizeof out->subject))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, provider);
    sql_param_text(&p, subject);
    gh_status status = sql_query(st, SQL_IDENTITIES, IDENTITY_GET, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_identity(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_identity_list(struct store *st, const char *user_id,
                                   struct oauth_identity *out, size_t cap, size_t *count)
{
    *count = 0;
    if (!sql_valid_id(st, user_id))
        return GH_OK;
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, user_id);
    sql_param_int(&p, (int64_t)cap);
    gh_status status = sql_query(st, SQL_IDENTITIES, IDENTITY_LIST, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    while (status == GH_OK && *count < cap) {
        sql_read_identity(&row, 0, &out[(*count)++]);
        status = sql_next(&row);
    }
    sql_done(&row);
    return status == GH_NOT_FOUND ? GH_OK : status;
}

static gh_status sql_identity_delete(struct store *st, const char *user_id, const char *provider)
{
    if (!sql_valid_id(st, user_id) || !sql_text_fits(provider, PROVIDER_NAME_MAX))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    sql_param_text(&p, user_id);
    sql_param_text(&p, provider);
    return sql_exec(st, SQL_IDENTITIES, IDENTITY_DELETE, &p, true);
}

void sql_identities_members(struct store *st)
{
    st->identity_insert = sql_identity_insert;
    st->identity_get = sql_identity_get;
    st->identity_list = sql_identity_list;
    st->identity_delete = sql_identity_delete;
}
