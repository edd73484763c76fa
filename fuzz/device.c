/* libFuzzer target for device cookies (core/device.c): device_cookie_verify reads the gh_device
 * cookie of every login and of every cookie-authenticated current-user call, and remembers the
 * cookies it found good per thread.
 *
 * The first byte of the input picks the mode (its value % 2); the rest is the account (an email),
 * a NUL, then:
 *   0  the cookie value as a browser sends it;
 *   1  an expiry, a NUL, a nonce, a NUL, then two bytes: the harness signs "1.<expiry>.<nonce>"
 *      with the reference below, so the signature is right and the expiry and nonce checks are
 *      reached, then changes the byte at the first byte's position (modulo the length) to the
 *      second byte, and checks the changed cookie and the signed one again.
 * Every answer of device_cookie_verify, first or remembered, must be what an independent
 * statement of the rules says: the exact form "1.<digits>.<22 base64url>.<43 base64url>", an
 * HMAC-SHA256 over the domain, expiry, nonce and account (each followed by a NUL) equal to the
 * one given, and an expiry after now. An accepted cookie gives back its nonce. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/device.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW      ((int64_t)1700000000)
#define MAC_LEN  43 /* 32 bytes, base64url without padding */
#define TEXT_MAX 512

static struct app app;

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz/device: %s\n", what);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    check(sodium_init() >= 0, "sodium_init failed");
    memset(app.device_key, 0x5a, sizeof app.device_key);
    return 0;
}

/* The reference MAC of (expiry, nonce, account), base64url, into out (MAC_LEN + 1 bytes). */
static void reference_mac(const char *expiry, const char *nonce, const char *account, char *out)
{
    static const char domain[] = "gatehouse device cookie 1";
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, app.device_key, sizeof app.device_key);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)domain, sizeof domain);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)expiry, strlen(expiry) + 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)nonce, strlen(nonce) + 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)account, strlen(account) + 1);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(out, MAC_LEN + 1, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* True when s[0..n) is n > 0 characters of base64url. */
static bool all_base64url(const char *s, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(alphabet, s[i]))
            return false;
    return n > 0;
}

/* Whether value is a good device cookie of account at NOW, by the rules alone. */
static bool reference_verdict(const char *account, const char *value)
{
    char expiry[24], nonce[DEVICE_NONCE_LEN + 1], mac[MAC_LEN + 1];
    if (!account[0] || strncmp(value, "1.", 2))
        return false;
    const char *p = value + 2;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits >= sizeof expiry || p[digits] != '.')
        return false;
    const char *n = p + digits + 1;
    if (strlen(n) != DEVICE_NONCE_LEN + 1 + MAC_LEN || n[DEVICE_NONCE_LEN] != '.' ||
        !all_base64url(n, DEVICE_NONCE_LEN) || !all_base64url(n + DEVICE_NONCE_LEN + 1, MAC_LEN))
        return false;
    memcpy(expiry, p, digits);
    expiry[digits] = '\0';
    memcpy(nonce, n, DEVICE_NONCE_LEN);
    nonce[DEVICE_NONCE_LEN] = '\0';
    reference_mac(expiry, nonce, account, mac);
    return !strcmp(mac, n + DEVICE_NONCE_LEN + 1) && strtoll(expiry, NULL, 10) > NOW;
}

/* Asks device_cookie_verify about value twice (the second answer may be a remembered one) and
 * checks both answers and the nonce against the reference. */
static void verify_as_reference(const char *account, const char *value)
{
    bool want = reference_verdict(account, value);
    for (int i = 0; i < 2; i++) {
        char nonce[DEVICE_NONCE_LEN + 1] = "";
        bool got = device_cookie_verify(&app, account, value, NOW, nonce);
        check(got == want, got ? "a cookie the rules refuse was accepted"
                               : "a cookie the rules accept was refused");
        check(!got || (strlen(nonce) == DEVICE_NONCE_LEN &&
                       !strncmp(nonce, strchr(value + 2, '.') + 1, DEVICE_NONCE_LEN)),
              "an accepted cookie did not give back its nonce");
    }
}

/* The next NUL-terminated part of [*p, end) copied into out (cap bytes, cut to fit). */
static void next_part(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
    size_t n = 0;
    while (*p < end && **p) {
        if (n + 1 < cap)
            out[n++] = (char)**p;
        (*p)++;
    }
    if (*p < end)
        (*p)++; /* the NUL */
    out[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1, *end = data + size;
    char account[TEXT_MAX], value[TEXT_MAX];
    next_part(&p, end, account, sizeof account);
    if (data[0] % 2 == 0) {
        next_part(&p, end, value, sizeof value);
        verify_as_reference(account, value);
        return 0;
    }
    char expiry[32], nonce[64], mac[MAC_LEN + 1], changed[TEXT_MAX];
    next_part(&p, end, expiry, sizeof expiry);
    next_part(&p, end, nonce, sizeof nonce);
    reference_mac(expiry, nonce, account, mac);
    snprintf(value, sizeof value, "1.%s.%s.%s", expiry, nonce, mac);
    verify_as_reference(account, value);
    if (end - p >= 2 && value[0]) {
        strcpy(changed, value);
        changed[p[0] % strlen(changed)] = (char)(p[1] ? p[1] : 'A');
        verify_as_reference(account, changed);
        verify_as_reference(account, value);
    }
    return 0;
}
