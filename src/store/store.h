/* The storage interface: every SQL statement of gatehouse lives behind these function pointers,
 * implemented once per database (store/sqlite/, store/postgres/: a file per table group).
 * Each call runs on the calling thread's own connection; begin/commit group calls into one
 * transaction on that connection. Functions return GH_OK, GH_NOT_FOUND when a looked-up row is
 * absent, GH_CONFLICT on a unique violation, GH_BUSY when the database is locked, and
 * GH_UNAVAILABLE or GH_INTERNAL on other failures. */
#ifndef GH_STORE_H
#define GH_STORE_H

#include <stdint.h>

#include "../records.h"
#include "../util/status.h"

struct store {
    void *impl;

    /* Applies every embedded migration not yet recorded in schema_migrations. */
    gh_status (*migrate)(struct store *st);
    /* Cheap round trip proving the database answers. */
    gh_status (*ping)(struct store *st);
    /* Rewrites the one row of the readiness table with now and counts the probe, so the row
     * changes every time (SQLite writes nothing for an UPDATE that changes nothing). Run in a
     * transaction and committed, it proves the database accepts writes (a full disk or a
     * read-only database still answers reads). */
    gh_status (*ready_write)(struct store *st, int64_t now);
    /* Starts a write transaction on this thread's connection. */
    gh_status (*begin)(struct store *st);
    gh_status (*commit)(struct store *st);
    void (*rollback)(struct store *st);
    /* Closes every connection and frees the store. */
    void (*close)(struct store *st);
    /* Lets go of the memory the calling thread's connection keeps for pages it has read, after
     * a background scan that request threads would not profit from. NULL when the backend
     * keeps no such cache in the process. */
    void (*release_memory)(struct store *st);

    /* Inserts the user and its profile (ids, email lower-cased by the caller). GH_CONFLICT when
     * the email is taken; the caller's transaction stays usable then. */
    gh_status (*user_insert)(struct store *st, const struct user *u);
    gh_status (*user_by_email)(struct store *st, const char *email, struct user *out);
    gh_status (*user_by_id)(struct store *st, const char *id, struct user *out);
    gh_status (*user_activate)(struct store *st, const char *id);
    gh_status (*user_set_password)(struct store *st, const char *id, const char *password_hash);
    /* Compare and set: stores new_hash only while the stored hash is still expected_hash (the
     * one a login just verified). GH_CONFLICT when it is not (the password was changed
     * meanwhile, or the user is gone): the newer password stays. */
    gh_status (*user_replace_password_hash)(struct store *st, const char *id,
                                            const char *expected_hash, const char *new_hash);
    /* Writes names, thumbnail and the profile fields of u (found by u->id). */
    gh_status (*user_update_profile)(struct store *st, const struct user *u);

    gh_status (*session_insert)(struct store *st, const struct session *s);
    /* Finds a live session (not expired at now) and its user in one query. */
    gh_status (*session_lookup)(struct store *st, const char *token_hash, int64_t now,
                                struct session *s, struct user *u);
    /* Deletes a session; GH_NOT_FOUND when it did not exist. */
    gh_status (*session_delete)(struct store *st, const char *token_hash);
    /* Sets last_seen_at = now. */
    gh_status (*session_touch)(struct store *st, const char *token_hash, int64_t now);
    /* The user's live sessions, newest first, at most cap of them. */
    gh_status (*session_list)(struct store *st, const char *user_id, int64_t now,
                              struct session *out, size_t cap, size_t *count);
    /* Deletes every session of the user except the one whose hash is keep (NULL: all). */
    gh_status (*session_delete_all)(struct store *st, const char *user_id, const char *keep);

    gh_status (*onetime_insert)(struct store *st, const struct onetime *t);
    /* Marks an unused, unexpired token of the purpose used and returns its user, atomically:
     * of two concurrent calls exactly one gets GH_OK. Other tokens are GH_NOT_FOUND. */
    gh_status (*onetime_consume)(struct store *st, const char *token_hash, const char *purpose,
                                 int64_t now, char user_id[UUID_LEN + 1]);
    /* Like onetime_consume without consuming: the user of a live token, or GH_NOT_FOUND. */
    gh_status (*onetime_peek)(struct store *st, const char *token_hash, const char *purpose,
                              int64_t now, char user_id[UUID_LEN + 1]);
    /* Marks every unused token of the user and purpose used. */
    gh_status (*onetime_revoke_all)(struct store *st, const char *user_id, const char *purpose,
                                    int64_t now);

    /* Queues a mail; due at once. */
    gh_status (*outbox_insert)(struct store *st, const struct mail *m, int64_t now);
    /* Queues a mail request (MAIL_REQUEST_*) for recipient, due at once: one row, the same
     * whatever the address, that the outbox worker resolves. */
    gh_status (*outbox_request)(struct store *st, const char *recipient, const char *request,
                                int64_t now);
    /* Takes the oldest due mail or request and leases it until lease_until (so no other worker
     * takes it meanwhile); GH_NOT_FOUND when nothing is due. out's strings are owned by the
     * caller; out->request is empty for a mail. */
    gh_status (*outbox_claim)(struct store *st, int64_t now, int64_t lease_until, struct mail *out);
    /* Turns the request m->id into the mail m (subject and bodies); GH_NOT_FOUND when it is no
     * longer a request (another worker resolved it). */
    gh_status (*outbox_resolve)(struct store *st, const struct mail *m);
    /* Deletes the request id without sending anything; GH_NOT_FOUND when it is no longer a
     * request. */
    gh_status (*outbox_discard)(struct store *st, int64_t id);
    /* Marks a mail sent and empties its bodies: sent mail holds links with live tokens. */
    gh_status (*outbox_mark_sent)(struct store *st, int64_t id, int64_t now);
    gh_status (*outbox_schedule_retry)(struct store *st, int64_t id, int64_t next_attempt_at,
                                       const char *error);
    /* Number of mails not yet sent. */
    gh_status (*outbox_pending)(struct store *st, int64_t *count);

    gh_status (*audit_insert)(struct store *st, const struct audit_event *e, int64_t now);

    /* Counts one hit on a fixed-window counter, atomically: a new window of `window` seconds
     * starts when the last one has ended. Returns the count in this window and its end. */
    gh_status (*rate_hit)(struct store *st, const char *key, int window, int64_t now,
                          int64_t *count, int64_t *window_end);
    /* The counter of key without counting: 0 and now when no window is live. */
    gh_status (*rate_peek)(struct store *st, const char *key, int64_t now, int64_t *count,
                           int64_t *window_end);
    /* Takes one hit back from the live window of key (never below zero): an attempt counted
     * before it was made that turned out not to count. A window that has ended is left alone. */
    gh_status (*rate_refund)(struct store *st, const char *key, int64_t now);
    gh_status (*rate_clear)(struct store *st, const char *key);

    /* The server secret called name, creating it with candidate when there is none: of
     * instances starting together, all end up with the one stored first. Copies it into out
     * (cap bytes; GH_INTERNAL when it does not fit). */
    gh_status (*secret_get_or_create)(struct store *st, const char *name, const char *candidate,
                                      int64_t now, char *out, size_t cap);

    /* Signing keys of access tokens. */
    gh_status (*signing_key_insert)(struct store *st, const struct signing_key_row *k);
    /* Every key not retired at now (retires_at 0 or later than now), newest first, at most
     * cap of them. */
    gh_status (*signing_key_list)(struct store *st, int64_t now, struct signing_key_row *out,
                                  size_t cap, size_t *count);
    /* Sets retires_at of every key that has none and was created before the key kid. */
    gh_status (*signing_key_retire_older)(struct store *st, const char *kid, int64_t retires_at);

    /* Refresh tokens. Inserting a token whose hash exists already changes nothing and answers
     * GH_OK (a successor made twice by concurrent refreshes is one row). */
    gh_status (*refresh_insert)(struct store *st, const struct refresh_token *t);
    /* Marks a live token (not rotated, not revoked, not expired at now) rotated at now and
     * returns it as it was, atomically: of two concurrent calls exactly one gets GH_OK. A token
     * rotated before answers GH_CONFLICT with its row (rotated_at set) so the caller can tell a
     * retry from a reuse; revoked, expired or unknown tokens GH_NOT_FOUND. */
    gh_status (*refresh_rotate)(struct store *st, const char *token_hash, int64_t now,
                                struct refresh_token *out);
    /* The token as stored, whatever its state; GH_NOT_FOUND when unknown. */
    gh_status (*refresh_get)(struct store *st, const char *token_hash, struct refresh_token *out);
    /* Revokes every token of the family / of the user / of families created by the session. */
    gh_status (*refresh_revoke_family)(struct store *st, const char *family_id, int64_t now);
    gh_status (*refresh_revoke_user)(struct store *st, const char *user_id, int64_t now);
    gh_status (*refresh_revoke_session)(struct store *st, const char *session_hash, int64_t now);

    /* OAuth clients. GH_CONFLICT when the id exists. */
    gh_status (*client_insert)(struct store *st, const struct oauth_client *c);
    gh_status (*client_get)(struct store *st, const char *id, struct oauth_client *out);

    /* Identities at OpenID Connect providers. Insert: GH_CONFLICT when (provider, subject) is
     * linked already, or the user has an identity at that provider already. */
    gh_status (*identity_insert)(struct store *st, const struct oauth_identity *i);
    gh_status (*identity_get)(struct store *st, const char *provider, const char *subject,
                              struct oauth_identity *out);
    /* The user's identities, oldest first, at most cap of them. */
    gh_status (*identity_list)(struct store *st, const char *user_id, struct oauth_identity *out,
                               size_t cap, size_t *count);
    /* Unlinks the user's identity at provider; GH_NOT_FOUND when there is none. */
    gh_status (*identity_delete)(struct store *st, const char *user_id, const char *provider);

    /* Logins in progress at a provider. Consume: of a state not expired at now, atomically
     * removes it and returns it — of two concurrent calls exactly one gets GH_OK; anything else
     * (unknown, expired, used) GH_NOT_FOUND. */
    gh_status (*state_insert)(struct store *st, const struct oauth_state *s);
    gh_status (*state_consume)(struct store *st, const char *state_hash, int64_t now,
                               struct oauth_state *out);

    /* Password hashes not made with the current parameters: users whose hash does not start
     * with current_prefix, leaving out accounts without a password ('') and unusable ones
     * ('!…'). Count: how many there are. List: the next at most cap of them after the user id
     * after (a UUID; the nil UUID for the first), by id. */
    gh_status (*user_count_legacy_hashes)(struct store *st, const char *current_prefix,
                                          int64_t *count);
    gh_status (*user_legacy_hashes)(struct store *st, const char *current_prefix, const char *after,
                                    struct user_hash *out, size_t cap, size_t *count);

    /* Accounts imported from other systems: the gatehouse user of a source's row, by the source
     * (kind and location) and the row's id there; GH_NOT_FOUND when it was not imported. Insert:
     * GH_CONFLICT when the row is mapped already. */
    gh_status (*import_map_get)(struct store *st, const char *source, const char *old_id,
                                char user_id[UUID_LEN + 1]);
    gh_status (*import_map_insert)(struct store *st, const char *source, const char *old_id,
                                   const char *user_id, int64_t now);

    /* Deletes expired sessions, tokens, rate-limit windows and logins in progress. */
    gh_status (*purge_expired)(struct store *st, int64_t now);
};

/* Opens the store named by a DATABASE_URL. */
GH_MUST_CHECK gh_status store_open(const char *url, struct store **out);

/* Runs fn(st, ctx) inside a transaction, retrying a few times when the database is busy.
 * Commits when fn returns GH_OK, rolls back otherwise, and returns fn's status. */
typedef gh_status (*store_tx_fn)(struct store *st, void *ctx);
GH_MUST_CHECK gh_status store_transaction(struct store *st, store_tx_fn fn, void *ctx);

/* Implementations. */
GH_MUST_CHECK gh_status store_sqlite_open(const char *path, struct store **out);
GH_MUST_CHECK gh_status store_postgres_open(const char *url, struct store **out);

#endif
