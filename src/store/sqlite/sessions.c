/* Sessions on SQLite, found by the SHA-256 of their token; a lookup joins the user.
 * This file is the group's SQL text only: members/sessions.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

static const char *const sql[SESSION_STATEMENTS] = {
    [SESSION_INSERT] = "INSERT INTO sessions (token_hash, id, user_id, created_at, "
                       "expires_at, last_seen_at, ip, user_agent) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [SESSION_LOOKUP] = "SELECT " SQL_SESSION_COLUMNS ", " SQL_USER_COLUMNS
                       " FROM sessions s JOIN users u ON u.id = s.user_id "
                       "JOIN user_profiles p ON p.user_id = u.id "
                       "WHERE s.token_hash = ?1 AND s.expires_at > ?2",
    [SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",
    [SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
    [SESSION_LIST] = "SELECT " SQL_SESSION_COLUMNS " FROM sessions s WHERE s.user_id = ?1 "
                     "AND s.expires_at > ?2 ORDER BY s.created_at DESC, s.id LIMIT ?3",
    [SESSION_DELETE_ALL] = "DELETE FROM sessions WHERE user_id = ?1",
    [SESSION_DELETE_ALL_BUT] = "DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2",
    [SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at <= ?1",
};

const struct sql_statements sqlite_sessions = {SQL_SESSIONS, "sessions", SESSION_STATEMENTS, sql};
