/* Accounts imported from other systems on SQLite: the map of a source's rows to gatehouse
 * users, and users by the scheme of their password hash. This file is the group's SQL text
 * only: members/import.c runs it. */
#include "../members/members.h"
#include "sqlite.h"

/* A hash not made with the current parameters; ?1 is their prefix. */
#define LEGACY_WHERE                                                                               \
    "password_hash <> '' AND substr(password_hash, 1, 1) <> '!' AND "                              \
    "substr(password_hash, 1, length(?1)) <> ?1"

static const char *const sql[IMPORT_STATEMENTS] = {
    [IMPORT_LEGACY_COUNT] = "SELECT count(*) FROM users WHERE " LEGACY_WHERE,
    [IMPORT_LEGACY_LIST] = "SELECT id, password_hash FROM users WHERE id > ?2 AND " LEGACY_WHERE
                           " ORDER BY id LIMIT ?3",
    [IMPORT_MAP_GET] = "SELECT user_id FROM import_id_map WHERE source = ?1 AND old_id = ?2",
    [IMPORT_MAP_INSERT] = "INSERT INTO import_id_map (source, old_id, user_id, imported_at) "
                          "VALUES (?1, ?2, ?3, ?4)",
};

const struct sql_statements sqlite_import = {SQL_IMPORT, "import", IMPORT_STATEMENTS, sql};
