/* An in-memory struct store for unit tests: every table of gatehouse as a plain C array, with
 * the semantics of the SQL backends (emails unique case-insensitively, atomic consume and claim,
 * leases, real transactions) and the same status codes. The store contract test runs every
 * scenario on it as on SQLite and PostgreSQL, so core/ can be tested on it without a database.
 *
 * A fake database (struct fake_db) is what a database server is to its clients: stores opened
 * on it share its rows, each call runs under one lock (so it is atomic), and a transaction
 * belongs to the store and thread that began it. Meanwhile other stores and threads read the
 * committed rows and wait (up to 5 s, then GH_BUSY) to write. begin snapshots every table;
 * rollback restores the snapshot. Where the two SQL backends differ, the fake takes the stricter
 * side: a statement error inside a transaction makes its commit fail (PostgreSQL), ids must be
 * lowercase UUIDs, and tables exist only once migrate has run. */
#ifndef GH_TEST_FAKE_STORE_H
#define GH_TEST_FAKE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct fake_db;

/* Makes an empty database: migrate creates its tables, as on a new SQL database. */
GH_MUST_CHECK gh_status fake_db_new(struct fake_db **out);
/* Frees the database (NULL-safe) and clears the pointer; close its stores first. */
void fake_db_free(struct fake_db **db);

/* Opens a store on db, as a second instance of gatehouse would open the same database. Its
 * close member leaves db alone. */
GH_MUST_CHECK gh_status fake_store_open(struct fake_db *db, struct store **out);
/* A migrated store on a database of its own, which its close member frees. */
GH_MUST_CHECK gh_status fake_store_new(struct store **out);
/* The database of a store made by fake_store_open or fake_store_new. */
struct fake_db *fake_store_db(struct store *st);

/* Reads db behind the store's back, as a SQL client would: runs one query of a small SQL
 * subset on the committed rows and copies the first value of its first row as text ("(null)"
 * for NULL) into out. The subset:
 *
 *   SELECT expr FROM table [WHERE cond [AND cond]...]
 *   expr: count(*) | count(DISTINCT col) | min(col) | max(col) | term [|| term]...
 *   term: col | 'text'
 *   cond: col = value | col <> value | col < value | col > value | col IS [NOT] NULL
 *         | col IN (value [, value]...)
 *   value: 'text' | integer
 *
 * over the tables and columns of the SQL schema (store/migrations/) and schema_migrations.
 * GH_NOT_FOUND when no row matches a query without an aggregate; GH_INTERNAL (with a log line)
 * for a query outside the subset or a table or column it does not know. */
GH_MUST_CHECK gh_status fake_db_query(struct fake_db *db, const char *sql, char *out, size_t cap);

/* Changes db behind the store's back, as a SQL client would on a connection of its own (it
 * waits for another connection's transaction to end, GH_BUSY after 5 s): runs one statement
 *
 *   DELETE FROM table [WHERE cond [AND cond]...]
 *
 * with the conditions of fake_db_query, and the ON DELETE CASCADE of the schema: deleting users
 * deletes their profiles, sessions, one-time tokens, refresh tokens and identities. GH_INTERNAL
 * (with a log line) for a statement outside the subset, and for user_profiles, whose rows go
 * with their users here. */
GH_MUST_CHECK gh_status fake_db_exec(struct fake_db *db, const char *sql);

/* ---- fault injection and call counts ---- */

/* A member of struct store, for the functions below: FAKE_MEMBER(user_by_email). */
#define FAKE_MEMBER(name) offsetof(struct store, name)
/* times for fake_db_fail: every call from then on. */
#define FAKE_ALWAYS (-1)

/* Makes member fail: after `after` more calls that run as usual, the next `times` calls (or
 * all, FAKE_ALWAYS) answer status and do nothing else, as when the connection to a database
 * is lost before the statement runs. A call that fails so inside a transaction makes its
 * commit fail; a failing commit rolls the transaction back. Replaces an earlier fault of the
 * member; status GH_OK removes it. rollback and close never fail. */
void fake_db_fail(struct fake_db *db, size_t member, int after, int times, gh_status status);
/* Removes every fault. */
void fake_db_heal(struct fake_db *db);
/* How many times member was called on any store of db (failed calls included). */
unsigned fake_db_calls(struct fake_db *db, size_t member);

#endif
