/* OAuth clients (RFC 6749 §2): services and apps registered with `gatehouse client create`.
 * A confidential client has a secret — 256 random bits shown once and stored only as its
 * SHA-256 — and authenticates with it; a public client (a SPA, a mobile app) has none. */
#ifndef GH_CLIENTS_H
#define GH_CLIENTS_H

#include <stdbool.h>

#include "../app.h"
#include "../records.h"

/* Registers a client called name with the CLIENT_GRANT_* bits grants; writes its new id and,
 * for a confidential client, its secret (the only time it exists in clear). */
GH_MUST_CHECK gh_status client_create(struct app *app, const char *name, bool confidential,
                                      unsigned grants, char id[UUID_LEN + 1],
                                      char secret[TOKEN_LEN + 1]);

/* Authenticates a client by id and secret (NULL when none was sent): a confidential client
 * needs its secret, a public one must send none. GH_ERR_INVALID_CLIENT otherwise — the same for
 * an unknown id and a wrong secret. The client is written into out. */
GH_MUST_CHECK gh_status client_authenticate(struct app *app, const char *id, const char *secret,
                                            struct oauth_client *out);

#endif
