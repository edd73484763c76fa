/* Identities at OpenID Connect providers on SQLite, found by (provider, subject). A subject is
 * linked to one account and an account has one identity per provider: an insert that would
 * break either inserts nothing and is a conflict. Provider, subject and email come from outside
 * and are checked (sql_text_fits) as on PostgreSQL; an empty email is stored as NULL. */
#include "../../util/log.h"
#include "sqlite.h"

enum { IDENTITY_INSERT, IDENTITY_GET, IDENTITY_LIST, IDENTITY_DELETE, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    /* A linked subject or a second identity of the user at the provider inserts nothing: a
     * conflict that leaves the transaction usable. */
    [IDENTITY_INSERT] = "INSERT INTO oauth_identities (provider, subject, user_id, email, "
                        "created_at) VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?5) "
                        "ON CONFLICT DO NOTHING",
    [IDENTITY_GET] = "SELECT " SQL_IDENTITY_COLUMNS " FROM oauth_identities "
                     "WHERE provider = ?1 AND subject = ?2",
    [IDENTITY_LIST] = "SELECT " SQL_IDENTITY_COLUMNS " FROM oauth_identities WHERE user_id = ?1 "
                      "ORDER BY created_at, provider LIMIT ?2",
    [IDENTITY_DELETE] = "DELETE FROM oauth_identities WHERE user_id = ?1 AND provider = ?2",
};

static const struct sql_statements identities = {SQL_IDENTITIES, "oauth identities", STATEMENTS,
                                                 sql};

static gh_status sq_identity_insert(struct store *st, const struct oauth_identity *i)
{
    if (!sql_text_fits(i->provider, sizeof i->provider) ||
        !sql_text_fits(i->subject, sizeof i->subject) ||
        !sql_text_fits(i->email, sizeof i->email)) {
        log_msg(LOG_ERROR, "store: identity with text that is not UTF-8 or too long");
        return GH_INTERNAL;
    }
    struct sql_params p = {0};
    sql_param_text(&p, i->provider);
    sql_param_text(&p, i->subject);
    sql_param_text(&p, i->user_id);
    sql_param_text(&p, i->email);
    sql_param_int(&p, i->created_at);
    gh_status status = sq_exec(st, &identities, IDENTITY_INSERT, &p, true);
    return status == GH_NOT_FOUND ? GH_CONFLICT : status;
}

static gh_status sq_identity_get(struct store *st, const char *provider, const char *subject,
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
    gh_status status = sq_query(st, &identities, IDENTITY_GET, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_identity(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

static gh_status sq_identity_list(struct store *st, const char *user_id, struct oauth_identity *out,
                                  size_t cap, size_t *count)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, user_id);
    sql_param_int(&p, (int64_t)cap);
    *count = 0;
    gh_status status = sq_query(st, &identities, IDENTITY_LIST, &p, &row);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_OK : status;
    while (status == GH_OK && *count < cap) {
        sql_read_identity(&row, 0, &out[(*count)++]);
        status = sql_next(&row);
    }
    sql_done(&row);
    return status == GH_NOT_FOUND ? GH_OK : status;
}

static gh_status sq_identity_delete(struct store *st, const char *user_id, const char *provider)
{
    if (!sql_text_fits(provider, PROVIDER_NAME_MAX))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    sql_param_text(&p, user_id);
    sql_param_text(&p, provider);
    return sq_exec(st, &identities, IDENTITY_DELETE, &p, true);
}

void sq_identities_members(struct store *st)
{
    st->identity_insert = sq_identity_insert;
    st->identity_get = sq_identity_get;
    st->identity_list = sq_identity_list;
    st->identity_delete = sq_identity_delete;
}
