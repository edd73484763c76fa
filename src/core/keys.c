/* The key ring: the signing keys every instance reads from the database. Keys are only ever
 * added to the ring and never change once published, so readers take no lock: a reload writes
 * a new slot, then publishes the count; retirement times are atomics. */
#include "keys.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../util/timeutil.h"

#define RING_MAX 64 /* keys an instance keeps in memory: far more than rotations happen */
#define RETIRE_LEEWAY                                                                              \
    60 /* seconds a retired key stays in the JWKS past the last token's expiry                     \
        */
#define PLAIN_PREFIX  "der1:"
#define SEALED_PREFIX "enc1:"
#define B64           sodium_base64_VARIANT_ORIGINAL

struct ring_key {
    struct jwt_key key;
    int64_t activates_at;
    _Atomic int64_t retires_at; /* 0 = not retiring */
};

struct keyring {
    struct ring_key keys[RING_MAX];
    atomic_size_t count;
    pthread_mutex_t reload_lock; /* one reload at a time; also guards jwks */
    _Atomic int64_t next_reload;
    bool sealed; /* GATEHOUSE_KEY_ENCRYPTION_KEY is set */
    unsigned char seal_key[crypto_secretbox_KEYBYTES];
    char *jwks; /* the JWKS document of the last reload */
};

/* ---- private keys as stored text ---- */

/* The stored text of a private key: base64 of its DER, sealed with the seal key when set. */
static gh_status key_to_text(const struct keyring *r, const struct jwt_key *k,
                             char out[SIGNING_KEY_TEXT_MAX])
{
    unsigned char *der = NULL, *box = NULL;
    size_t len = 0;
    gh_status st = jwt_key_export(k, &der, &len);
    if (st != GH_OK)
        return st;
    const unsigned char *bytes = der;
    size_t n = len;
    const char *prefix = PLAIN_PREFIX;
    if (r->sealed) {
        n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
        if (!(box = malloc(n))) {
            st = GH_NO_MEMORY;
            goto out;
        }
        randombytes_buf(box, crypto_secretbox_NONCEBYTES);
        crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, der, len, box, r->seal_key);
        bytes = box;
        prefix = SEALED_PREFIX;
    }
    st = GH_INTERNAL;
    if (strlen(prefix) + sodium_base64_ENCODED_LEN(n, B64) > SIGNING_KEY_TEXT_MAX)
        goto out;
    strcpy(out, prefix);
    sodium_bin2base64(out + strlen(prefix), SIGNING_KEY_TEXT_MAX - strlen(prefix), bytes, n, B64);
    st = GH_OK;
out:
    if (der) {
        sodium_memzero(der, len);
        free(der);
    }
    free(box);
    return st;
}

/* Loads a stored key row into k, unsealing it when it is sealed. */
static gh_status key_from_row(const struct keyring *r, const struct signing_key_row *row,
                              struct jwt_key *k)
{
    unsigned char raw[SIGNING_KEY_TEXT_MAX], der[SIGNING_KEY_TEXT_MAX];
    size_t n = 0, len = 0;
    enum jwt_alg alg;
    gh_status st = jwt_alg_from_name(row->alg, &alg);
    if (st != GH_OK)
        return GH_INTERNAL;
    bool sealed = !strncmp(row->private_key, SEALED_PREFIX, strlen(SEALED_PREFIX));
    const char *text = row->private_key + strlen(sealed ? SEALED_PREFIX : PLAIN_PREFIX);
    if (!sealed && strncmp(row->private_key, PLAIN_PREFIX, strlen(PLAIN_PREFIX)))
        return GH_INTERNAL;
    if (sodium_base642bin(raw, sizeof raw, text, strlen(text), NULL, &n, NULL, B64) != 0)
        return GH_INTERNAL;
    if (sealed) {
        if (!r->sealed) {
            log_msg(LOG_ERROR, "signing key %s is sealed: GATEHOUSE_KEY_ENCRYPTION_KEY is needed",
                    row->kid);
            st = GH_ERR_CONFIG;
            goto out;
        }
        if (n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
            crypto_secretbox_open_easy(der, raw + crypto_secretbox_NONCEBYTES,
                                       n - crypto_secretbox_NONCEBYTES, raw, r->seal_key) != 0) {
            log_msg(LOG_ERROR, "signing key %s does not open with GATEHOUSE_KEY_ENCRYPTION_KEY",
                    row->kid);
            st = GH_ERR_CONFIG;
            goto out;
        }
        len = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    } else {
        memcpy(der, raw, n);
        len = n;
    }
    st = jwt_key_import(row->kid, alg, der, len, k);
out:
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(der, sizeof der);
    return st;
}

/* ---- the ring ---- */

static struct ring_key *ring_find(struct keyring *r, const char *kid)
{
    size_t n = atomic_load(&r->count);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r->keys[i].key.kid, kid))
            return &r->keys[i];
    return NULL;
}

static bool is_published(struct ring_key *k, int64_t now)
{
    int64_t retires = atomic_load_explicit(&k->retires_at, memory_order_relaxed);
    return retires == 0 || retires > now;
}

/* Rebuilds the JWKS document from the published keys. Reload lock held. */
static gh_status build_jwks(struct keyring *r, int64_t now)
{
    gh_status st = GH_NO_MEMORY;
    json_t *doc = json_object(), *list = json_array();
    char *text = NULL;
    if (!doc || !list || json_object_set(doc, "keys", list) != 0)
        goto out;
    size_t n = atomic_load(&r->count);
    for (size_t i = 0; i < n; i++) {
        json_t *jwk = NULL;
        if (!is_published(&r->keys[i], now))
            continue;
        if ((st = jwt_key_public_jwk(&r->keys[i].key, &jwk)) != GH_OK)
            goto out;
        if (json_array_append_new(list, jwk) != 0) {
            st = GH_NO_MEMORY;
            goto out;
        }
    }
    st = GH_NO_MEMORY;
    if (!(text = json_dumps(doc, JSON_COMPACT)))
        goto out;
    free(r->jwks);
    r->jwks = text;
    st = GH_OK;
out:
    json_decref(list);
    json_decref(doc);
    return st;
}

/* Rereads the keys from the database: adds new ones to the ring, updates retirements, marks
 * keys that left the database's list as retired. Reload lock held. */
static gh_status reload(struct app *app, struct keyring *r, int64_t now)
{
    struct signing_key_row *rows = calloc(RING_MAX, sizeof *rows);
    size_t count = 0;
    gh_status st =
        rows ? app->store->signing_key_list(app->store, now, rows, RING_MAX, &count) : GH_NO_MEMORY;
    if (st != GH_OK)
        goto out;
    size_t n = atomic_load(&r->count);
    for (size_t i = 0; i < n; i++) {
        bool listed = false;
        for (size_t j = 0; j < count && !listed; j++)
            listed = !strcmp(rows[j].kid, r->keys[i].key.kid);
        if (!listed && is_published(&r->keys[i], now))
            atomic_store(&r->keys[i].retires_at, now);
    }
    for (size_t j = 0; j < count; j++) {
        struct ring_key *k = ring_find(r, rows[j].kid);
        if (k) {
            atomic_store(&k->retires_at, rows[j].retires_at);
            continue;
        }
        if (n >= RING_MAX) {
            log_msg(LOG_WARN, "more than %d signing keys: key %s ignored", RING_MAX, rows[j].kid);
            continue;
        }
        struct ring_key *slot = &r->keys[n];
        if ((st = key_from_row(r, &rows[j], &slot->key)) != GH_OK)
            goto out;
        slot->activates_at = rows[j].activates_at;
        atomic_store(&slot->retires_at, rows[j].retires_at);
        atomic_store(&r->count, ++n); /* published only once the slot is complete */
    }
    st = build_jwks(r, now);
out:
    if (rows)
        sodium_memzero(rows, RING_MAX * sizeof *rows);
    free(rows);
    return st;
}

/* Rereads the keys when the reload interval has passed; one thread does it, the others go on
 * with the ring as it is. */
static void reload_if_due(struct app *app)
{
    struct keyring *r = app->keys;
    int64_t now = time_now();
    if (now < atomic_load(&r->next_reload) || pthread_mutex_trylock(&r->reload_lock) != 0)
        return;
    if (reload(app, r, now) != GH_OK)
        log_msg(LOG_WARN, "signing keys could not be reread; keeping the ones in memory");
    atomic_store(&r->next_reload, now + app->cfg->key_reload_seconds);
    pthread_mutex_unlock(&r->reload_lock);
}

/* The newest active published key of the configured algorithm, or NULL. */
static const struct jwt_key *current_signer(struct app *app, int64_t now)
{
    struct keyring *r = app->keys;
    const struct ring_key *best = NULL;
    size_t n = atomic_load(&r->count);
    for (size_t i = 0; i < n; i++) {
        struct ring_key *k = &r->keys[i];
        if ((int)k->key.alg != app->cfg->jwt_alg || k->activates_at > now || !is_published(k, now))
            continue;
        if (!best || k->activates_at > best->activates_at)
            best = k;
    }
    return best ? &best->key : NULL;
}

/* Creates a key of the configured algorithm that signs from activates_at, stores it, and
 * writes its kid. */
static gh_status add_key(struct app *app, int64_t activates_at, char kid[JWT_KID_MAX])
{
    struct jwt_key k = {0};
    struct signing_key_row row = {0};
    gh_status st = jwt_key_generate((enum jwt_alg)app->cfg->jwt_alg, &k);
    if (st == GH_OK)
        st = key_to_text(app->keys, &k, row.private_key);
    if (st == GH_OK) {
        strcpy(row.kid, k.kid);
        strcpy(row.alg, jwt_alg_name(k.alg));
        row.created_at = time_now();
        row.activates_at = activates_at;
        st = app->store->signing_key_insert(app->store, &row);
    }
    if (st == GH_OK && kid)
        strcpy(kid, k.kid);
    jwt_key_free(&k);
    sodium_memzero(&row, sizeof row);
    return st;
}

gh_status keys_open(struct app *app)
{
    struct keyring *r = calloc(1, sizeof *r);
    if (!r)
        return GH_NO_MEMORY;
    pthread_mutex_init(&r->reload_lock, NULL);
    if ((r->sealed = app->cfg->key_encryption_key[0] != '\0'))
        crypto_generichash(r->seal_key, sizeof r->seal_key,
                           (const unsigned char *)app->cfg->key_encryption_key,
                           strlen(app->cfg->key_encryption_key),
                           (const unsigned char *)"gatehouse signing keys", 22);
    app->keys = r;
    int64_t now = time_now();
    gh_status st = reload(app, r, now);
    if (st == GH_OK && !current_signer(app, now)) {
        /* The first start (or a change of algorithm): a key that signs at once. */
        if ((st = add_key(app, now, NULL)) == GH_OK)
            st = reload(app, r, now);
    }
    if (st == GH_OK && !current_signer(app, now))
        st = GH_INTERNAL;
    atomic_store(&r->next_reload, now + app->cfg->key_reload_seconds);
    if (st != GH_OK) {
        log_msg(LOG_ERROR, "the signing keys could not be loaded or created");
        keys_close(&app->keys);
    }
    return st;
}

void keys_close(struct keyring **ring)
{
    struct keyring *r = ring ? *ring : NULL;
    if (!r)
        return;
    size_t n = atomic_load(&r->count);
    for (size_t i = 0; i < n; i++)
        jwt_key_free(&r->keys[i].key);
    sodium_memzero(r->seal_key, sizeof r->seal_key);
    free(r->jwks);
    pthread_mutex_destroy(&r->reload_lock);
    free(r);
    *ring = NULL;
}

gh_status keys_signer(struct app *app, const struct jwt_key **out)
{
    reload_if_due(app);
    *out = current_signer(app, time_now());
    return *out ? GH_OK : GH_UNAVAILABLE;
}

const struct jwt_key *keys_lookup(void *ctx, const char *kid)
{
    struct app *app = ctx;
    reload_if_due(app);
    struct ring_key *k = ring_find(app->keys, kid);
    if (!k || (int)k->key.alg != app->cfg->jwt_alg || !is_published(k, time_now()))
        return NULL;
    return &k->key;
}

gh_status keys_jwks(struct app *app, char **json)
{
    struct keyring *r = app->keys;
    reload_if_due(app);
    pthread_mutex_lock(&r->reload_lock);
    *json = r->jwks ? strdup(r->jwks) : NULL;
    pthread_mutex_unlock(&r->reload_lock);
    return *json ? GH_OK : GH_NO_MEMORY;
}

gh_status keys_rotate(struct app *app, char kid[JWT_KID_MAX], int64_t *activates_at)
{
    /* Published now, signing once every instance has reread the keys (twice the interval). */
    int64_t now = time_now();
    *activates_at = now + 2 * (int64_t)app->cfg->key_reload_seconds;
    gh_status st = add_key(app, *activates_at, kid);
    if (st == GH_OK)
        st = app->store->signing_key_retire_older(
            app->store, kid, *activates_at + app->cfg->access_token_ttl + RETIRE_LEEWAY);
    return st;
}
