/* Users and their profiles, on either backend: an insert of a taken email inserts nothing and
 * is a conflict; ids the dialect would not look up (valid_id) are not found. */
#include "members.h"

static gh_status sql_user_insert(struct store *st, const struct user *u)
{
    struct sql_params p = {0};
    sql_param_text(&p, u->id);
    sql_param_text(&p, u->email);
    sql_param_text(&p, u->password_hash);
    sql_param_text(&p, u->first_name);
    sql_param_text(&p, u->last_name);
    sql_param_bool(&p, u->is_active);
    sql_param_bool(&p, u->is_staff);
    sql_param_bool(&p, u->is_superuser);
    sql_param_text(&p, u->thumbnail);
    sql_param_int(&p, u->date_joined);
    gh_status status = sql_exec(st, SQL_USERS, USER_INSERT, &p, true);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_CONFLICT : status;
    struct sql_params q = {0};
    sql_param_text(&q, u->profile.id);
    sql_param_text(&q, u->id);
    sql_param_text(&q, u->profile.phone_number);
    sql_param_text(&q, u->profile.birth_date);
    sql_param_text(&q, u->profile.github_link);
    return sql_exec(st, SQL_USERS, PROFILE_INSERT, &q, false);
}

/* Runs USER_BY_EMAIL or USER_BY_ID for key and reads the user. */
static gh_status user_query(struct store *st, int id, const char *key, struct user *out)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    gh_status status = sql_query(st, SQL_USERS, id, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_user(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

static gh_status sql_user_by_email(struct store *st, const char *email, struct user *out)
{
    return user_query(st, USER_BY_EMAIL, email, out);
}

static gh_status sql_user_by_id(struct store *st, const char *id, struct user *out)
{
    if (!sql_valid_id(st, id))
        return GH_NOT_FOUND;
    return user_query(st, USER_BY_ID, id, out);
}

static gh_status sql_user_activate(struct store *st, const char *id)
{
    if (!sql_valid_id(st, id))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    sql_param_text(&p, id);
    return sql_exec(st, SQL_USERS, USER_ACTIVATE, &p, true);
}

static gh_status sql_user_set_password(struct store *st, const char *id, const char *hash)
{
    if (!sql_valid_id(st, id))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    sql_param_text(&p, id);
    sql_param_text(&p, hash);
    return sql_exec(st, SQL_USERS, USER_SET_PASSWORD, &p, true);
}

static gh_status sql_user_replace_password_hash(struct store *st, const char *id,
                                                const char *expected_hash, const char *new_hash)
{
    if (!sql_valid_id(st, id))
        return GH_CONFLICT;
    struct sql_params p = {0};
    sql_param_text(&p, id);
    sql_param_text(&p, expected_hash);
    sql_param_text(&p, new_hash);
    gh_status status = sql_exec(st, SQL_USERS, USER_REPLACE_PASSWORD, &p, true);
    return status == GH_NOT_FOUND ? GH_CONFLICT : status;
}

static gh_status sql_user_update_profile(struct store *st, const struct user *u)
{
    if (!sql_valid_id(st, u->id))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    sql_param_text(&p, u->id);
    sql_param_text(&p, u->first_name);
    sql_param_text(&p, u->last_name);
    sql_param_text(&p, u->thumbnail);
    gh_status status = sql_exec(st, SQL_USERS, USER_UPDATE, &p, true);
    if (status != GH_OK)
        return status;
    struct sql_params q = {0};
    sql_param_text(&q, u->id);
    sql_param_text(&q, u->profile.phone_number);
    sql_param_text(&q, u->profile.birth_date);
    sql_param_text(&q, u->profile.github_link);
    return sql_exec(st, SQL_USERS, PROFILE_UPDATE, &q, true);
}

void sql_users_members(struct store *st)
{
    st->user_insert = sql_user_insert;
    st->user_by_email = sql_user_by_email;
    st->user_by_id = sql_user_by_id;
    st->user_activate = sql_user_activate;
    st->user_set_password = sql_user_set_password;
    st->user_replace_password_hash = sql_user_replace_password_hash;
    st->user_update_profile = sql_user_update_profile;
}
