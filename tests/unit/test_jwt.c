/* JWT signing and strict verification (core/jwt.h), for both algorithms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/jwt.h"

static struct jwt_key keys[2]; /* [JWT_ES256], [JWT_EDDSA] */

static const struct jwt_key *lookup(void *ctx, const char *kid)
{
    const struct jwt_key *k = ctx;
    return !strcmp(k->kid, kid) ? k : NULL;
}

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0 || jwt_key_generate(JWT_ES256, &keys[JWT_ES256]) != GH_OK ||
        jwt_key_generate(JWT_EDDSA, &keys[JWT_EDDSA]) != GH_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jwt_key_free(&keys[JWT_ES256]);
    jwt_key_free(&keys[JWT_EDDSA]);
    return 0;
}

static char *sign(enum jwt_alg alg, const char *sub)
{
    json_t *claims = json_pack("{s:s, s:i}", "sub", sub, "exp", 2000000000);
    char *token = NULL;
    assert_int_equal(jwt_sign(&keys[alg], claims, &token), GH_OK);
    json_decref(claims);
    return token;
}

/* A token with the given header and payload (JSON texts) and the signature of base. */
static char *forge(const char *header, const char *payload, const char *signature)
{
    char h[512], p[512];
    sodium_bin2base64(h, sizeof h, (const unsigned char *)header, strlen(header),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(p, sizeof p, (const unsigned char *)payload, strlen(payload),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *t = malloc(strlen(h) + strlen(p) + strlen(signature) + 3);
    sprintf(t, "%s.%s.%s", h, p, signature);
    return t;
}

static void test_jwt_signed_token_verifies_with_both_algorithms(void **state)
{
    (void)state;
    for (int alg = JWT_ES256; alg <= JWT_EDDSA; alg++) {
        char *token = sign((enum jwt_alg)alg, "user-1");
        json_t *claims = NULL;
        assert_int_equal(jwt_verify(token, (enum jwt_alg)alg, lookup, &keys[alg], &claims), GH_OK);
        assert_string_equal(json_string_value(json_object_get(claims, "sub")), "user-1");
        json_decref(claims);
        free(token);
    }
}

static void test_jwt_header_names_alg_typ_and_kid(void **state)
{
    (void)state;
    char *token = sign(JWT_EDDSA, "u");
    unsigned char bin[256];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(bin, sizeof bin - 1, token, strcspn(token, "."), NULL, &n,
                                       NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    bin[n] = '\0';
    json_t *h = json_loads((const char *)bin, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "EdDSA");
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
    assert_string_equal(json_string_value(json_object_get(h, "kid")), keys[JWT_EDDSA].kid);
    json_decref(h);
    free(token);
}

static void test_jwt_other_algorithm_than_configured_is_refused(void **state)
{
    (void)state;
    json_t *claims = NULL;
    char *es = sign(JWT_ES256, "u");
    /* an ES256 token is refused when EdDSA is configured, even with the right key around */
    assert_int_equal(jwt_verify(es, JWT_EDDSA, lookup, &keys[JWT_ES256], &claims),
                     GH_ERR_INVALID_TOKEN);
    free(es);
}

static void test_jwt_alg_none_and_hmac_are_refused(void **state)
{
    (void)state;
    static const char *const algs[] = {"none", "HS256", "RS256", "es256", "ES384"};
    json_t *claims = NULL;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char header[160];
        snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", algs[i],
                 keys[JWT_ES256].kid);
        char *t = forge(header, "{\"sub\":\"admin\"}", "");
        assert_int_equal(jwt_verify(t, JWT_ES256, lookup, &keys[JWT_ES256], &claims),
                         GH_ERR_INVALID_TOKEN);
        free(t);
    }
}

static void test_jwt_tampered_payload_or_signature_is_refused(void **state)
{
    (void)state;
    json_t *claims = NULL;
    for (int alg = JWT_ES256; alg <= JWT_EDDSA; alg++) {
        char *token = sign((enum jwt_alg)alg, "user-1");
        char *dot = strchr(token, '.');
        dot[2] = dot[2] == 'A' ? 'B' : 'A'; /* one payload character */
        assert_int_equal(jwt_verify(token, (enum jwt_alg)alg, lookup, &keys[alg], &claims),
                         GH_ERR_INVALID_TOKEN);
        free(token);
        token = sign((enum jwt_alg)alg, "user-1");
        char *last = strrchr(token, '.');
        last[5] = last[5] == 'A' ? 'B' : 'A'; /* one signature character */
        assert_int_equal(jwt_verify(token, (enum jwt_alg)alg, lookup, &keys[alg], &claims),
                         GH_ERR_INVALID_TOKEN);
        free(token);
    }
}

static void test_jwt_unknown_kid_or_other_key_is_refused(void **state)
{
    (void)state;
    struct jwt_key other;
    json_t *claims = NULL;
    assert_int_equal(jwt_key_generate(JWT_ES256, &other), GH_OK);
    char *token = sign(JWT_ES256, "u");
    /* the kid is not the other key's */
    assert_int_equal(jwt_verify(token, JWT_ES256, lookup, &other, &claims), GH_ERR_INVALID_TOKEN);
    /* the other key under the same kid: the signature does not match */
    strcpy(other.kid, keys[JWT_ES256].kid);
    assert_int_equal(jwt_verify(token, JWT_ES256, lookup, &other, &claims), GH_ERR_INVALID_TOKEN);
    jwt_key_free(&other);
    free(token);
}

static void test_jwt_malformed_tokens_are_refused(void **state)
{
    (void)state;
    json_t *claims = NULL;
    static const char *const bad[] = {
        "", ".", "..", "...", "a.b.c", "a.b", "a.b.c.d", "eyJhbGciOiJFUzI1NiJ9..", "!!.!!.!!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jwt_verify(bad[i], JWT_ES256, lookup, &keys[JWT_ES256], &claims),
                         GH_ERR_INVALID_TOKEN);
    assert_int_equal(jwt_verify(NULL, JWT_ES256, lookup, &keys[JWT_ES256], &claims),
                     GH_ERR_INVALID_TOKEN);
    char *huge = malloc(JWT_TOKEN_MAX + 2);
    memset(huge, 'a', JWT_TOKEN_MAX + 1);
    huge[JWT_TOKEN_MAX + 1] = '\0';
    huge[10] = '.';
    huge[20] = '.';
    assert_int_equal(jwt_verify(huge, JWT_ES256, lookup, &keys[JWT_ES256], &claims),
                     GH_ERR_INVALID_TOKEN);
    free(huge);
}

/* A token with header and payload signed by the Ed25519 key, whatever the header says. */
static char *sign_as_is(const char *header, const char *payload)
{
    char *t = forge(header, payload, "");
    size_t signed_len = strlen(t) - 1; /* without the final '.' */
    unsigned char sig[64];
    size_t sig_len = sizeof sig;
    char sig_text[100];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, keys[JWT_EDDSA].pkey), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *)t, signed_len), 1);
    EVP_MD_CTX_free(ctx);
    sodium_bin2base64(sig_text, sizeof sig_text, sig, sig_len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    t = realloc(t, strlen(t) + strlen(sig_text) + 1);
    strcat(t, sig_text);
    return t;
}

static void test_jwt_wrong_typ_or_crit_is_refused(void **state)
{
    (void)state;
    json_t *claims = NULL;
    char header[200];
    /* the header as gatehouse writes it verifies: the helper signs correctly */
    snprintf(header, sizeof header, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
             keys[JWT_EDDSA].kid);
    char *good = sign_as_is(header, "{\"sub\":\"u\"}");
    assert_int_equal(jwt_verify(good, JWT_EDDSA, lookup, &keys[JWT_EDDSA], &claims), GH_OK);
    json_decref(claims);
    free(good);
    /* validly signed, but with a header gatehouse never writes */
    static const char *const headers[] = {
        "{\"alg\":\"EdDSA\",\"typ\":\"JOSE+JSON\",\"kid\":\"%s\"}",
        "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"EdDSA\",\"typ\":7,\"kid\":\"%s\"}",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        snprintf(header, sizeof header, headers[i], keys[JWT_EDDSA].kid);
        char *t = sign_as_is(header, "{\"sub\":\"u\"}");
        assert_int_equal(jwt_verify(t, JWT_EDDSA, lookup, &keys[JWT_EDDSA], &claims),
                         GH_ERR_INVALID_TOKEN);
        free(t);
    }
    /* a payload that is not a JSON object, validly signed */
    snprintf(header, sizeof header, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
             keys[JWT_EDDSA].kid);
    char *t = sign_as_is(header, "[1,2]");
    assert_int_equal(jwt_verify(t, JWT_EDDSA, lookup, &keys[JWT_EDDSA], &claims),
                     GH_ERR_INVALID_TOKEN);
    free(t);
}

static void test_jwt_key_survives_export_and_import(void **state)
{
    (void)state;
    for (int alg = JWT_ES256; alg <= JWT_EDDSA; alg++) {
        unsigned char *der = NULL;
        size_t len = 0;
        struct jwt_key copy;
        json_t *claims = NULL;
        assert_int_equal(jwt_key_export(&keys[alg], &der, &len), GH_OK);
        assert_int_equal(jwt_key_import(keys[alg].kid, (enum jwt_alg)alg, der, len, &copy), GH_OK);
        free(der);
        char *token = sign((enum jwt_alg)alg, "u");
        assert_int_equal(jwt_verify(token, (enum jwt_alg)alg, lookup, &copy, &claims), GH_OK);
        json_decref(claims);
        free(token);
        /* the wrong algorithm for the key material is refused */
        assert_int_equal(jwt_key_export(&keys[alg], &der, &len), GH_OK);
        assert_int_equal(jwt_key_import("k", alg == JWT_ES256 ? JWT_EDDSA : JWT_ES256, der, len,
                                        &(struct jwt_key){0}),
                         GH_INTERNAL);
        free(der);
        jwt_key_free(&copy);
    }
}

static void test_jwt_public_jwk_has_the_members_verifiers_need(void **state)
{
    (void)state;
    json_t *jwk = NULL;
    assert_int_equal(jwt_key_public_jwk(&keys[JWT_ES256], &jwk), GH_OK);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
    assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
    assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
    assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))), 43);
    assert_null(json_object_get(jwk, "d"));
    json_decref(jwk);
    assert_int_equal(jwt_key_public_jwk(&keys[JWT_EDDSA], &jwk), GH_OK);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "OKP");
    assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "Ed25519");
    assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "EdDSA");
    assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");
    assert_null(json_object_get(jwk, "d"));
    json_decref(jwk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt_signed_token_verifies_with_both_algorithms),
        cmocka_unit_test(test_jwt_header_names_alg_typ_and_kid),
        cmocka_unit_test(test_jwt_other_algorithm_than_configured_is_refused),
        cmocka_unit_test(test_jwt_alg_none_and_hmac_are_refused),
        cmocka_unit_test(test_jwt_tampered_payload_or_signature_is_refused),
        cmocka_unit_test(test_jwt_unknown_kid_or_other_key_is_refused),
        cmocka_unit_test(test_jwt_malformed_tokens_are_refused),
        cmocka_unit_test(test_jwt_wrong_typ_or_crit_is_refused),
        cmocka_unit_test(test_jwt_key_survives_export_and_import),
        cmocka_unit_test(test_jwt_public_jwk_has_the_members_verifiers_need),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
