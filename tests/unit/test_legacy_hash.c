/* Hash strings by scheme (core/legacy_hash.c), checked against hashes made by their real
 * producers, not by gatehouse: Django 3.2's hashers (make_password), argon2-cffi 21.1 and
 * passlib 1.7 (Debian bookworm's python3-django, python3-argon2, python3-passlib), all of the
 * password PW. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/legacy_hash.h"
#include "core/password.h"

#define PW "Vx7#kq2Lm9pZ \xc3\xbcn\xc3\xaf" /* "Vx7#kq2Lm9pZ ünï" in UTF-8 */

static const struct {
    const char *producer;
    const char *hash;
    enum hash_scheme scheme;
    uint32_t iterations, memory_kib, parallelism;
} made[] = {
    {"django pbkdf2_sha256 (260000, its default)",
     "pbkdf2_sha256$260000$zSqAM6pfhSsoX0e3yBG2Zz$oES8LTmjAtkTCrmr1nfQ6rFT1cCwgFk+v6e2SiPYG9s=",
     HASH_PBKDF2_SHA256, 260000, 0, 0},
    {"django pbkdf2_sha256 (1000)",
     "pbkdf2_sha256$1000$fCQAVUGiO6xkEkBmjESFMD$HBwUFYSQEYeHdQKbAdkoxOoMANWSczGRHWViRdmp6Gg=",
     HASH_PBKDF2_SHA256, 1000, 0, 0},
    {"django pbkdf2_sha1 (1200)",
     "pbkdf2_sha1$1200$QCSlhK1VMaSvL4mC00LEiu$d0YCJ7oqdPV5bZrkdCxcKg6G0Po=", HASH_PBKDF2_SHA1, 1200,
     0, 0},
    {"django argon2 (its defaults, p=8)",
     "argon2$argon2id$v=19$m=102400,t=2,p=8$OWVZTlJHWGFSdjJIdWV1QW5jUWMxUw$kdc9lj3SI+rU4uIxd2mbww",
     HASH_DJANGO_ARGON2, 2, 102400, 8},
    {"argon2-cffi argon2id p=4",
     "$argon2id$v=19$m=8192,t=2,p=4$0v64I7pfS36XSh0pUmkndg$yD83PzEtgyAb3cI+ogUwWg", HASH_ARGON2, 2,
     8192, 4},
    {"argon2-cffi argon2id p=1, 16-byte digest",
     "$argon2id$v=19$m=8192,t=1,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA", HASH_ARGON2, 1,
     8192, 1},
    {"argon2-cffi argon2i",
     "$argon2i$v=19$m=8192,t=2,p=2$6oqfiVUZAjpTmXcsW4eXcg$ZuEDx3cGAGw4xxZ33Win6g", HASH_ARGON2, 2,
     8192, 2},
    {"passlib django_pbkdf2_sha256 (2000)",
     "pbkdf2_sha256$2000$ski9ktgRJG5c$qI46X2icEyWLbbdh2tzyec/S/EWXdORSuvOKb/ZhIWE=",
     HASH_PBKDF2_SHA256, 2000, 0, 0},
    {"passlib django_pbkdf2_sha1 (3000)",
     "pbkdf2_sha1$3000$cCXJI0AA6qMP$VpVXACa1xMhWstfzPJ9NPlmfY2Y=", HASH_PBKDF2_SHA1, 3000, 0, 0},
    {"passlib argon2 p=3",
     "$argon2id$v=19$m=8192,t=2,p=3$aA3hvFdKaS3F2HvPeQ+BkA$ah0eAXQ8P9QqdhIsjnGAqA", HASH_ARGON2, 2,
     8192, 3},
};
#define MADE (sizeof made / sizeof made[0])

static void test_hashes_of_other_producers_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < MADE; i++) {
        struct hash_params p;
        assert_int_equal(hash_parse(made[i].hash, NULL, &p), HASH_VERIFIABLE);
        assert_int_equal(p.scheme, made[i].scheme);
        assert_int_equal(p.iterations, made[i].iterations);
        assert_int_equal(p.memory_kib, made[i].memory_kib);
        if (made[i].parallelism)
            assert_int_equal(p.parallelism, made[i].parallelism);
        if (password_verify(PW, made[i].hash) != GH_OK)
            fail_msg("%s does not verify", made[i].producer);
    }
}

static void test_wrong_passwords_do_not_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < MADE; i++) {
        assert_int_equal(password_verify("Vx7#kq2Lm9pZ \xc3\xbcn", made[i].hash),
                         GH_ERR_INVALID_CREDENTIALS);
        assert_int_equal(password_verify("", made[i].hash), GH_ERR_INVALID_CREDENTIALS);
    }
}

/* A changed byte of the digest (still valid base64 of the right length) fails. */
static void test_a_changed_digest_does_not_verify(void **state)
{
    (void)state;
    char h[200];
    snprintf(
        h, sizeof h, "%s",
        "pbkdf2_sha256$1000$fCQAVUGiO6xkEkBmjESFMD$HBwUFYSQEYeHdQKcAdkoxOoMANWSczGRHWViRdmp6Gg=");
    struct hash_params p;
    assert_int_equal(hash_parse(h, NULL, &p), HASH_VERIFIABLE);
    assert_int_equal(password_verify(PW, h), GH_ERR_INVALID_CREDENTIALS);
}

static void test_gatehouse_own_hashes_still_verify(void **state)
{
    (void)state;
    char hash[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash(PW, 1, 8192, hash, sizeof hash), GH_OK);
    struct hash_params p;
    assert_int_equal(hash_parse(hash, NULL, &p), HASH_VERIFIABLE);
    assert_int_equal(p.scheme, HASH_ARGON2);
    assert_int_equal(password_verify(PW, hash), GH_OK);
    assert_int_equal(password_verify("other password", hash), GH_ERR_INVALID_CREDENTIALS);
}

static void test_unusable_and_empty_hashes_refuse_every_password(void **state)
{
    (void)state;
    const char *why = NULL;
    const char *unusable[] = {"!", "!0aBcD9xyzQwErTyUiOpAsDfGhJkLzXcVbNm12345", ""};
    for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
        struct hash_params p;
        assert_int_equal(hash_parse(unusable[i], NULL, &p), HASH_NO_PASSWORD);
        assert_int_equal(password_verify_stored(NULL, "", unusable[i], &why),
                         GH_ERR_INVALID_CREDENTIALS);
        assert_string_equal(why, "unusable password");
    }
    assert_int_equal(hash_scheme_of("!x"), HASH_UNUSABLE);
}

static void test_parameters_beyond_the_bounds_need_a_reset(void **state)
{
    (void)state;
    const char *beyond[] = {
        "pbkdf2_sha256$999$fCQAVUGiO6xkEkBmjESFMD$HBwUFYSQEYeHdQKbAdkoxOoMANWSczGRHWViRdmp6Gg=",
        "pbkdf2_sha256$2000001$fCQAVUGiO6xkEkBmjESFMD$HBwUFYSQEYeHdQKbAdkoxOoMANWSczGRHWViRdmp6Gg=",
        "pbkdf2_sha1$10$QCSlhK1VMaSvL4mC00LEiu$d0YCJ7oqdPV5bZrkdCxcKg6G0Po=",
        "$argon2id$v=19$m=2097152,t=1,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=19$m=8192,t=11,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=19$m=8192,t=1,p=17$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=19$m=524288,t=3,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
    };
    for (size_t i = 0; i < sizeof beyond / sizeof beyond[0]; i++) {
        struct hash_params p;
        const char *why = NULL;
        if (hash_parse(beyond[i], NULL, &p) != HASH_OUT_OF_BOUNDS)
            fail_msg("not out of bounds: %s", beyond[i]);
        assert_int_equal(password_verify_stored(NULL, PW, beyond[i], &why),
                         GH_ERR_INVALID_CREDENTIALS);
        assert_string_equal(why, "hash parameters out of bounds");
    }
}

/* The configured parameters widen the bounds: gatehouse's own hashes always verify. */
static void test_configured_parameters_widen_the_bounds(void **state)
{
    (void)state;
    struct config cfg = {.argon2_memory_kib = 2 * 1024 * 1024, .argon2_iterations = 20};
    struct hash_bounds b;
    password_bounds_for(&cfg, &b);
    struct hash_params p;
    assert_int_equal(
        hash_parse(
            "$argon2id$v=19$m=2097152,t=20,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA", &b,
            &p),
        HASH_VERIFIABLE);
    password_bounds_for(NULL, &b);
    assert_int_equal(b.pbkdf2_max_iterations, hash_default_bounds.pbkdf2_max_iterations);
}

static void test_malformed_and_unknown_hashes(void **state)
{
    (void)state;
    const char *malformed[] = {
        "pbkdf2_sha256$",
        "pbkdf2_sha256$1000",
        "pbkdf2_sha256$1000$salt",
        "pbkdf2_sha256$01000$fCQAVUGiO6xkEkBmjESFMD$HBwUFYSQEYeHdQKbAdkoxOoMANWSczGRHWViRdmp6Gg=",
        "pbkdf2_sha256$-1000$fCQAVUGiO6xkEkBmjESFMD$HBwUFYSQEYeHdQKbAdkoxOoMANWSczGRHWViRdmp6Gg=",
        "pbkdf2_sha256$99999999999$x$HBwUFYSQEYeHdQKbAdkoxOoMANWSczGRHWViRdmp6Gg=",
        "pbkdf2_sha256$1000$$HBwUFYSQEYeHdQKbAdkoxOoMANWSczGRHWViRdmp6Gg=",
        "pbkdf2_sha256$1000$fCQAVUGiO6xkEkBmjESFMD$HBwUFYSQEYeHdQKbAdkoxOoMANWSczGRHWViRdmp6Gg",
        "pbkdf2_sha256$1000$fCQAVUGiO6xkEkBmjESFMD$d0YCJ7oqdPV5bZrkdCxcKg6G0Po=",
        "pbkdf2_sha1$1200$QCSlhK1VMaSvL4mC00LEiu$d0YCJ7oqdPV5bZrkdCxcKg6G0Po=$",
        "$argon2id$v=19$m=8192,t=1,p=1$IXajssAWz7QNifcfpzUXEw$",
        "$argon2id$v=19$m=8192,t=1,p=1$$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=19$m=8192,t=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=18$m=8192,t=1,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=19$m=8192,t=0,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=19$m=8,t=1,p=2$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=19$m=8192,t=1,p=1$IXajss$Y2M16jRpvL3/cnxnnijqRA",
        "$argon2id$v=19$m=8192,t=1,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3",
        "$argon2x$v=19$m=8192,t=1,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA",
        "argon2$argon2id$v=19$m=8192,t=1,p=1$IXajssAWz7QNifcfpzUXEw$Y2M16jRpvL3/cnxnnijqRA=",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        struct hash_params p;
        if (hash_parse(malformed[i], NULL, &p) != HASH_MALFORMED)
            fail_msg("not malformed: %s", malformed[i]);
        assert_int_equal(password_verify(PW, malformed[i]), GH_ERR_INVALID_CREDENTIALS);
    }
    const char *unknown[] = {"bcrypt_sha256$$2b$12$abc", "md5$salt$hash", "not a hash",
                             "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        struct hash_params p;
        const char *why = NULL;
        assert_int_equal(hash_parse(unknown[i], NULL, &p), HASH_UNKNOWN_SCHEME);
        assert_int_equal(password_verify_stored(NULL, PW, unknown[i], &why),
                         GH_ERR_INVALID_CREDENTIALS);
        assert_string_equal(why, "unknown hash scheme");
    }
}

static void test_scheme_names_and_costs(void **state)
{
    (void)state;
    assert_string_equal(hash_scheme_name(HASH_PBKDF2_SHA256), "pbkdf2_sha256");
    assert_string_equal(hash_scheme_name(HASH_DJANGO_ARGON2), "django_argon2");
    assert_string_equal(hash_scheme_name(HASH_ARGON2), "argon2");
    struct hash_params a, b;
    assert_int_equal(hash_parse(made[0].hash, NULL, &a), HASH_VERIFIABLE);
    assert_int_equal(hash_parse(made[1].hash, NULL, &b), HASH_VERIFIABLE);
    assert_true(hash_cost(&a) > hash_cost(&b));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hashes_of_other_producers_verify),
        cmocka_unit_test(test_wrong_passwords_do_not_verify),
        cmocka_unit_test(test_a_changed_digest_does_not_verify),
        cmocka_unit_test(test_gatehouse_own_hashes_still_verify),
        cmocka_unit_test(test_unusable_and_empty_hashes_refuse_every_password),
        cmocka_unit_test(test_parameters_beyond_the_bounds_need_a_reset),
        cmocka_unit_test(test_configured_parameters_widen_the_bounds),
        cmocka_unit_test(test_malformed_and_unknown_hashes),
        cmocka_unit_test(test_scheme_names_and_costs),
    };
    return cmocka_run_group_tests_name("legacy hashes", tests, NULL, NULL);
}
