/* Shared server keys, hex-encoded in server_secrets. */
#include "secrets.h"

#include <sodium.h>
#include <string.h>

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"

gh_status server_key_load(struct store *store, const char *name,
                          unsigned char out[SERVER_KEY_BYTES])
{
    unsigned char candidate[SERVER_KEY_BYTES];
    char candidate_hex[2 * SERVER_KEY_BYTES + 1], stored_hex[2 * SERVER_KEY_BYTES + 1];
    size_t len = 0;
    randombytes_buf(candidate, sizeof candidate);
    sodium_bin2hex(candidate_hex, sizeof candidate_hex, candidate, sizeof candidate);
    gh_status st = store->secret_get_or_create(store, name, candidate_hex, time_now(), stored_hex,
                                               sizeof stored_hex);
    if (st == GH_OK && (sodium_hex2bin(out, SERVER_KEY_BYTES, stored_hex, strlen(stored_hex), NULL,
                                       &len, NULL) != 0 ||
                        len != SERVER_KEY_BYTES)) {
        log_msg(LOG_ERROR, "the stored key %s is malformed", name);
        st = GH_INTERNAL;
    }
    sodium_memzero(candidate, sizeof candidate);
    sodium_memzero(candidate_hex, sizeof candidate_hex);
    sodium_memzero(stored_hex, sizeof stored_hex);
    return st;
}
