/* OAuth clients on PostgreSQL: an id is registered once; a public client's empty secret hash is
 * stored as NULL, and the name with invalid UTF-8 replaced, since PostgreSQL refuses it. */
#include <string.h>

#include "postgres.h"

enum { CLIENT_INSERT, CLIENT_GET, STATEMENTS };
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    /* A taken id inserts nothing: a conflict that does not abort the transaction. */
    [CLIENT_INSERT] = "INSERT INTO oauth_clients (id, name, secret_hash, confidential, grants, "
                      "created_at) VALUES ($1, $2, NULLIF($3::text, ''), $4::boolean, "
                      "$5::integer, $6::bigint) ON CONFLICT DO NOTHING",
    [CLIENT_GET] = "SELECT " SQL_CLIENT_COLUMNS " FROM oauth_clients WHERE id = $1",
};

static const struct sql_statements clients = {SQL_CLIENTS, "oauth clients", STATEMENTS, sql};

static gh_status pg_client_insert(struct store *st, const struct oauth_client *c)
{
    char name[sizeof c->name * 2];
    struct sql_params p = {0};
    sql_param_text(&p, c->id);
    sql_param_text(&p, pg_utf8_clean(c->name, name, sizeof name));
    sql_param_text(&p, c->secret_hash);
    sql_param_bool(&p, c->confidential);
    sql_param_int(&p, c->grants);
    sql_param_int(&p, c->created_at);
    gh_status status = pg_exec(st, &clients, CLIENT_INSERT, &p, true);
    return status == GH_NOT_FOUND ? GH_CONFLICT : status;
}

static gh_status pg_client_get(struct store *st, const char *id, struct oauth_client *out)
{
    /* The id comes from a request: one that is too long or not valid UTF-8 (which PostgreSQL
     * would refuse with an error) cannot have been registered. */
    char clean[sizeof out->id + 8];
    if (strlen(id) >= sizeof out->id || strcmp(pg_utf8_clean(id, clean, sizeof clean), id))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, id);
    gh_status status = pg_query(st, &clients, CLIENT_GET, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_client(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

void pg_clients_members(struct store *st)
{
    st->client_insert = pg_client_insert;
    st->client_get = pg_client_get;
}
