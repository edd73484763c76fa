/* Inside the PostgreSQL store: the statement runners of conn.c that every table-group file uses,
 * the checks of values PostgreSQL would refuse, and what each group file gives conn.c to build a
 * struct store. */
#ifndef GH_STORE_POSTGRES_H
#define GH_STORE_POSTGRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../sql.h"
#include "../store.h"

/* Runs statement id of g with the parameters p (NULL: none) and no result rows. With
 * must_change, GH_NOT_FOUND when it changed no row. */
GH_MUST_CHECK gh_status pg_exec(struct store *st, const struct sql_statements *g, int id,
                                const struct sql_params *p, bool must_change);

/* Runs statement id of g with the parameters p (NULL: none). GH_OK with row on its first result
 * row: read it, sql_next for more, then sql_done. GH_NOT_FOUND when there is no row (nothing to
 * release then). */
GH_MUST_CHECK gh_status pg_query(struct store *st, const struct sql_statements *g, int id,
                                 const struct sql_params *p, struct sql_row *row);

/* A UUID in the form gatehouse writes (lowercase, hyphenated). Ids from outside (a URL path)
 * are checked first, so that a malformed one is "not found" instead of a type error, and an
 * upper-case spelling is not found either, as on SQLite (the uuid type would match it). */
bool pg_is_uuid(const char *s);

/* Copies in to out (cap bytes), replacing bytes that are not valid UTF-8 by '?': header values
 * such as the user agent may hold any bytes, and PostgreSQL refuses invalid text. Returns out,
 * or NULL for a NULL in. */
const char *pg_utf8_clean(const char *in, char *out, size_t cap);

/* Each group file sets the members of struct store that it implements. */
void pg_users_members(struct store *st);
void pg_sessions_members(struct store *st);
void pg_onetime_members(struct store *st);
void pg_outbox_members(struct store *st);
void pg_audit_members(struct store *st);
void pg_rate_members(struct store *st);
void pg_keys_members(struct store *st);
void pg_tokens_members(struct store *st);
void pg_clients_members(struct store *st);
void pg_identities_members(struct store *st);
void pg_states_members(struct store *st);
void pg_server_members(struct store *st);
void pg_import_members(struct store *st);

/* The parts of purge_expired (server.c): each group deletes its own expired rows. */
GH_MUST_CHECK gh_status pg_sessions_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status pg_onetime_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status pg_rate_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status pg_tokens_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status pg_states_purge(struct store *st, int64_t now);

#endif
