/* Users and their profiles on SQLite: an email is unique with COLLATE NOCASE (and stored
 * lower-cased by the caller); an empty string is stored as NULL.
 * This file is the group's SQL text only: members/users.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[USER_STATEMENTS] = {
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

const struct sql_statements sqlite_users = {SQL_USERS, "users", USER_STATEMENTS, sql};
