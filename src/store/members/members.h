/* The statements of every table group, numbered once for both backends (each backend's group
 * file, sqlite/users.c or postgres/users.c, holds the SQL text of each number), and what each
 * generic group file of store/members/ gives sql_store_open to fill a struct store. */
#ifndef GH_STORE_MEMBERS_H
#define GH_STORE_MEMBERS_H

#include <stdint.h>

#include "../sql.h"
#include "../store.h"

/* SQL_CONN: the first statement of each backend's conn.c group. */
enum { CONN_PING };

/* SQL_USERS */
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
    USER_STATEMENTS
};
_Static_assert(USER_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_SESSIONS */
enum {
    SESSION_INSERT,
    SESSION_LOOKUP,
    SESSION_DELETE,
    SESSION_TOUCH,
    SESSION_LIST,
    SESSION_DELETE_ALL,
    SESSION_DELETE_ALL_BUT,
    SESSION_PURGE,
    SESSION_STATEMENTS
};
_Static_assert(SESSION_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_ONETIME */
enum {
    ONETIME_INSERT,
    ONETIME_CONSUME,
    ONETIME_PEEK,
    ONETIME_REVOKE_ALL,
    ONETIME_PURGE,
    ONETIME_STATEMENTS
};
_Static_assert(ONETIME_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_OUTBOX */
enum {
    OUTBOX_INSERT,
    OUTBOX_REQUEST,
    OUTBOX_CLAIM,
    OUTBOX_RESOLVE,
    OUTBOX_DISCARD,
    OUTBOX_SENT,
    OUTBOX_RETRY,
    OUTBOX_PENDING,
    OUTBOX_STATEMENTS
};
_Static_assert(OUTBOX_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_AUDIT */
enum { AUDIT_INSERT, AUDIT_STATEMENTS };
_Static_assert(AUDIT_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_RATE */
enum { RATE_HIT, RATE_PEEK, RATE_REFUND, RATE_CLEAR, RATE_PURGE, RATE_STATEMENTS };
_Static_assert(RATE_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_SERVER */
enum { SECRET_INSERT, SECRET_GET, READY_WRITE, SERVER_STATEMENTS };
_Static_assert(SERVER_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_KEYS */
enum { KEY_INSERT, KEY_LIST, KEY_RETIRE_OLDER, KEY_STATEMENTS };
_Static_assert(KEY_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_TOKENS */
enum {
    REFRESH_INSERT,
    REFRESH_ROTATE,
    REFRESH_GET,
    REFRESH_REVOKE_FAMILY,
    REFRESH_REVOKE_USER,
    REFRESH_REVOKE_SESSION,
    REFRESH_PURGE,
    REFRESH_STATEMENTS
};
_Static_assert(REFRESH_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_CLIENTS */
enum { CLIENT_INSERT, CLIENT_GET, CLIENT_STATEMENTS };
_Static_assert(CLIENT_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_IDENTITIES */
enum { IDENTITY_INSERT, IDENTITY_GET, IDENTITY_LIST, IDENTITY_DELETE, IDENTITY_STATEMENTS };
_Static_assert(IDENTITY_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_STATES */
enum { STATE_INSERT, STATE_CONSUME, STATE_PURGE, STATE_STATEMENTS };
_Static_assert(STATE_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* SQL_IMPORT */
enum {
    IMPORT_LEGACY_COUNT,
    IMPORT_LEGACY_LIST,
    IMPORT_MAP_GET,
    IMPORT_MAP_INSERT,
    IMPORT_STATEMENTS
};
_Static_assert(IMPORT_STATEMENTS <= SQL_GROUP_MAX, "too many statements in the group");

/* Declares the SQL text of every table group that a backend's group files define, named
 * <prefix>_users and so on (sqlite.h, postgres.h). */
#define SQL_GROUP_TEXT_DECLARE(prefix)                                                             \
    extern const struct sql_statements prefix##_users, prefix##_sessions, prefix##_onetime,        \
        prefix##_outbox, prefix##_audit, prefix##_ratelimit, prefix##_keys, prefix##_tokens,       \
        prefix##_clients, prefix##_identities, prefix##_states, prefix##_server, prefix##_import;

/* The SQL text of every table group but SQL_CONN, as the initializers of a dialect's groups. */
#define SQL_GROUP_TEXT(prefix)                                                                     \
    [SQL_USERS] = &prefix##_users, [SQL_SESSIONS] = &prefix##_sessions,                            \
    [SQL_ONETIME] = &prefix##_onetime, [SQL_OUTBOX] = &prefix##_outbox,                            \
    [SQL_AUDIT] = &prefix##_audit, [SQL_RATE] = &prefix##_ratelimit, [SQL_KEYS] = &prefix##_keys,  \
    [SQL_TOKENS] = &prefix##_tokens, [SQL_CLIENTS] = &prefix##_clients,                            \
    [SQL_IDENTITIES] = &prefix##_identities, [SQL_STATES] = &prefix##_states,                      \
    [SQL_SERVER] = &prefix##_server, [SQL_IMPORT] = &prefix##_import

/* Each group file sets the members of struct store that it implements. */
void sql_users_members(struct store *st);
void sql_sessions_members(struct store *st);
void sql_onetime_members(struct store *st);
void sql_outbox_members(struct store *st);
void sql_audit_members(struct store *st);
void sql_rate_members(struct store *st);
void sql_keys_members(struct store *st);
void sql_tokens_members(struct store *st);
void sql_clients_members(struct store *st);
void sql_identities_members(struct store *st);
void sql_states_members(struct store *st);
void sql_server_members(struct store *st);
void sql_import_members(struct store *st);

/* The parts of purge_expired (server.c): each group deletes its own expired rows. */
GH_MUST_CHECK gh_status sql_sessions_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status sql_onetime_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status sql_rate_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status sql_tokens_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status sql_states_purge(struct store *st, int64_t now);

#endif
