/* Users and their profiles on PostgreSQL: an email is unique on lower(email) (and stored
 * lower-cased by the caller); an empty string is stored as NULL; ids are checked to be
 * lowercase UUIDs before a query.
 * This file is the group's SQL text only: members/users.c runs it. */
#include "../members/members.h"
#include "postgres.h"

/* Parameters are sent as text and typed by the casts in the SQL. */
static const char *const sql[USER_STATEMENTS] = {
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

const struct sql_statements postgres_users = {SQL_USERS, "users", USER_STATEMENTS, sql};
