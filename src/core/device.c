/* Device cookies: signing, checking, and the shared signing key. */
#include "device.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"
#include "../records.h"
#include "secrets.h"

/* The row of server_secrets holding the key, hex-encoded. */
#define DEVICE_KEY_NAME "device_cookie_key"
#define MAC_B64_LEN     43 /* 32 bytes, base64url without padding */

gh_status device_key_load(struct app *app)
{
    return server_key_load(app->store, DEVICE_KEY_NAME, app->device_key);
}

/* The signature of (expiry, nonce, account) as base64url into out. */
static void sign(const struct app *app, const char *expiry, const char *nonce, const char *account,
                 char out[MAC_B64_LEN + 1])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    static const char domain[] = "gatehouse device cookie 1";
    crypto_auth_hmacsha256_init(&state, app->device_key, sizeof app->device_key);
    /* Each part is followed by a NUL, so no two different triples sign the same bytes. */
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)domain, sizeof domain);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)expiry, strlen(expiry) + 1);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)nonce, strlen(nonce) + 1);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)account, strlen(account) + 1);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2base64(out, MAC_B64_LEN + 1, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The nonce of the device cookies issued to a session: 128 bits of a keyed hash of its id,
 * unpredictable without the key and the same for every cookie the session is given. */
static void session_nonce(const struct app *app, const char *session_id,
                          char nonce[DEVICE_NONCE_LEN + 1])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    static const char domain[] = "gatehouse device nonce 1";
    crypto_auth_hmacsha256_init(&state, app->device_key, sizeof app->device_key);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)domain, sizeof domain);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)session_id,
                                  strlen(session_id) + 1);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2base64(nonce, DEVICE_NONCE_LEN + 1, mac, 16,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void device_cookie_issue(const struct app *app, const char *account, const char *session_id,
                         int64_t now, char out[DEVICE_COOKIE_MAX])
{
    char expiry[24], nonce[DEVICE_NONCE_LEN + 1], mac[MAC_B64_LEN + 1];
    session_nonce(app, session_id, nonce);
    snprintf(expiry, sizeof expiry, "%lld", (long long)(now + DEVICE_COOKIE_LIFETIME));
    sign(app, expiry, nonce, account, mac);
    snprintf(out, DEVICE_COOKIE_MAX, "1.%s.%s.%s", expiry, nonce, mac);
}

/* True when s[0..n) is n characters of base64url (n > 0). */
static bool is_base64url(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[i]) ||
            !s[i])
            return false;
    return true;
}

/* Device cookies whose signature was found good lately, per thread: a browser sends the same
 * cookie with every current-user call, and its HMAC need not be computed each time. Found by
 * the thread tag (util/secret.h) of the key, the account and the whole cookie, so an entry
 * vouches for exactly that cookie of that account; its expiry is still read from the cookie at
 * every check. No lock, since no thread shares its cache. */
#define CHECKED_COOKIES 64
struct checked_cookie {
    unsigned char tag[THREAD_TAG_LEN];
    bool used;
};
static _Thread_local struct checked_cookie checked[CHECKED_COOKIES];

/* The cache entry that would hold (key, account, value), its tag in tag; NULL when they are too
 * long to tag (then the signature is checked every time). */
static struct checked_cookie *checked_slot(const struct app *app, const char *account,
                                           const char *value, unsigned char tag[THREAD_TAG_LEN])
{
    unsigned char data[sizeof app->device_key + EMAIL_MAX + 1 + DEVICE_COOKIE_MAX];
    size_t alen = strlen(account) + 1, vlen = strlen(value);
    if (sizeof app->device_key + alen + vlen > sizeof data)
        return NULL;
    memcpy(data, app->device_key, sizeof app->device_key);
    memcpy(data + sizeof app->device_key, account, alen);
    memcpy(data + sizeof app->device_key + alen, value, vlen);
    secret_thread_tag(data, sizeof app->device_key + alen + vlen, tag);
    sodium_memzero(data, sizeof app->device_key); /* no copy of the key left on the stack */
    return &checked[secret_thread_tag_slot(tag, CHECKED_COOKIES)];
}

/* True when value's signature is good for account: remembered, or computed and compared. */
static bool signature_good(const struct app *app, const char *account, const char *value,
                           const char *expiry, const char *nonce, const char *presented_mac)
{
    unsigned char tag[THREAD_TAG_LEN];
    char mac[MAC_B64_LEN + 1];
    struct checked_cookie *c = checked_slot(app, account, value, tag);
    if (c && c->used && sodium_memcmp(c->tag, tag, sizeof tag) == 0)
        return true;
    sign(app, expiry, nonce, account, mac);
    if (sodium_memcmp(mac, presented_mac, MAC_B64_LEN) != 0)
        return false;
    if (c) {
        memcpy(c->tag, tag, sizeof tag);
        c->used = true;
    }
    return true;
}

bool device_cookie_verify(const struct app *app, const char *account, const char *value,
                          int64_t now, char nonce[DEVICE_NONCE_LEN + 1])
{
    char expiry[24];
    if (!value || !account || !account[0] || strncmp(value, "1.", 2))
        return false;
    /* "1." <digits> "." <22 base64url> "." <43 base64url>, nothing else */
    const char *p = value + 2;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits >= sizeof expiry || p[digits] != '.')
        return false;
    memcpy(expiry, p, digits);
    expiry[digits] = '\0';
    const char *n = p + digits + 1, *m = n + DEVICE_NONCE_LEN + 1;
    if (strlen(n) != DEVICE_NONCE_LEN + 1 + MAC_B64_LEN || n[DEVICE_NONCE_LEN] != '.' ||
        !is_base64url(n, DEVICE_NONCE_LEN) || !is_base64url(m, MAC_B64_LEN))
        return false;
    memcpy(nonce, n, DEVICE_NONCE_LEN);
    nonce[DEVICE_NONCE_LEN] = '\0';
    bool ok =
        strtoll(expiry, NULL, 10) > now && signature_good(app, account, value, expiry, nonce, m);
    if (!ok)
        nonce[0] = '\0';
    return ok;
}

bool device_cookie_refresh(const struct app *app, const char *account, const char *session_id,
                           const char *presented, char out[DEVICE_COOKIE_MAX])
{
    char nonce[DEVICE_NONCE_LEN + 1];
    int64_t now = time_now();
    if (device_cookie_verify(app, account, presented, now, nonce))
        return false;
    device_cookie_issue(app, account, session_id, now, out);
    return true;
}
