/* Inside the SQLite store: the statement runners of conn.c that every table-group file uses,
 * and what each group file gives conn.c to build a struct store. */
#ifndef GH_STORE_SQLITE_H
#define GH_STORE_SQLITE_H

#include <stdbool.h>
#include <stdint.h>

#include "../sql.h"
#include "../store.h"

/* Runs statement id of g with the parameters p (NULL: none) and no result rows. With
 * must_change, GH_NOT_FOUND when it changed no row. */
GH_MUST_CHECK gh_status sq_exec(struct store *st, const struct sql_statements *g, int id,
                                const struct sql_params *p, bool must_change);

/* Runs statement id of g with the parameters p (NULL: none). GH_OK with row on its first result
 * row: read it, sql_next for more, then sql_done. GH_NOT_FOUND when there is no row (nothing to
 * release then). */
GH_MUST_CHECK gh_status sq_query(struct store *st, const struct sql_statements *g, int id,
                                 const struct sql_params *p, struct sql_row *row);

/* Each group file sets the members of struct store that it implements. */
void sq_users_members(struct store *st);
void sq_sessions_members(struct store *st);
void sq_onetime_members(struct store *st);
void sq_outbox_members(struct store *st);
void sq_audit_members(struct store *st);
void sq_rate_members(struct store *st);
void sq_keys_members(struct store *st);
void sq_tokens_members(struct store *st);
void sq_clients_members(struct store *st);
void sq_identities_members(struct store *st);
void sq_states_members(struct store *st);
void sq_server_members(struct store *st);
void sq_import_members(struct store *st);

/* The parts of purge_expired (server.c): each group deletes its own expired rows. */
GH_MUST_CHECK gh_status sq_sessions_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status sq_onetime_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status sq_rate_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status sq_tokens_purge(struct store *st, int64_t now);
GH_MUST_CHECK gh_status sq_states_purge(struct store *st, int64_t now);

#endif
