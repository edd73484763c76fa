/* OAuth clients, on either backend: an id is registered once; a public client's empty secret
 * hash is stored as NULL, and the name as the dialect takes text (clean_text). */
#include <string.h>

#include "members.h"

static gh_status sql_client_insert(struct store *st, const struct oauth_client *c)
{
    char name[sizeof c->name * 2];
    struct sql_params p = {0};
    sql_param_text(&p, c->id);
    sql_param_text(&p, sql_clean_text(st, c->name, name, sizeof name));
    sql_param_text(&p, c->secret_hash);
    sql_param_bool(&p, c->confidential);
    sql_param_int(&p, c->grants);
    sql_param_int(&p, c->created_at);
    gh_status status = sql_exec(st, SQL_CLIENTS, CLIENT_INSERT, &p, true);
    return status == GH_NOT_FOUND ? GH_CONFLICT : status;
}

static gh_status sql_client_get(struct store *st, const char *id, struct oauth_client *out)
{
    /* The id comes from a request: one that is too long for the record, or that the dialect
     * would change (PostgreSQL refuses invalid UTF-8 with an error), cannot have been
     * registered. */
    char clean[sizeof out->id + 8];
    if (strlen(id) >= sizeof out->id || strcmp(sql_clean_text(st, id, clean, sizeof clean), id))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, id);
    gh_status status = sql_query(st, SQL_CLIENTS, CLIENT_GET, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_client(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

void sql_clients_members(struct store *st)
{
    st->client_insert = sql_client_insert;
    st->client_get = sql_client_get;
}
