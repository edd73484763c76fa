/* A struct app for the unit tests of core/ flows, built as app_open builds it but on the fake
 * store (fake_store.h): settings from a table (small Argon2 parameters, so a hash takes
 * milliseconds), the database kv on the store, the device key and the refresh-token key read
 * from it, the signing keys of access tokens, the dummy hash. No worker pools and no outbox: the
 * flows run on the test's thread, and mail stays in the outbox table, where the tests read it or
 * resolve it as the outbox worker would. Include after <cmocka.h>, in one test file (the functions
 * are static inline). */
#ifndef GH_TEST_CORE_APP_H
#define GH_TEST_CORE_APP_H

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config_table.h"
#include "core/account.h"
#include "core/device.h"
#include "core/keys.h"
#include "core/mailer.h"
#include "core/password.h"
#include "core/tokens.h"
#include "fake_store.h"
#include "kv/kv.h"
#include "store/store.h"
#include "util/timeutil.h"

#define ADA          "ada@example.com"
#define ADA_PASSWORD "plum-harbor-lantern-42"
#define CLIENT_IP    "192.0.2.7"
/* The failure counters of a login to ADA from CLIENT_IP without a device cookie
 * (core/ratelimit.c): per account and address, and the account's ceiling. */
#define ADA_ADDRESS_KEY "rl:acip:" CLIENT_IP "|" ADA
#define ADA_CEILING_KEY "rl:acct:" ADA

struct core_fixture {
    struct config cfg;
    struct app app;
    struct fake_db *db; /* the database of app.store */
    struct client_info client;
};

/* Once per test file: libsodium and the common-password list. */
static inline int core_group_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    return password_list_init() == GH_OK ? 0 : -1;
}

static inline int core_group_teardown(void **state)
{
    (void)state;
    password_list_free();
    return 0;
}

static inline int core_teardown(void **state)
{
    struct core_fixture *f = *state;
    if (!f)
        return 0;
    keys_close(&f->app.keys);
    if (f->app.kv)
        f->app.kv->close(f->app.kv);
    if (f->app.store)
        f->app.store->close(f->app.store);
    free(f);
    *state = NULL;
    return 0;
}

#define CORE_EXTRA_SETTINGS 8

/* A fresh app on an empty, migrated fake store, with extra settings (NULL-terminated, at most
 * CORE_EXTRA_SETTINGS; NULL for none) that replace or add to the ones of core_setup. */
static inline int core_setup_with(void **state, const struct setting *extra)
{
    static const struct setting base[] = {
        {"GATEHOUSE_ARGON2_MEMORY_KIB", "8192"},
        {"GATEHOUSE_ARGON2_ITERATIONS", "1"},
        {"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"},
        {"GATEHOUSE_FRONTEND_URL", "https://app.example.com"},
    };
    /* setting_lookup takes the first entry of a name: the extra ones go first. */
    struct setting settings[CORE_EXTRA_SETTINGS + sizeof base / sizeof base[0] + 1] = {{0}};
    size_t n = 0;
    struct core_fixture *f = calloc(1, sizeof *f);
    char err[256] = "";
    *state = f;
    if (!f)
        return -1;
    for (; extra && extra[n].name; n++) {
        if (n == CORE_EXTRA_SETTINGS) {
            fprintf(stderr, "core_setup_with: more than %d settings\n", CORE_EXTRA_SETTINGS);
            goto fail;
        }
        settings[n] = extra[n];
    }
    memcpy(&settings[n], base, sizeof base);
    if (config_load(&f->cfg, setting_lookup, settings, err, sizeof err) != GH_OK) {
        fprintf(stderr, "config_load: %s\n", err);
        goto fail;
    }
    f->app.cfg = &f->cfg;
    strcpy(f->client.ip, CLIENT_IP);
    strcpy(f->client.user_agent, "unit-test/1.0");
    if (fake_store_new(&f->app.store) != GH_OK)
        goto fail;
    f->db = fake_store_db(f->app.store);
    if (device_key_load(&f->app) != GH_OK || tokens_open(&f->app) != GH_OK ||
        keys_open(&f->app) != GH_OK ||
        password_hash("not a password of anyone", f->cfg.argon2_iterations,
                      f->cfg.argon2_memory_kib, f->app.dummy_hash,
                      sizeof f->app.dummy_hash) != GH_OK ||
        kv_db_open(f->app.store, &f->app.kv) != GH_OK)
        goto fail;
    return 0;
fail:
    core_teardown(state);
    return -1;
}

/* A fresh app on an empty, migrated fake store for each test. */
static inline int core_setup(void **state)
{
    return core_setup_with(state, NULL);
}

/* ---- reading the store ---- */

/* The first value of a query of the fake store's SQL subset (fake_db_query), formatted from fmt,
 * as text ("(null)" for NULL) into out. */
__attribute__((format(printf, 4, 5))) static inline void
query_text(struct core_fixture *f, char *out, size_t cap, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (fake_db_query(f->db, sql, out, cap) != GH_OK)
        fail_msg("query failed: %s", sql);
}

/* The number of rows of "table [WHERE …]", formatted from fmt. */
__attribute__((format(printf, 2, 3))) static inline int64_t count_rows(struct core_fixture *f,
                                                                       const char *fmt, ...)
{
    char what[400], sql[512], out[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", what);
    if (fake_db_query(f->db, sql, out, sizeof out) != GH_OK)
        fail_msg("query failed: %s", sql);
    return strtoll(out, NULL, 10);
}

/* The live count of the rate-limit counter key (0 when it has no live window). */
static inline int64_t rate_count(struct core_fixture *f, const char *key)
{
    int64_t count = -1, end = 0;
    assert_int_equal(f->app.store->rate_peek(f->app.store, key, time_now(), &count, &end), GH_OK);
    return count;
}

static inline struct user user_at(struct core_fixture *f, const char *email)
{
    struct user u;
    assert_int_equal(f->app.store->user_by_email(f->app.store, email, &u), GH_OK);
    return u;
}

/* True when the session of the cookie value token is live. */
static inline bool session_alive(struct core_fixture *f, const char *token)
{
    struct session s;
    struct user u;
    char hash[TOKEN_HASH_LEN + 1];
    secret_token_hash(token, hash);
    gh_status st = f->app.kv->session_lookup(f->app.kv, hash, time_now(), &s, &u);
    assert_true(st == GH_OK || st == GH_NOT_FOUND);
    return st == GH_OK;
}

/* ---- accounts and mail ---- */

/* Registers email (unconfirmed) with password. */
static inline struct user register_account(struct core_fixture *f, const char *email,
                                           const char *password)
{
    struct registration r = {email, password, "Ada", "Lovelace"};
    assert_int_equal(account_register(&f->app, &r, &f->client), GH_OK);
    return user_at(f, email);
}

/* Creates an active account at email with password, as an operator does. */
static inline struct user create_account(struct core_fixture *f, const char *email,
                                         const char *password)
{
    struct registration r = {email, password, "Ada", "Lovelace"};
    struct account_roles roles = {0};
    char id[UUID_LEN + 1];
    assert_int_equal(account_create(&f->app, &r, &roles, id), GH_OK);
    struct user u = user_at(f, email);
    assert_string_equal(u.id, id);
    return u;
}

/* Logs in to email with password from the fixture's client; the result in out. */
static inline gh_status login(struct core_fixture *f, const char *email, const char *password,
                              const char *old_session_token, struct login_result *out)
{
    struct login_input in = {
        .email = email, .password = password, .old_session_token = old_session_token};
    return account_login(&f->app, &in, &f->client, out);
}

/* Does what the outbox worker does with the oldest due row that is a mail request: claims it
 * and resolves it (mailer_resolve_request). GH_OK with the mail to send in m (mail_clear it),
 * or GH_NOT_FOUND when the request was dropped. */
static inline gh_status resolve_next_request(struct core_fixture *f, struct mail *m)
{
    int64_t now = time_now();
    assert_int_equal(f->app.store->outbox_claim(f->app.store, now, now + 120, m), GH_OK);
    assert_string_not_equal(m->request, "");
    gh_status st = mailer_resolve_request(&f->app, m);
    if (st != GH_OK)
        mail_clear(m);
    return st;
}

/* The token of the link in a mail's text into token. */
static inline void link_token(const struct mail *m, char token[TOKEN_LEN + 1])
{
    const char *p = strstr(m->text_body, "?token=");
    assert_non_null(p);
    memcpy(token, p + strlen("?token="), TOKEN_LEN);
    token[TOKEN_LEN] = '\0';
    assert_true(secret_token_is_wellformed(token));
}

#endif
