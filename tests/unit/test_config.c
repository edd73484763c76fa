/* Settings parsing (config.h): the settings table, defaults, validation, production rules,
 * origins, printing with secrets masked, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_table.h"
#include "util/buf.h"

/* Loads a single setting that must be refused with a message naming `mentions`. */
static void expect_refused(struct setting *table, const char *mentions)
{
    struct config cfg;
    char err[512] = "";
    gh_status st = config_load(&cfg, setting_lookup, table, err, sizeof err);
    if (st != GH_ERR_CONFIG)
        fail_msg("%s=%s gave status %d, want GH_ERR_CONFIG", table[0].name, table[0].value, st);
    if (!strstr(err, mentions))
        fail_msg("error \"%s\" does not name %s", err, mentions);
}

#define REFUSED(name, value) expect_refused((struct setting[]){{name, value}, {NULL, NULL}}, name)

static void test_config_defaults(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_false(cfg.production);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 5000);
    assert_string_equal(cfg.public_url, "http://127.0.0.1:5000");
    assert_string_equal(cfg.frontend_url, "http://127.0.0.1:5000");
    assert_true(cfg.public_url_derived);
    assert_true(cfg.frontend_url_derived);
    assert_string_equal(cfg.data_dir, "./data");
    assert_string_equal(cfg.database_url, "sqlite:./data/gatehouse.db");
    assert_string_equal(cfg.mail_url, "file:./data/mail");
    assert_string_equal(cfg.mail_templates_dir, "");
    assert_string_equal(cfg.cookie_name, "sessionid");
    assert_int_equal(cfg.cookie_secure, -1);
    assert_false(config_cookie_secure(&cfg));
    assert_int_equal(cfg.password_min_length, 12);
    assert_int_equal(cfg.argon2_memory_kib, 19456);
    assert_int_equal(cfg.argon2_iterations, 2);
    assert_int_equal(cfg.max_json_body, 65536);
    assert_int_equal(cfg.log_format, LOG_FORMAT_AUTO);
    assert_true(cfg.log_requests);
}

static void test_config_empty_values_keep_defaults(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PASSWORD_MIN_LENGTH", ""},
                          {"GATEHOUSE_LISTEN", ""},
                          {"GATEHOUSE_ENV", ""},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_int_equal(cfg.password_min_length, 12);
    assert_int_equal(cfg.listen_port, 5000);
    assert_false(cfg.production);
}

static void test_config_reads_values(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_LISTEN", "0.0.0.0:8080"},
                          {"GATEHOUSE_PASSWORD_MIN_LENGTH", "8"},
                          {"GATEHOUSE_ARGON2_MEMORY_KIB", "8192"},
                          {"GATEHOUSE_ARGON2_ITERATIONS", "1"},
                          {"GATEHOUSE_MAX_JSON_BODY", "2048"},
                          {"GATEHOUSE_LOG_FORMAT", "json"},
                          {"GATEHOUSE_LOG_REQUESTS", "off"},
                          {"GATEHOUSE_DATA_DIR", "/var/lib/gatehouse"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.listen_port, 8080);
    assert_string_equal(cfg.public_url, "http://0.0.0.0:8080");
    assert_int_equal(cfg.password_min_length, 8);
    assert_int_equal(cfg.argon2_memory_kib, 8192);
    assert_int_equal(cfg.argon2_iterations, 1);
    assert_int_equal(cfg.max_json_body, 2048);
    assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
    assert_false(cfg.log_requests);
    assert_string_equal(cfg.database_url, "sqlite:/var/lib/gatehouse/gatehouse.db");
    assert_string_equal(cfg.mail_url, "file:/var/lib/gatehouse/mail");
}

static void test_config_failed_login_limits(void **state)
{
    (void)state;
    struct config cfg;
    struct setting none[] = {{NULL, NULL}};
    config_load_ok(&cfg, none);
    assert_int_equal(cfg.rate_account_max, 10);
    assert_int_equal(cfg.rate_account_window, 900);
    assert_int_equal(cfg.rate_account_ceiling, 100);
    assert_int_equal(cfg.rate_account_ceiling_window, 3600);
    struct setting t[] = {{"GATEHOUSE_RATE_ACCOUNT_CEILING", "40"},
                          {"GATEHOUSE_RATE_ACCOUNT_CEILING_WINDOW", "600"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_int_equal(cfg.rate_account_ceiling, 40);
    assert_int_equal(cfg.rate_account_ceiling_window, 600);
    REFUSED("GATEHOUSE_RATE_ACCOUNT_CEILING", "0");
    REFUSED("GATEHOUSE_RATE_ACCOUNT_CEILING_WINDOW", "86401");
}

static void test_config_relaying_frontends(void **state)
{
    (void)state;
    struct config cfg;
    struct setting none[] = {{NULL, NULL}};
    config_load_ok(&cfg, none);
    assert_false(config_frontend_relaying(&cfg, "127.0.0.1"));
    struct setting t[] = {{"GATEHOUSE_RELAYING_FRONTENDS", "10.0.0.5, 10.0.0.6,::1"},
                          {"GATEHOUSE_TRUSTED_PROXIES", "10.0.0.9"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_true(config_frontend_relaying(&cfg, "10.0.0.5"));
    assert_true(config_frontend_relaying(&cfg, "10.0.0.6"));
    assert_true(config_frontend_relaying(&cfg, "::1"));
    assert_false(config_frontend_relaying(&cfg, "10.0.0.9"));
    assert_false(config_frontend_relaying(&cfg, "10.0.0.50"));
    assert_false(config_frontend_relaying(&cfg, ""));
    assert_false(config_proxy_trusted(&cfg, "10.0.0.5"));
    REFUSED("GATEHOUSE_RELAYING_FRONTENDS", "frontend.internal");
    REFUSED("GATEHOUSE_RELAYING_FRONTENDS", "10.0.0.0/8");
    REFUSED("GATEHOUSE_RELAYING_FRONTENDS",
            "1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9 1.1.1.10 "
            "1.1.1.11 1.1.1.12 1.1.1.13 1.1.1.14 1.1.1.15 1.1.1.16 1.1.1.17");
}

static void test_config_register_reveals_existing(void **state)
{
    (void)state;
    struct config cfg;
    struct setting none[] = {{NULL, NULL}};
    config_load_ok(&cfg, none);
    assert_false(cfg.register_reveals_existing);
    struct setting t[] = {{"GATEHOUSE_REGISTER_REVEALS_EXISTING", "true"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_true(cfg.register_reveals_existing);
    REFUSED("GATEHOUSE_REGISTER_REVEALS_EXISTING", "sometimes");
}

static void test_config_rejects_bad_listen_port(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_LISTEN", "127.0.0.1:70000");
    REFUSED("GATEHOUSE_LISTEN", "127.0.0.1:-1");
    REFUSED("GATEHOUSE_LISTEN", "127.0.0.1:abc");
    REFUSED("GATEHOUSE_LISTEN", "127.0.0.1:");
    REFUSED("GATEHOUSE_LISTEN", "127.0.0.1");
    REFUSED("GATEHOUSE_LISTEN", ":5000");
}

static void test_config_rejects_password_min_length_7(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_PASSWORD_MIN_LENGTH", "7");
    REFUSED("GATEHOUSE_PASSWORD_MIN_LENGTH", "129");
}

static void test_config_rejects_non_numbers(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_PASSWORD_MIN_LENGTH", "twelve");
    REFUSED("GATEHOUSE_PASSWORD_MIN_LENGTH", "12abc");
    REFUSED("GATEHOUSE_SESSION_TTL", "1.5");
    REFUSED("GATEHOUSE_MAX_JSON_BODY", "99999999999999999999");
    REFUSED("GATEHOUSE_ARGON2_MEMORY_KIB", "1024");
    REFUSED("GATEHOUSE_ARGON2_ITERATIONS", "0");
}

static void test_config_rejects_unknown_env(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_ENV", "staging");
    REFUSED("GATEHOUSE_ENV", "prod");
}

static void test_config_rejects_bad_log_format(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_LOG_FORMAT", "xml");
}

static void test_config_rejects_bad_booleans(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_LOG_REQUESTS", "maybe");
    REFUSED("GATEHOUSE_COOKIE_SECURE", "sometimes");
}

static void test_config_rejects_non_http_public_url(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_PUBLIC_URL", "ftp://auth.example.com");
    REFUSED("GATEHOUSE_PUBLIC_URL", "auth.example.com");
    REFUSED("GATEHOUSE_FRONTEND_URL", "javascript:alert(1)");
}

static void test_config_accepts_postgres_database_url(void **state)
{
    (void)state;
    static const char *const urls[] = {"postgres://gatehouse:secret@db.internal:5432/gatehouse",
                                       "postgresql://localhost/gatehouse?sslmode=require"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct config cfg;
        struct setting t[] = {{"DATABASE_URL", urls[i]}, {NULL, NULL}};
        config_load_ok(&cfg, t);
        assert_string_equal(cfg.database_url, urls[i]);
    }
}

static void test_config_rejects_unknown_database_scheme(void **state)
{
    (void)state;
    REFUSED("DATABASE_URL", "mysql://localhost/gatehouse");
    REFUSED("DATABASE_URL", "gatehouse.db");
}

static void test_config_rejects_bad_mail_url(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_MAIL_URL", "sendmail:/usr/sbin/sendmail");
}

static void test_config_rejects_bad_cookie_name(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_COOKIE_NAME", "a=b");
    REFUSED("GATEHOUSE_COOKIE_NAME", "a;b");
    REFUSED("GATEHOUSE_COOKIE_NAME", "a b");
    /* control characters would make libmicrohttpd drop the Set-Cookie header silently */
    REFUSED("GATEHOUSE_COOKIE_NAME", "a\rb");
    REFUSED("GATEHOUSE_COOKIE_NAME", "a\x01");
    REFUSED("GATEHOUSE_COOKIE_NAME", "caf\xc3\xa9");
    REFUSED("GATEHOUSE_COOKIE_NAME", "a(b)");
}

static void test_config_rejects_bad_allowed_origins(void **state)
{
    (void)state;
    REFUSED("GATEHOUSE_ALLOWED_ORIGINS", "app.example.com");
}

static void test_config_rejects_too_long_value(void **state)
{
    (void)state;
    char long_url[CONFIG_URL_MAX + 20];
    memcpy(long_url, "https://", 8);
    memset(long_url + 8, 'a', sizeof long_url - 9);
    long_url[sizeof long_url - 1] = '\0';
    REFUSED("GATEHOUSE_PUBLIC_URL", long_url);
}

static void test_config_production_refuses_http_public_url(void **state)
{
    (void)state;
    struct setting t[] = {{"GATEHOUSE_ENV", "production"},
                          {"GATEHOUSE_PUBLIC_URL", "http://auth.example.com"},
                          {"GATEHOUSE_MAIL_URL", "smtp://mail.example.com:587"},
                          {NULL, NULL}};
    struct config cfg;
    char err[512] = "";
    assert_int_equal(config_load(&cfg, setting_lookup, t, err, sizeof err), GH_ERR_CONFIG);
    assert_non_null(strstr(err, "GATEHOUSE_PUBLIC_URL"));
}

static void test_config_production_refuses_derived_public_url(void **state)
{
    (void)state;
    struct setting t[] = {{"GATEHOUSE_ENV", "production"},
                          {"GATEHOUSE_MAIL_URL", "smtp://mail.example.com:587"},
                          {NULL, NULL}};
    struct config cfg;
    char err[512] = "";
    assert_int_equal(config_load(&cfg, setting_lookup, t, err, sizeof err), GH_ERR_CONFIG);
    assert_non_null(strstr(err, "GATEHOUSE_PUBLIC_URL"));
}

static void test_config_production_refuses_file_mail(void **state)
{
    (void)state;
    struct setting t[] = {{"GATEHOUSE_ENV", "production"},
                          {"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"},
                          {NULL, NULL}};
    struct config cfg;
    char err[512] = "";
    assert_int_equal(config_load(&cfg, setting_lookup, t, err, sizeof err), GH_ERR_CONFIG);
    assert_non_null(strstr(err, "GATEHOUSE_MAIL_URL"));
}

static void test_config_production_refuses_insecure_cookie(void **state)
{
    (void)state;
    struct setting t[] = {{"GATEHOUSE_ENV", "production"},
                          {"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"},
                          {"GATEHOUSE_MAIL_URL", "smtps://mail.example.com"},
                          {"GATEHOUSE_COOKIE_SECURE", "false"},
                          {NULL, NULL}};
    struct config cfg;
    char err[512] = "";
    assert_int_equal(config_load(&cfg, setting_lookup, t, err, sizeof err), GH_ERR_CONFIG);
    assert_non_null(strstr(err, "GATEHOUSE_COOKIE_SECURE"));
}

static void test_config_production_accepts_https_and_smtp(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_ENV", "production"},
                          {"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"},
                          {"GATEHOUSE_MAIL_URL", "smtp://mail.example.com:587"},
                          {"GATEHOUSE_KEY_ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_true(cfg.production);
    assert_true(config_cookie_secure(&cfg));
}

static void test_config_strips_trailing_slashes(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com/base//"},
                          {"GATEHOUSE_FRONTEND_URL", "https://app.example.com/"},
                          {"GATEHOUSE_DATA_DIR", "/srv/gh/"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_string_equal(cfg.public_url, "https://auth.example.com/base");
    assert_string_equal(cfg.frontend_url, "https://app.example.com");
    assert_string_equal(cfg.data_dir, "/srv/gh");
    assert_string_equal(cfg.database_url, "sqlite:/srv/gh/gatehouse.db");
}

static void test_config_frontend_defaults_to_public(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com/"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_string_equal(cfg.frontend_url, "https://auth.example.com");
    assert_false(cfg.public_url_derived);
    assert_true(cfg.frontend_url_derived);
}

static void test_config_origin_allowed_public_and_frontend(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com/gatehouse"},
                          {"GATEHOUSE_FRONTEND_URL", "https://app.example.com:8443/"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_true(config_origin_allowed(&cfg, "https://auth.example.com"));
    assert_true(config_origin_allowed(&cfg, "https://app.example.com:8443"));
}

static void test_config_origin_allowed_is_case_insensitive(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_true(config_origin_allowed(&cfg, "HTTPS://Auth.Example.COM"));
}

static void test_config_origin_allowed_extra_origins(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"},
                          {"GATEHOUSE_ALLOWED_ORIGINS",
                           "https://a.example.com, http://localhost:3000/,https://b.example.com"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_int_equal(cfg.extra_origin_count, 3);
    assert_true(config_origin_allowed(&cfg, "https://a.example.com"));
    assert_true(config_origin_allowed(&cfg, "http://localhost:3000"));
    assert_true(config_origin_allowed(&cfg, "https://b.example.com"));
    assert_true(config_origin_allowed(&cfg, "https://auth.example.com"));
}

static void test_config_allowed_origins_limit(void **state)
{
    (void)state;
    char list[1024] = "";
    size_t max = CONFIG_MAX_ORIGINS - 2; /* room is kept for the public and frontend origins */
    for (size_t i = 0; i < max; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%shttps://o%zu.example.com",
                 i ? "," : "", i);
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_ALLOWED_ORIGINS", list}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_int_equal(cfg.extra_origin_count, max);
    assert_true(config_origin_allowed(&cfg, "https://o0.example.com"));
    assert_true(config_origin_allowed(&cfg, "https://o13.example.com"));
    assert_true(config_origin_allowed(&cfg, "http://127.0.0.1:5000"));
    snprintf(list + strlen(list), sizeof list - strlen(list), ",https://one-more.example.com");
    REFUSED("GATEHOUSE_ALLOWED_ORIGINS", list);
}

static void test_config_origin_rejects_others(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"},
                          {"GATEHOUSE_ALLOWED_ORIGINS", "https://a.example.com"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_false(config_origin_allowed(&cfg, "https://evil.example.com"));
    assert_false(config_origin_allowed(&cfg, "http://auth.example.com"));
    assert_false(config_origin_allowed(&cfg, "https://auth.example.com:444"));
    assert_false(config_origin_allowed(&cfg, "https://auth.example.com.evil.com"));
    assert_false(config_origin_allowed(&cfg, "https://a.example.co"));
    assert_false(config_origin_allowed(&cfg, "null"));
    assert_false(config_origin_allowed(&cfg, ""));
}

static void test_config_set_port_rederives_derived_public_url(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_LISTEN", "127.0.0.1:0"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_int_equal(config_set_port(&cfg, 41234), GH_OK);
    assert_int_equal(cfg.listen_port, 41234);
    assert_string_equal(cfg.public_url, "http://127.0.0.1:41234");
    assert_string_equal(cfg.frontend_url, "http://127.0.0.1:41234");
    assert_true(config_origin_allowed(&cfg, "http://127.0.0.1:41234"));
    assert_false(config_origin_allowed(&cfg, "http://127.0.0.1:0"));
}

static void test_config_set_port_keeps_explicit_public_url(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_LISTEN", "127.0.0.1:0"},
                          {"GATEHOUSE_PUBLIC_URL", "https://auth.example.com"},
                          {"GATEHOUSE_ALLOWED_ORIGINS", "https://a.example.com"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_int_equal(config_set_port(&cfg, 41234), GH_OK);
    assert_int_equal(cfg.listen_port, 41234);
    assert_string_equal(cfg.public_url, "https://auth.example.com");
    assert_true(config_origin_allowed(&cfg, "https://auth.example.com"));
    assert_true(config_origin_allowed(&cfg, "https://a.example.com"));
}

/* ---- the settings table ---- */

static const struct config_setting *setting_named(const char *name)
{
    for (size_t i = 0; i < config_setting_count; i++)
        if (!strcmp(config_settings[i].name, name))
            return &config_settings[i];
    fail_msg("no setting %s in the table", name);
    return NULL;
}

/* Writes what `gatehouse config` prints for the setting into out. */
static void printed_value(const struct config *cfg, const struct config_setting *s, char *out,
                          size_t cap)
{
    struct buf b = {0};
    assert_int_equal(config_setting_value(cfg, s, &b), GH_OK);
    assert_non_null(b.data);
    assert_true(strlen(b.data) < cap);
    strcpy(out, b.data);
    buf_free(&b);
}

/* True when the row's member, bounds and words fit its type. */
static bool row_fits_its_type(const struct config_setting *s)
{
    size_t words = 0;
    switch (s->type) {
    case SETTING_INT:
    case SETTING_AUTO_BOOL:
        return s->min <= s->max && s->min >= INT_MIN && s->max <= INT_MAX;
    case SETTING_U32:
    case SETTING_BYTES:
    case SETTING_MIB:
        return s->min <= s->max && s->min >= 0 && (unsigned long)s->max <= UINT32_MAX;
    case SETTING_BOOL:
        return true;
    case SETTING_CHOICE:
        for (const struct setting_choice *c = s->choices; c && c->word; c++)
            words++;
        return words >= 2 && (s->size == sizeof(bool) || s->size == sizeof(int));
    case SETTING_TEXT:
    case SETTING_URL:
    case SETTING_LISTEN:
        return s->size >= 2 && s->field + s->size <= sizeof(struct config);
    case SETTING_ORIGIN_LIST:
    case SETTING_ADDRESS_LIST:
    case SETTING_IP_LIST:
        return s->size >= 2 && s->rows >= 1 && s->max >= 0 && (size_t)s->max <= s->rows;
    }
    return false;
}

static void test_config_table_rows_have_help_and_a_default_that_parses(void **state)
{
    (void)state;
    static struct config scratch;
    assert_true(config_setting_count >= 50);
    for (size_t i = 0; i < config_setting_count; i++) {
        const struct config_setting *s = &config_settings[i];
        char err[512] = "";
        assert_non_null(s->name);
        if (strncmp(s->name, "GATEHOUSE_", 10) && strcmp(s->name, "DATABASE_URL") &&
            strcmp(s->name, "REDIS_URL"))
            fail_msg("%s: a setting of gatehouse starts with GATEHOUSE_", s->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(config_settings[j].name, s->name))
                fail_msg("%s is in the table twice", s->name);
        if (!s->help || !s->help[0] || strpbrk(s->help, "\t\n"))
            fail_msg("%s needs a help text of one line", s->name);
        if (s->derived && (!s->derived[0] || strpbrk(s->derived, "\t\n")))
            fail_msg("%s: the derivation must be one line of text", s->name);
        if (!row_fits_its_type(s))
            fail_msg("%s: its member, bounds or words do not fit its type", s->name);
        memset(&scratch, 0, sizeof scratch);
        if (config_setting_parse(&scratch, s, s->def ? s->def : "", err, sizeof err) != GH_OK)
            fail_msg("%s: the default \"%s\" is refused: %s", s->name, s->def, err);
    }
}

/* A default in the table is what the server uses and what `gatehouse config` prints. */
static void test_config_defaults_print_as_the_table_writes_them(void **state)
{
    (void)state;
    struct config cfg;
    struct setting none[] = {{NULL, NULL}};
    config_load_ok(&cfg, none);
    for (size_t i = 0; i < config_setting_count; i++) {
        const struct config_setting *s = &config_settings[i];
        char value[2048];
        if (!s->def || s->derived)
            continue;
        printed_value(&cfg, s, value, sizeof value);
        if (strcmp(value, s->def))
            fail_msg("%s: default \"%s\" but prints \"%s\"", s->name, s->def, value);
    }
}

/* `gatehouse config`'s output, read back as settings, is the same configuration. */
static void test_config_printed_settings_load_back_the_same(void **state)
{
    (void)state;
    static struct config first, second;
    static char values[2][80][1024];
    static struct setting printed[80];
    struct setting t[] = {{"GATEHOUSE_ENV", "production"},
                          {"GATEHOUSE_LISTEN", "0.0.0.0:8080"},
                          {"GATEHOUSE_PUBLIC_URL", "https://auth.example.com/"},
                          {"GATEHOUSE_ALLOWED_ORIGINS", "https://a.example.com/ http://b:3000"},
                          {"DATABASE_URL", "postgres://db.internal/gatehouse"},
                          {"REDIS_URL", "redis://127.0.0.1:6379/1"},
                          {"GATEHOUSE_MAIL_URL", "smtps://smtp.example.com"},
                          {"GATEHOUSE_COOKIE_SECURE", "yes"},
                          {"GATEHOUSE_BODY_MEMORY_MIB", "3"},
                          {"GATEHOUSE_ARGON2_MEMORY_KIB", "65536"},
                          {"GATEHOUSE_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2"},
                          {"GATEHOUSE_RELAYING_FRONTENDS", "::1"},
                          {"GATEHOUSE_LOG_FORMAT", "text"},
                          {"GATEHOUSE_LOG_REQUESTS", "off"},
                          {"GATEHOUSE_KEY_ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef"},
                          {NULL, NULL}};
    assert_true(config_setting_count < 80);
    config_load_ok(&first, t);
    for (size_t i = 0; i < config_setting_count; i++) {
        printed_value(&first, &config_settings[i], values[0][i], sizeof values[0][i]);
        printed[i] = (struct setting){config_settings[i].name, values[0][i]};
        /* a secret prints masked: it is loaded back from what was set */
        for (size_t k = 0; (config_settings[i].flags & SETTING_SECRET) && t[k].name; k++)
            if (!strcmp(t[k].name, config_settings[i].name))
                printed[i].value = t[k].value;
    }
    printed[config_setting_count] = (struct setting){NULL, NULL};
    config_load_ok(&second, printed);
    for (size_t i = 0; i < config_setting_count; i++) {
        printed_value(&second, &config_settings[i], values[1][i], sizeof values[1][i]);
        assert_string_equal(values[1][i], values[0][i]);
    }
    assert_string_equal(values[0][setting_named("GATEHOUSE_LISTEN") - config_settings],
                        "0.0.0.0:8080");
    assert_string_equal(values[0][setting_named("GATEHOUSE_ALLOWED_ORIGINS") - config_settings],
                        "https://a.example.com,http://b:3000");
}

/* Loads one setting and returns what `gatehouse config` prints for it. */
static const char *printed_alone(const char *name, const char *value)
{
    static char out[CONFIG_URL_MAX + 64];
    struct config cfg;
    struct setting t[] = {{name, value}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    printed_value(&cfg, setting_named(name), out, sizeof out);
    return out;
}

static void test_config_printing_masks_passwords_in_urls(void **state)
{
    (void)state;
    assert_string_equal(printed_alone("DATABASE_URL", "postgres://gh:pw@db:5432/gh"),
                        "postgres://gh:********@db:5432/gh");
    assert_string_equal(printed_alone("DATABASE_URL", "postgres://gh@db/gh"),
                        "postgres://gh@db/gh");
    assert_string_equal(printed_alone("DATABASE_URL", "postgresql://db/gh"), "postgresql://db/gh");
    /* whatever stands between the user's ':' and the last '@' could be the password */
    assert_string_equal(printed_alone("DATABASE_URL", "postgresql://gh:p@ss/w:rd@db/gh"),
                        "postgresql://gh:********@db/gh");
    assert_string_equal(
        printed_alone("DATABASE_URL", "postgres://db/gh?sslmode=require&password=pw&x=1"),
        "postgres://db/gh?sslmode=require&password=********&x=1");
    assert_string_equal(printed_alone("DATABASE_URL", "postgres://db/gh?password="),
                        "postgres://db/gh?password=");
    assert_string_equal(printed_alone("DATABASE_URL", "sqlite:/var/lib/gh@x/gh.db"),
                        "sqlite:/var/lib/gh@x/gh.db");
    assert_string_equal(printed_alone("REDIS_URL", "redis://:pw@127.0.0.1:6379/0"),
                        "redis://:********@127.0.0.1:6379/0");
    assert_string_equal(printed_alone("GATEHOUSE_MAIL_URL", "smtp://apikey:k3y@smtp.example.com"),
                        "smtp://apikey:********@smtp.example.com");
    assert_string_equal(printed_alone("GATEHOUSE_MAIL_URL", "smtps://smtp.example.com:465"),
                        "smtps://smtp.example.com:465");
}

static void test_config_printing_masks_secret_settings(void **state)
{
    (void)state;
    struct config cfg;
    char value[256];
    struct setting t[] = {{"GATEHOUSE_MEDIA_URL", "s3://avatars"},
                          {"GATEHOUSE_S3_ENDPOINT", "https://s3.example.com"},
                          {"GATEHOUSE_S3_ACCESS_KEY", "AKIAEXAMPLE"},
                          {"GATEHOUSE_S3_SECRET_KEY", "wJalrXUtnFEMI"},
                          {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_true(setting_named("GATEHOUSE_S3_SECRET_KEY")->flags & SETTING_SECRET);
    for (size_t i = 0; i < config_setting_count; i++) {
        printed_value(&cfg, &config_settings[i], value, sizeof value);
        assert_null(strstr(value, "wJalrXUtnFEMI"));
    }
    printed_value(&cfg, setting_named("GATEHOUSE_S3_SECRET_KEY"), value, sizeof value);
    assert_string_equal(value, CONFIG_MASK);
    printed_value(&cfg, setting_named("GATEHOUSE_S3_ACCESS_KEY"), value, sizeof value);
    assert_string_equal(value, "AKIAEXAMPLE");
    /* an unset secret prints as unset */
    assert_string_equal(printed_alone("GATEHOUSE_S3_SECRET_KEY", ""), "");
}

/* Loads a single setting that must be refused with exactly the message want. */
static void expect_message(const char *name, const char *value, const char *want)
{
    struct config cfg;
    char err[512] = "";
    struct setting t[] = {{name, value}, {NULL, NULL}};
    assert_int_equal(config_load(&cfg, setting_lookup, t, err, sizeof err), GH_ERR_CONFIG);
    assert_string_equal(err, want);
}

static void test_config_refusals_say_what_each_type_takes(void **state)
{
    (void)state;
    expect_message("GATEHOUSE_SESSION_TTL", "59",
                   "GATEHOUSE_SESSION_TTL must be a whole number from 60 to 31536000.");
    expect_message("GATEHOUSE_ARGON2_ITERATIONS", "x",
                   "GATEHOUSE_ARGON2_ITERATIONS must be a whole number from 1 to 100.");
    expect_message("GATEHOUSE_BODY_MEMORY_MIB", "0",
                   "GATEHOUSE_BODY_MEMORY_MIB must be a whole number from 1 to 1048576.");
    expect_message("GATEHOUSE_MAX_JSON_BODY", "16777217",
                   "GATEHOUSE_MAX_JSON_BODY must be a whole number from 1024 to 16777216.");
    expect_message("GATEHOUSE_LOG_REQUESTS", "maybe",
                   "GATEHOUSE_LOG_REQUESTS must be true or false.");
    expect_message("GATEHOUSE_COOKIE_SECURE", "AUTO",
                   "GATEHOUSE_COOKIE_SECURE must be true or false.");
    expect_message("GATEHOUSE_ENV", "test-ing", "GATEHOUSE_ENV must be development or production.");
    expect_message("GATEHOUSE_LOG_FORMAT", "xml",
                   "GATEHOUSE_LOG_FORMAT must be auto, json or text.");
    expect_message("GATEHOUSE_LISTEN", "5000", "GATEHOUSE_LISTEN must look like 127.0.0.1:5000.");
    expect_message("GATEHOUSE_ALLOWED_ORIGINS", "a.example.com",
                   "GATEHOUSE_ALLOWED_ORIGINS must list http:// or https:// origins.");
    expect_message("GATEHOUSE_RELAYING_FRONTENDS", "frontend",
                   "GATEHOUSE_RELAYING_FRONTENDS must list IP addresses.");
    expect_message("GATEHOUSE_S3_REGION",
                   "a-region-name-that-is-much-longer-than-sixty-four-bytes-of-its-field",
                   "GATEHOUSE_S3_REGION is too long.");
}

/* "test" is an alias of development: accepted, printed as development. */
static void test_config_env_test_is_development(void **state)
{
    (void)state;
    struct config cfg;
    struct setting t[] = {{"GATEHOUSE_ENV", "test"}, {NULL, NULL}};
    config_load_ok(&cfg, t);
    assert_false(cfg.production);
    assert_string_equal(printed_alone("GATEHOUSE_ENV", "test"), "development");
}

/* ---- config_load_env ---- */

static const char *const env_names[] = {
    "GATEHOUSE_ENV",          "GATEHOUSE_LISTEN",          "GATEHOUSE_PUBLIC_URL",
    "GATEHOUSE_FRONTEND_URL", "GATEHOUSE_COOKIE_NAME",     "GATEHOUSE_PASSWORD_MIN_LENGTH",
    "GATEHOUSE_MAIL_FROM",    "GATEHOUSE_ALLOWED_ORIGINS", "GATEHOUSE_DATA_DIR",
    "DATABASE_URL",           "GATEHOUSE_MAIL_URL",        "GATEHOUSE_LOG_FORMAT",
};

static char settings_path[64];

static int setup_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
    strcpy(settings_path, "/tmp/gh-config-test-XXXXXX");
    int fd = mkstemp(settings_path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
    unlink(settings_path);
    return 0;
}

static void write_settings(const char *text)
{
    FILE *f = fopen(settings_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_config_file_is_read(void **state)
{
    (void)state;
    write_settings("# gatehouse settings\n"
                   "\n"
                   "GATEHOUSE_LISTEN=127.0.0.1:6001\n"
                   "  GATEHOUSE_COOKIE_NAME = gh_sid  \n"
                   "GATEHOUSE_MAIL_FROM=\"Gatehouse <noreply@example.com>\"\n"
                   "GATEHOUSE_PUBLIC_URL='https://auth.example.com/'\r\n"
                   "   # indented comment\n"
                   "GATEHOUSE_PASSWORD_MIN_LENGTH=10\n");
    struct config cfg;
    char err[512] = "";
    gh_status st = config_load_env(&cfg, settings_path, err, sizeof err);
    if (st != GH_OK)
        fail_msg("config_load_env: %s", err);
    assert_int_equal(cfg.listen_port, 6001);
    assert_string_equal(cfg.cookie_name, "gh_sid");
    assert_string_equal(cfg.mail_from, "Gatehouse <noreply@example.com>");
    assert_string_equal(cfg.public_url, "https://auth.example.com");
    assert_int_equal(cfg.password_min_length, 10);
}

static void test_config_environment_overrides_file(void **state)
{
    (void)state;
    write_settings("GATEHOUSE_PASSWORD_MIN_LENGTH=10\nGATEHOUSE_COOKIE_NAME=from_file\n");
    setenv("GATEHOUSE_PASSWORD_MIN_LENGTH", "14", 1);
    struct config cfg;
    char err[512] = "";
    gh_status st = config_load_env(&cfg, settings_path, err, sizeof err);
    unsetenv("GATEHOUSE_PASSWORD_MIN_LENGTH");
    if (st != GH_OK)
        fail_msg("config_load_env: %s", err);
    assert_int_equal(cfg.password_min_length, 14);
    assert_string_equal(cfg.cookie_name, "from_file");
}

static void test_config_file_bad_value_names_variable(void **state)
{
    (void)state;
    write_settings("GATEHOUSE_PASSWORD_MIN_LENGTH=7\n");
    struct config cfg;
    char err[512] = "";
    assert_int_equal(config_load_env(&cfg, settings_path, err, sizeof err), GH_ERR_CONFIG);
    assert_non_null(strstr(err, "GATEHOUSE_PASSWORD_MIN_LENGTH"));
}

static void test_config_file_line_without_equals_refused(void **state)
{
    (void)state;
    write_settings("GATEHOUSE_LISTEN\n");
    struct config cfg;
    char err[512] = "";
    assert_int_equal(config_load_env(&cfg, settings_path, err, sizeof err), GH_ERR_CONFIG);
    assert_non_null(strstr(err, settings_path));
}

static void test_config_missing_file_refused(void **state)
{
    (void)state;
    struct config cfg;
    char err[512] = "";
    assert_int_equal(config_load_env(&cfg, "/nonexistent/gatehouse.conf", err, sizeof err),
                     GH_ERR_CONFIG);
    assert_non_null(strstr(err, "/nonexistent/gatehouse.conf"));
}

static void test_config_file_with_only_comments_is_fine(void **state)
{
    (void)state;
    write_settings("# nothing set here\n\n");
    struct config cfg;
    char err[512] = "";
    gh_status st = config_load_env(&cfg, settings_path, err, sizeof err);
    if (st != GH_OK)
        fail_msg("config_load_env: %s", err);
    assert_int_equal(cfg.listen_port, 5000);
}

static void test_config_empty_file_is_fine(void **state)
{
    (void)state;
    write_settings("");
    struct config cfg;
    char err[512] = "";
    gh_status st = config_load_env(&cfg, settings_path, err, sizeof err);
    if (st != GH_OK)
        fail_msg("an empty settings file was refused: %s", err);
    assert_int_equal(cfg.listen_port, 5000);
}

static void test_config_load_env_without_file(void **state)
{
    (void)state;
    setenv("GATEHOUSE_LISTEN", "127.0.0.1:7007", 1);
    struct config cfg;
    char err[512] = "";
    gh_status st = config_load_env(&cfg, NULL, err, sizeof err);
    unsetenv("GATEHOUSE_LISTEN");
    if (st != GH_OK)
        fail_msg("config_load_env: %s", err);
    assert_int_equal(cfg.listen_port, 7007);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_empty_values_keep_defaults),
        cmocka_unit_test(test_config_reads_values),
        cmocka_unit_test(test_config_failed_login_limits),
        cmocka_unit_test(test_config_relaying_frontends),
        cmocka_unit_test(test_config_register_reveals_existing),
        cmocka_unit_test(test_config_rejects_bad_listen_port),
        cmocka_unit_test(test_config_rejects_password_min_length_7),
        cmocka_unit_test(test_config_rejects_non_numbers),
        cmocka_unit_test(test_config_rejects_unknown_env),
        cmocka_unit_test(test_config_rejects_bad_log_format),
        cmocka_unit_test(test_config_rejects_bad_booleans),
        cmocka_unit_test(test_config_rejects_non_http_public_url),
        cmocka_unit_test(test_config_accepts_postgres_database_url),
        cmocka_unit_test(test_config_rejects_unknown_database_scheme),
        cmocka_unit_test(test_config_rejects_bad_mail_url),
        cmocka_unit_test(test_config_rejects_bad_cookie_name),
        cmocka_unit_test(test_config_rejects_bad_allowed_origins),
        cmocka_unit_test(test_config_rejects_too_long_value),
        cmocka_unit_test(test_config_production_refuses_http_public_url),
        cmocka_unit_test(test_config_production_refuses_derived_public_url),
        cmocka_unit_test(test_config_production_refuses_file_mail),
        cmocka_unit_test(test_config_production_refuses_insecure_cookie),
        cmocka_unit_test(test_config_production_accepts_https_and_smtp),
        cmocka_unit_test(test_config_strips_trailing_slashes),
        cmocka_unit_test(test_config_frontend_defaults_to_public),
        cmocka_unit_test(test_config_origin_allowed_public_and_frontend),
        cmocka_unit_test(test_config_origin_allowed_is_case_insensitive),
        cmocka_unit_test(test_config_origin_allowed_extra_origins),
        cmocka_unit_test(test_config_allowed_origins_limit),
        cmocka_unit_test(test_config_origin_rejects_others),
        cmocka_unit_test(test_config_set_port_rederives_derived_public_url),
        cmocka_unit_test(test_config_set_port_keeps_explicit_public_url),
        cmocka_unit_test(test_config_table_rows_have_help_and_a_default_that_parses),
        cmocka_unit_test(test_config_defaults_print_as_the_table_writes_them),
        cmocka_unit_test(test_config_printed_settings_load_back_the_same),
        cmocka_unit_test(test_config_printing_masks_passwords_in_urls),
        cmocka_unit_test(test_config_printing_masks_secret_settings),
        cmocka_unit_test(test_config_refusals_say_what_each_type_takes),
        cmocka_unit_test(test_config_env_test_is_development),
        cmocka_unit_test_setup_teardown(test_config_file_is_read, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_config_environment_overrides_file, setup_env,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(test_config_file_bad_value_names_variable, setup_env,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(test_config_file_line_without_equals_refused, setup_env,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(test_config_missing_file_refused, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_config_file_with_only_comments_is_fine, setup_env,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(test_config_empty_file_is_fine, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_config_load_env_without_file, setup_env, teardown_env),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
