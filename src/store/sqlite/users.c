/* Users and their profiles on SQLite: an email is unique with COLLATE NOCASE (and stored
 * lower-cased by the caller); an empty string is stored as NULL. */
#include "sqlite.h"

enum {
    USER_INSERT,
    PROFILE_INSERT,
    USER_BY_EMAIL,
    USER_BY_ID,
    USER_ACTIVATE,
    USER_SET_PASSWORD,
    USER_REPLACE_PASSWORD,
    USER_UPDATE,
    PROFILE_UPDATE,
    STATEMENTS
};
_Static_assert(STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

static const char *const sql[STATEMENTS] = {
    /* A taken address inserts nothing: a conflict that leaves the transaction usable. */
    [USER_INSERT] = "INSERT INTO users (id, email, password_hash, first_name, last_name, "
                    "is_active, is_staff, is_superuser, thumbnail, date_joined) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULLIF(?9, ''), ?10) "
                    "ON CONFLICT DO NOTHING",
    [PROFILE_INSERT] = "INSERT INTO user_profiles (id, user_id, phone_number, birth_date, "
                       "github_link) VALUES (?1, ?2, NULLIF(?3, ''), NULLIF(?4, ''), "
                       "NULLIF(?5, ''))",
    [USER_BY_EMAIL] = "SELECT " SQL_USER_COLUMNS " FROM users u JOIN user_profiles p ON "
                      "p.user_id = u.id WHERE u.email = ?1",
    [USER_BY_ID] = "SELECT " SQL_USER_COLUMNS " FROM users u JOIN user_profiles p ON "
                   "p.user_id = u.id WHERE u.id = ?1",
    [USER_ACTIVATE] = "UPDATE users SET is_active = 1 WHERE id = ?1",
    [USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
    [USER_REPLACE_PASSWORD] = "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND "
                              "password_hash = ?2",
    [USER_UPDATE] = "UPDATE users SET first_name = ?2, last_name = ?3, "
                    "thumbnail = NULLIF(?4, '') WHERE id = ?1",
    [PROFILE_UPDATE] = "UPDATE user_profiles SET phone_number = NULLIF(?2, ''), "
                       "birth_date = NULLIF(?3, ''), github_link = NULLIF(?4, '') "
                       "WHERE user_id = ?1",
};

static const struct sql_statements users = {SQL_USERS, "users", STATEMENTS, sql};

static gh_status sq_user_insert(struct store *st, const struct user *u)
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
    gh_status status = sq_exec(st, &users, USER_INSERT, &p, true);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_CONFLICT : status;
    struct sql_params q = {0};
    sql_param_text(&q, u->profile.id);
    sql_param_text(&q, u->id);
    sql_param_text(&q, u->profile.phone_number);
    sql_param_text(&q, u->profile.birth_date);
    sql_param_text(&q, u->profile.github_link);
    return sq_exec(st, &users, PROFILE_INSERT, &q, false);
}

/* Runs USER_BY_EMAIL or USER_BY_ID for key and reads the user. */
static gh_status user_query(struct store *st, int id, const char *key, struct user *out)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    gh_status status = sq_query(st, &users, id, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_user(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

static gh_status sq_user_by_email(struct store *st, const char *email, struct user *out)
{
    return user_query(st, USER_BY_EMAIL, email, out);
}

static gh_status sq_user_by_id(struct store *st, const char *id, struct user *out)
{
    return user_query(st, USER_BY_ID, id, out);
}

static gh_status sq_user_activate(struct store *st, const char *id)
{
    struct sql_params p = {0};
    sql_param_text(&p, id);
    return sq_exec(st, &users, USER_ACTIVATE, &p, true);
}

static gh_status sq_user_set_password(struct store *st, const char *id, const char *hash)
{
    struct sql_params p = {0};
    sql_param_text(&p, id);
    sql_param_text(&p, hash);
    return sq_exec(st, &users, USER_SET_PASSWORD, &p, true);
}

static gh_status sq_user_replace_password_hash(struct store *st, const char *id,
                                               const char *expected_hash, const char *new_hash)
{
    struct sql_params p = {0};
    sql_param_text(&p, id);
    sql_param_text(&p, expected_hash);
    sql_param_text(&p, new_hash);
    gh_status status = sq_exec(st, &users, USER_REPLACE_PASSWORD, &p, true);
    return status == GH_NOT_FOUND ? GH_CONFLICT : status;
}

static gh_status sq_user_update_profile(struct store *st, const struct user *u)
{
    struct sql_params p = {0};
    sql_param_text(&p, u->id);
    sql_param_text(&p, u->first_name);
    sql_param_text(&p, u->last_name);
    sql_param_text(&p, u->thumbnail);
    gh_status status = sq_exec(st, &users, USER_UPDATE, &p, true);
    if (status != GH_OK)
        return status;
    struct sql_params q = {0};
    sql_param_text(&q, u->id);
    sql_param_text(&q, u->profile.phone_number);
    sql_param_text(&q, u->profile.birth_date);
    sql_param_text(&q, u->profile.github_link);
    return sq_exec(st, &users, PROFILE_UPDATE, &q, true);
}

void sq_users_members(struct store *st)
{
    st->user_insert = sq_user_insert;
    st->user_by_email = sq_user_by_email;
    st->user_by_id = sq_user_by_id;
    st->user_activate = sq_user_activate;
    st->user_set_password = sq_user_set_password;
    st->user_replace_password_hash = sq_user_replace_password_hash;
    st->user_update_profile = sq_user_update_profile;
}
