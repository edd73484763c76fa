/* Users and their profiles on PostgreSQL: an email is unique on lower(email) (and stored
 * lower-cased by the caller); an empty string is stored as NULL; ids are checked to be
 * lowercase UUIDs before a query. */
#include "postgres.h"

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

/* Parameters are sent as text and typed by the casts in the SQL. */
static const char *const sql[STATEMENTS] = {
    /* A taken address inserts nothing: a conflict that does not abort the transaction. */
    [USER_INSERT] = "INSERT INTO users (id, email, password_hash, first_name, last_name, "
                    "is_active, is_staff, is_superuser, thumbnail, date_joined) "
                    "VALUES ($1::uuid, $2, $3, $4, $5, $6::boolean, $7::boolean, $8::boolean, "
                    "NULLIF($9::text, ''), $10::bigint) ON CONFLICT DO NOTHING",
    [PROFILE_INSERT] = "INSERT INTO user_profiles (id, user_id, phone_number, birth_date, "
                       "github_link) VALUES ($1::uuid, $2::uuid, NULLIF($3::text, ''), "
                       "NULLIF($4::text, ''), NULLIF($5::text, ''))",
    [USER_BY_EMAIL] = "SELECT " SQL_USER_COLUMNS " FROM users u JOIN user_profiles p ON "
                      "p.user_id = u.id WHERE lower(u.email) = lower($1::text)",
    [USER_BY_ID] = "SELECT " SQL_USER_COLUMNS " FROM users u JOIN user_profiles p ON "
                   "p.user_id = u.id WHERE u.id = $1::uuid",
    [USER_ACTIVATE] = "UPDATE users SET is_active = true WHERE id = $1::uuid",
    [USER_SET_PASSWORD] = "UPDATE users SET password_hash = $2 WHERE id = $1::uuid",
    [USER_REPLACE_PASSWORD] = "UPDATE users SET password_hash = $3 WHERE id = $1::uuid AND "
                              "password_hash = $2",
    [USER_UPDATE] = "UPDATE users SET first_name = $2, last_name = $3, "
                    "thumbnail = NULLIF($4::text, '') WHERE id = $1::uuid",
    [PROFILE_UPDATE] = "UPDATE user_profiles SET phone_number = NULLIF($2::text, ''), "
                       "birth_date = NULLIF($3::text, ''), github_link = NULLIF($4::text, '') "
                       "WHERE user_id = $1::uuid",
};

static const struct sql_statements users = {SQL_USERS, "users", STATEMENTS, sql};

static gh_status pg_user_insert(struct store *st, const struct user *u)
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
    gh_status status = pg_exec(st, &users, USER_INSERT, &p, true);
    if (status != GH_OK)
        return status == GH_NOT_FOUND ? GH_CONFLICT : status;
    struct sql_params q = {0};
    sql_param_text(&q, u->profile.id);
    sql_param_text(&q, u->id);
    sql_param_text(&q, u->profile.phone_number);
    sql_param_text(&q, u->profile.birth_date);
    sql_param_text(&q, u->profile.github_link);
    return pg_exec(st, &users, PROFILE_INSERT, &q, false);
}

/* Runs USER_BY_EMAIL or USER_BY_ID for key and reads the user. */
static gh_status user_query(struct store *st, int id, const char *key, struct user *out)
{
    struct sql_params p = {0};
    struct sql_row row;
    sql_param_text(&p, key);
    gh_status status = pg_query(st, &users, id, &p, &row);
    if (status != GH_OK)
        return status;
    sql_read_user(&row, 0, out);
    sql_done(&row);
    return GH_OK;
}

static gh_status pg_user_by_email(struct store *st, const char *email, struct user *out)
{
    return user_query(st, USER_BY_EMAIL, email, out);
}

static gh_status pg_user_by_id(struct store *st, const char *id, struct user *out)
{
    if (!pg_is_uuid(id))
        return GH_NOT_FOUND;
    return user_query(st, USER_BY_ID, id, out);
}

static gh_status pg_user_activate(struct store *st, const char *id)
{
    if (!pg_is_uuid(id))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    sql_param_text(&p, id);
    return pg_exec(st, &users, USER_ACTIVATE, &p, true);
}

static gh_status pg_user_set_password(struct store *st, const char *id, const char *hash)
{
    if (!pg_is_uuid(id))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    sql_param_text(&p, id);
    sql_param_text(&p, hash);
    return pg_exec(st, &users, USER_SET_PASSWORD, &p, true);
}

static gh_status pg_user_replace_password_hash(struct store *st, const char *id,
                                               const char *expected_hash, const char *new_hash)
{
    if (!pg_is_uuid(id))
        return GH_CONFLICT;
    struct sql_params p = {0};
    sql_param_text(&p, id);
    sql_param_text(&p, expected_hash);
    sql_param_text(&p, new_hash);
    gh_status status = pg_exec(st, &users, USER_REPLACE_PASSWORD, &p, true);
    return status == GH_NOT_FOUND ? GH_CONFLICT : status;
}

static gh_status pg_user_update_profile(struct store *st, const struct user *u)
{
    if (!pg_is_uuid(u->id))
        return GH_NOT_FOUND;
    struct sql_params p = {0};
    sql_param_text(&p, u->id);
    sql_param_text(&p, u->first_name);
    sql_param_text(&p, u->last_name);
    sql_param_text(&p, u->thumbnail);
    gh_status status = pg_exec(st, &users, USER_UPDATE, &p, true);
    if (status != GH_OK)
        return status;
    struct sql_params q = {0};
    sql_param_text(&q, u->id);
    sql_param_text(&q, u->profile.phone_number);
    sql_param_text(&q, u->profile.birth_date);
    sql_param_text(&q, u->profile.github_link);
    return pg_exec(st, &users, PROFILE_UPDATE, &q, true);
}

void pg_users_members(struct store *st)
{
    st->user_insert = pg_user_insert;
    st->user_by_email = pg_user_by_email;
    st->user_by_id = pg_user_by_id;
    st->user_activate = pg_user_activate;
    st->user_set_password = pg_user_set_password;
    st->user_replace_password_hash = pg_user_replace_password_hash;
    st->user_update_profile = pg_user_update_profile;
}
