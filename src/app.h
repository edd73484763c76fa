/* The one struct built at start and passed down: settings, storage, worker pools.
 * Nothing in it changes after start except through the components' own locks. */
#ifndef GH_APP_H
#define GH_APP_H

#include "config.h"

struct store;
struct hashpool;
struct outbox;
struct kv;
struct media;
struct workpool;

struct app {
    const struct config *cfg;
    struct store *store;
    struct hashpool *hashpool;
    struct workpool *cpu_pool; /* handlers that hash passwords; one thread per core */
    struct workpool *io_pool;  /* handlers that block on outbound I/O (S3) */
    struct outbox *outbox;
    struct kv *kv;
    struct media *media;
    char dummy_hash[160]; /* verified for unknown emails so login costs the same either way */
    unsigned char
        device_key[32]; /* signs device cookies; shared by every instance (core/device.c) */
};

#endif
