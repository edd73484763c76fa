/* Media stores for avatars (SPEC §6): local files served by gatehouse (file:) or any
 * S3-compatible service (s3://), behind one interface chosen from GATEHOUSE_MEDIA_URL. */
#ifndef GH_MEDIA_H
#define GH_MEDIA_H

#include <stddef.h>

#include "../config.h"

struct media {
    /* Stores len bytes under key ("avatars/<uuid>.png"), replacing nothing else. */
    gh_status (*put)(struct media *m, const char *key, const void *data, size_t len,
                     const char *content_type);
    /* Deletes key; a key that does not exist is not an error. */
    gh_status (*remove)(struct media *m, const char *key);
    /* Writes the absolute URL at which browsers fetch key. */
    void (*url)(struct media *m, const char *key, char *out, size_t cap);
    /* Readiness: GH_OK when the store could take a file now as far as this machine can tell
     * (the file store's directory accepts a file). NULL when there is nothing local to check:
     * an S3 outage fails avatar uploads, not the whole server. */
    gh_status (*ready)(struct media *m);
    void (*close)(struct media *m);
    /* The directory the file store serves at /media/, NULL for other stores. */
    const char *local_dir;
};

GH_MUST_CHECK gh_status media_open(const struct config *cfg, struct media **out);
/* public_url is borrowed and read at each url() call. */
GH_MUST_CHECK gh_status media_file_open(const char *dir, const char *public_url,
                                        struct media **out);
GH_MUST_CHECK gh_status media_s3_open(const struct config *cfg, struct media **out);

/* True when key is a safe relative media path: segments of [A-Za-z0-9._-], none empty or
 * starting with a dot, so it can never leave the media directory. */
bool media_key_is_safe(const char *key);

/* The Content-Type for a stored key, from its extension; NULL for anything not an image. */
const char *media_content_type(const char *key);

#endif
