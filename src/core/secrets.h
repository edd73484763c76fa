/* Keys every instance shares, kept in the database's server_secrets table: the first instance
 * that needs one creates it, every later one reads the same. */
#ifndef GH_SECRETS_H
#define GH_SECRETS_H

#include "../app.h"

#define SERVER_KEY_BYTES 32

/* Reads the key called name into out, creating a random one when no instance has yet. */
GH_MUST_CHECK gh_status server_key_load(struct store *store, const char *name,
                                        unsigned char out[SERVER_KEY_BYTES]);

#endif
