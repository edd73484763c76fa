/* Inside the PostgreSQL store: the statement runners of conn.c (its dialect's exec and query),
 * the checks of values PostgreSQL would refuse (its dialect's valid_id and clean_text), and the
 * SQL text of each table group that conn.c gives the dialect. */
#ifndef GH_STORE_POSTGRES_H
#define GH_STORE_POSTGRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../members/members.h"
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

/* Copies in to out (cap bytes), replacing bytes that are not valid UTF-8 by '?': header values
 * such as the user agent may hold any bytes, and PostgreSQL refuses invalid text. Returns out,
 * or NULL for a NULL in. */
const char *pg_utf8_clean(const char *in, char *out, size_t cap);

/* The SQL text of each table group, one file each (users.c: postgres_users), numbered by the
 * group's enum of members/members.h. */
SQL_GROUP_TEXT_DECLARE(postgres)

#endif
