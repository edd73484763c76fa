/* The one struct built at start and passed down: settings, storage, worker pools.
 * Nothing in it changes after start except through the components' own locks. */
#ifndef GH_APP_H
#define GH_APP_H

#include "config.h"

struct store;
struct outbox;
struct kv;
struct media;
struct workpool;
struct housekeeping;
struct keyring;
struct oidc;
struct login_pad;

struct app {
    const struct config *cfg;
    struct store *store;
    struct workpool *cpu_pool;  /* handlers that hash passwords (their database work included) */
    struct workpool *hash_pool; /* the hashes themselves: one thread per core, lower priority */
    struct workpool *io_pool;   /* handlers that block on outbound I/O (S3) */
    struct housekeeping *housekeeping;
    struct keyring *keys;        /* signing keys of access tokens (core/keys.c) */
    struct oidc *oidc;           /* OpenID Connect providers (core/oidc.c) */
    struct login_pad *login_pad; /* the timing pad of password checks (core/login_pad.c) */
    struct outbox *outbox;
    struct kv *kv;
    struct media *media;
    char dummy_hash[160]; /* verified for unknown emails so login costs the same either way */
    unsigned char device_key[32];  /* signs device cookies; shared by every instance */
    unsigned char refresh_key[32]; /* derives refresh-token successors; shared likewise */
};

/* Opens the database named by the settings (creating the data directory) and migrates it. */
GH_MUST_CHECK gh_status app_open_store(const struct config *cfg, struct store **out);
/* Opens everything but the HTTP server into app (app->cfg set by the caller); on failure
 * closes what was opened. */
GH_MUST_CHECK gh_status app_open(const struct config *cfg, struct app *app);
/* Stops and closes what app_open opened, in reverse order. Safe on a partly opened app. */
void app_close(struct app *app);

#endif
