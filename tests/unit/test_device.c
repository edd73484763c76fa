/* Device cookies (core/device.h): what is signed is accepted, for its account and until it
 * expires; anything else is not. The key comes from the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "core/device.h"
#include "store/store.h"

#define NOW       ((int64_t)1700000000)
#define SESSION_A "0b7e6c1e-3f4a-4d7b-9a2e-5c8f1d2e3a4b"
#define SESSION_B "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

static struct app test_app(unsigned char fill)
{
    struct app app = {0};
    memset(app.device_key, fill, sizeof app.device_key);
    return app;
}

static void test_device_cookie_verifies_for_its_account(void **state)
{
    (void)state;
    struct app app = test_app(7);
    char value[DEVICE_COOKIE_MAX], nonce[DEVICE_NONCE_LEN + 1];
    device_cookie_issue(&app, "ada@example.com", SESSION_A, NOW, value);
    assert_int_equal(
        strspn(value, "0123456789.ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"),
        strlen(value));
    assert_true(device_cookie_verify(&app, "ada@example.com", value, NOW + 1, nonce));
    assert_int_equal(strlen(nonce), DEVICE_NONCE_LEN);
    assert_false(device_cookie_verify(&app, "bob@example.com", value, NOW + 1, nonce));
    assert_false(device_cookie_verify(&app, "", value, NOW + 1, nonce));
    assert_false(device_cookie_verify(&app, "ada@example.com", NULL, NOW + 1, nonce));
}

static void test_device_cookie_expires(void **state)
{
    (void)state;
    struct app app = test_app(7);
    char value[DEVICE_COOKIE_MAX], nonce[DEVICE_NONCE_LEN + 1];
    device_cookie_issue(&app, "ada@example.com", SESSION_A, NOW, value);
    assert_true(device_cookie_verify(&app, "ada@example.com", value,
                                     NOW + DEVICE_COOKIE_LIFETIME - 1, nonce));
    assert_false(
        device_cookie_verify(&app, "ada@example.com", value, NOW + DEVICE_COOKIE_LIFETIME, nonce));
}

static void test_device_cookie_rejects_other_keys_and_tampering(void **state)
{
    (void)state;
    struct app app = test_app(7), other = test_app(8);
    char value[DEVICE_COOKIE_MAX], bad[DEVICE_COOKIE_MAX + 8], nonce[DEVICE_NONCE_LEN + 1];
    device_cookie_issue(&app, "ada@example.com", SESSION_A, NOW, value);
    /* checked once, the good cookie is remembered: that must vouch for nothing else */
    assert_true(device_cookie_verify(&app, "ada@example.com", value, NOW, nonce));
    assert_true(device_cookie_verify(&app, "ada@example.com", value, NOW, nonce));
    assert_false(device_cookie_verify(&other, "ada@example.com", value, NOW, nonce));
    for (size_t i = 0; i < strlen(value); i++) {
        strcpy(bad, value);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_false(device_cookie_verify(&app, "ada@example.com", bad, NOW, nonce));
    }
    /* a later expiry is part of what is signed */
    const char *dot = strchr(value + 2, '.');
    snprintf(bad, sizeof bad, "1.9999999999%s", dot);
    assert_false(device_cookie_verify(&app, "ada@example.com", bad, NOW, nonce));
    snprintf(bad, sizeof bad, "%s=", value);
    assert_false(device_cookie_verify(&app, "ada@example.com", bad, NOW, nonce));
    const char *garbage[] = {"", "1.", "1..", "2.1.a.b", "1.x.y.z", "1.99.abc.def", "abc"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        assert_false(device_cookie_verify(&app, "ada@example.com", garbage[i], NOW, nonce));
    assert_true(device_cookie_verify(&app, "ada@example.com", value, NOW, nonce));
    assert_int_equal(strlen(nonce), DEVICE_NONCE_LEN);
}

static void test_device_nonce_is_one_per_session(void **state)
{
    (void)state;
    struct app app = test_app(7);
    char a[DEVICE_COOKIE_MAX], b[DEVICE_COOKIE_MAX], c[DEVICE_COOKIE_MAX];
    char na[DEVICE_NONCE_LEN + 1], nb[DEVICE_NONCE_LEN + 1], nc[DEVICE_NONCE_LEN + 1];
    device_cookie_issue(&app, "ada@example.com", SESSION_A, NOW, a);
    device_cookie_issue(&app, "ada@example.com", SESSION_A, NOW + 5, b);
    device_cookie_issue(&app, "ada@example.com", SESSION_B, NOW, c);
    assert_true(device_cookie_verify(&app, "ada@example.com", a, NOW, na));
    assert_true(device_cookie_verify(&app, "ada@example.com", b, NOW, nb));
    assert_true(device_cookie_verify(&app, "ada@example.com", c, NOW, nc));
    assert_string_equal(na, nb); /* asking again gives no new device */
    assert_string_not_equal(na, nc);
    /* a different key derives a different nonce: it cannot be guessed from the session id */
    struct app other = test_app(8);
    device_cookie_issue(&other, "ada@example.com", SESSION_A, NOW, b);
    assert_true(device_cookie_verify(&other, "ada@example.com", b, NOW, nb));
    assert_string_not_equal(na, nb);
}

static void test_device_cookie_refresh_only_when_needed(void **state)
{
    (void)state;
    struct app app = test_app(7);
    char value[DEVICE_COOKIE_MAX], fresh[DEVICE_COOKIE_MAX];
    assert_true(device_cookie_refresh(&app, "ada@example.com", SESSION_A, NULL, value));
    assert_false(device_cookie_refresh(&app, "ada@example.com", SESSION_B, value, fresh));
    assert_true(device_cookie_refresh(&app, "bob@example.com", SESSION_A, value, fresh));
    assert_string_not_equal(value, fresh);
}

static void test_device_key_is_created_once_and_shared(void **state)
{
    (void)state;
    char dir[] = "/tmp/gh-device-test-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/gatehouse.db", dir);
    struct store *st = NULL;
    assert_int_equal(store_sqlite_open(path, &st), GH_OK);
    assert_int_equal(st->migrate(st), GH_OK);
    struct app first = {.store = st}, second = {.store = st};
    assert_int_equal(device_key_load(&first), GH_OK);
    assert_int_equal(device_key_load(&second), GH_OK);
    assert_memory_equal(first.device_key, second.device_key, sizeof first.device_key);
    unsigned char zero[sizeof first.device_key] = {0};
    assert_memory_not_equal(first.device_key, zero, sizeof zero);
    char value[DEVICE_COOKIE_MAX], nonce[DEVICE_NONCE_LEN + 1];
    device_cookie_issue(&first, "ada@example.com", SESSION_A, NOW, value);
    assert_true(device_cookie_verify(&second, "ada@example.com", value, NOW, nonce));
    st->close(st);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_cookie_verifies_for_its_account),
        cmocka_unit_test(test_device_cookie_expires),
        cmocka_unit_test(test_device_cookie_rejects_other_keys_and_tampering),
        cmocka_unit_test(test_device_nonce_is_one_per_session),
        cmocka_unit_test(test_device_cookie_refresh_only_when_needed),
        cmocka_unit_test(test_device_key_is_created_once_and_shared),
    };
    return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
