/* libFuzzer target for the token parsers: jwt_verify (core/jwt.c), which reads every Bearer
 * header, /api/token/verify/ body and introspected token, with real keys of both algorithms,
 * and url_form_decode (util/url.c), which decodes the HTTP Basic credentials of OAuth clients.
 *
 * The first byte of the input picks what the rest is: its value % 4 the mode, its value / 4 % 2
 * the algorithm of the verifier (ES256, EdDSA), so '0' '1' '2' '3' are ES256 and '4' '5' '6'
 * EdDSA:
 *   0  a compact token as a client sends it;
 *   1  header JSON '\n' payload JSON '\n' signature bytes, each base64url-encoded and joined
 *      with dots, so mutations shape the JSON instead of breaking the base64;
 *   2  header JSON '\n' payload JSON, encoded the same way and signed with the verifier's real
 *      key, so the signature is right and everything behind it is reached; whether the token
 *      is accepted is checked against an independent statement of the rules, and the payload
 *      is also signed with jwt_sign and must verify to the same claims;
 *   3  url_form_decode of the rest into outputs of several sizes, checked against a reference
 *      decoder.
 * Any token jwt_verify accepts must name the verifier's algorithm and a key of it, and give an
 * object of claims. The keys are fixed (below) so that the seeds, signed with them by
 * fuzz/make-token-seeds.js, carry valid signatures. */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jwt.h"
#include "util/url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* The harness's keys: a P-256 key (SEC1 DER) and an Ed25519 key (PKCS #8 DER), base64. The
 * same keys are in fuzz/make-token-seeds.js. */
static const char ES256_DER[] =
    "MHcCAQEEIDpifT2f8n5CjhHfiElwqpVUupNLy2kahJqLCG+Fs2dXoAoGCCqGSM49AwEHoUQDQgAEJP/"
    "ZtNAZKm7DwdPnb6Kc"
    "8OZA8vRzU2L0sJdLaez2urw2rFtfoQVkfSMmsdq9qdwWsfDkDZrLxK6koI2RsiE/wQ==";
static const char EDDSA_DER[] = "MC4CAQAwBQYDK2VwBCIEICRXYPpusOSJEzlC+T+m7UMogY20pQsc2//PaCMsc1Zk";

static struct jwt_key keys[2]; /* [JWT_ES256], [JWT_EDDSA] */
static bool show;              /* FUZZ_TOKEN_SHOW: print each verdict */

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz/token: %s\n", what);
        abort();
    }
}

static void load_key(enum jwt_alg alg, const char *kid, const char *b64)
{
    unsigned char der[256];
    size_t len = 0;
    check(sodium_base642bin(der, sizeof der, b64, strlen(b64), NULL, &len, NULL,
                            sodium_base64_VARIANT_ORIGINAL) == 0,
          "a built-in key is not base64");
    check(jwt_key_import(kid, alg, der, len, &keys[alg]) == GH_OK, "a built-in key does not load");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    check(sodium_init() >= 0, "sodium_init failed");
    show = getenv("FUZZ_TOKEN_SHOW") != NULL;
    load_key(JWT_ES256, "fuzz-es256", ES256_DER);
    load_key(JWT_EDDSA, "fuzz-eddsa", EDDSA_DER);
    return 0;
}

/* Every key the harness has, whatever the verifier's algorithm: a kid of the other algorithm
 * must be refused by jwt_verify itself. */
static const struct jwt_key *lookup(void *ctx, const char *kid)
{
    (void)ctx;
    for (size_t i = 0; i < 2; i++)
        if (!strcmp(keys[i].kid, kid))
            return &keys[i];
    return NULL;
}

/* ---- helpers ---- */

/* Appends the base64url of len bytes to out at *pos (out has room: see token_cap). */
static void append_b64(char *out, size_t *pos, const unsigned char *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, B64URL);
    sodium_bin2base64(out + *pos, cap, bin, len, B64URL);
    *pos += strlen(out + *pos);
}

static size_t token_cap(size_t a, size_t b, size_t c)
{
    return sodium_base64_ENCODED_LEN(a, B64URL) + sodium_base64_ENCODED_LEN(b, B64URL) +
           sodium_base64_ENCODED_LEN(c, B64URL) + 3;
}

/* Splits data at the first two '\n' into up to three parts. */
struct parts {
    const unsigned char *p[3];
    size_t n[3];
};

static struct parts split(const unsigned char *data, size_t size)
{
    struct parts out;
    size_t start = 0;
    for (int i = 0; i < 3; i++) {
        const unsigned char *nl = i < 2 ? memchr(data + start, '\n', size - start) : NULL;
        size_t end = nl ? (size_t)(nl - data) : size;
        out.p[i] = data + start;
        out.n[i] = end - start;
        start = nl ? end + 1 : size;
    }
    return out;
}

/* A raw JWS signature (EdDSA as is, ES256 as r || s) of data with k, written independently of
 * jwt.c's signer. False when OpenSSL fails. */
static bool sign_raw(const struct jwt_key *k, const char *data, size_t len, unsigned char sig[64])
{
    unsigned char der[80];
    size_t der_len = sizeof der, sig_len = 64;
    bool ok = false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ECDSA_SIG *es = NULL;
    if (!ctx)
        return false;
    if (k->alg == JWT_EDDSA) {
        ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)data, len) == 1 &&
             sig_len == 64;
        EVP_MD_CTX_free(ctx);
        return ok;
    }
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
        EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)data, len) == 1) {
        const unsigned char *p = der;
        const BIGNUM *r = NULL, *s = NULL;
        if ((es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) != NULL) {
            ECDSA_SIG_get0(es, &r, &s);
            ok = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32;
        }
    }
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* A JSON object parsed from len bytes as gatehouse's tokens are (duplicate keys refused), or
 * NULL. */
static json_t *parse_object(const unsigned char *text, size_t len)
{
    json_t *v = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* The rules a signed token's header must meet, stated on their own: alg exactly the verifier's
 * algorithm, a kid string naming a key of that algorithm, typ absent or "JWT" in any case, and
 * no crit (no extension is understood). */
static bool header_acceptable(const json_t *header, enum jwt_alg alg)
{
    const json_t *a = json_object_get(header, "alg"), *kid = json_object_get(header, "kid"),
                 *typ = json_object_get(header, "typ");
    if (!json_is_string(a) || strcmp(json_string_value(a), alg == JWT_EDDSA ? "EdDSA" : "ES256"))
        return false;
    if (!json_is_string(kid) || strcmp(json_string_value(kid), keys[alg].kid))
        return false;
    if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "jwt")))
        return false;
    return json_object_get(header, "crit") == NULL;
}

/* Verifies token; checks what holds for every accepted token. True when accepted, with the
 * claims in *claims (new reference) when claims is not NULL. */
static bool verify(const char *token, enum jwt_alg alg, json_t **claims)
{
    json_t *got = NULL;
    gh_status st = jwt_verify(token, alg, lookup, NULL, &got);
    check(st == GH_OK || st == GH_ERR_INVALID_TOKEN, "jwt_verify returned an unexpected status");
    if (show)
        fprintf(stderr, "%s %s: %.120s\n", st == GH_OK ? "accepted" : "refused", jwt_alg_name(alg),
                token);
    if (st != GH_OK)
        return false;
    check(json_is_object(got), "accepted claims are not an object");
    const char *dot = strchr(token, '.');
    check(dot && strlen(token) <= JWT_TOKEN_MAX, "an accepted token has no header or is too long");
    unsigned char bin[JWT_TOKEN_MAX];
    size_t n = 0;
    check(sodium_base642bin(bin, sizeof bin, token, (size_t)(dot - token), NULL, &n, NULL,
                            B64URL) == 0,
          "an accepted token's header is not base64url");
    json_t *header = parse_object(bin, n);
    check(header && header_acceptable(header, alg), "an accepted token's header breaks the rules");
    json_decref(header);
    /* the same answer a second time: nothing depends on earlier calls */
    json_t *again = NULL;
    check(jwt_verify(token, alg, lookup, NULL, &again) == GH_OK && json_equal(again, got),
          "a second verification differs");
    json_decref(again);
    if (claims)
        *claims = got;
    else
        json_decref(got);
    return true;
}

/* ---- the modes ---- */

static void fuzz_raw(const unsigned char *data, size_t size, enum jwt_alg alg)
{
    char *token = malloc(size + 1);
    if (!token)
        return;
    memcpy(token, data, size);
    token[size] = '\0'; /* a NUL ends the token, as it ends the header or field it came in */
    verify(token, alg, NULL);
    free(token);
}

static void fuzz_parts(const unsigned char *data, size_t size, enum jwt_alg alg)
{
    struct parts p = split(data, size);
    char *token = malloc(token_cap(p.n[0], p.n[1], p.n[2]));
    size_t pos = 0;
    if (!token)
        return;
    append_b64(token, &pos, p.p[0], p.n[0]);
    token[pos++] = '.';
    append_b64(token, &pos, p.p[1], p.n[1]);
    token[pos++] = '.';
    append_b64(token, &pos, p.p[2], p.n[2]);
    verify(token, alg, NULL);
    free(token);
}

static void fuzz_signed(const unsigned char *data, size_t size, enum jwt_alg alg)
{
    struct parts p = split(data, size);
    unsigned char sig[64];
    json_t *claims = NULL, *header = parse_object(p.p[0], p.n[0]),
           *payload = parse_object(p.p[1], p.n[1]);
    char *token = malloc(token_cap(p.n[0], p.n[1], sizeof sig));
    size_t pos = 0;
    if (!token)
        goto out;
    append_b64(token, &pos, p.p[0], p.n[0]);
    token[pos++] = '.';
    append_b64(token, &pos, p.p[1], p.n[1]);
    check(sign_raw(&keys[alg], token, pos, sig), "signing failed");
    token[pos++] = '.';
    append_b64(token, &pos, sig, sizeof sig);

    bool expected = pos <= JWT_TOKEN_MAX && header && header_acceptable(header, alg) && payload;
    bool accepted = verify(token, alg, &claims);
    check(accepted == expected, accepted ? "jwt_verify accepted a token the rules refuse"
                                         : "jwt_verify refused a correctly signed token");
    if (accepted)
        check(json_equal(claims, payload), "the claims differ from the signed payload");

    /* the payload signed by jwt_sign verifies to the same claims */
    if (payload) {
        char *mine = NULL;
        json_t *back = NULL;
        check(jwt_sign(&keys[alg], payload, &mine) == GH_OK, "jwt_sign failed");
        if (strlen(mine) <= JWT_TOKEN_MAX) {
            check(verify(mine, alg, &back), "jwt_sign made a token jwt_verify refuses");
            check(json_equal(back, payload), "jwt_sign's claims do not come back");
            check(!verify(mine, alg == JWT_ES256 ? JWT_EDDSA : JWT_ES256, NULL),
                  "a token verified under the other algorithm");
        }
        json_decref(back);
        free(mine);
    }
out:
    json_decref(claims);
    json_decref(header);
    json_decref(payload);
    free(token);
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* application/x-www-form-urlencoded decoding as the spec reads, into out (size + 1 bytes):
 * false for a '%' without two hex digits after it or a decoded NUL. */
static bool reference_form_decode(const unsigned char *s, size_t n, char *out, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '%') {
            if (n - i < 3 || hex_digit(s[i + 1]) < 0 || hex_digit(s[i + 2]) < 0)
                return false;
            c = (unsigned char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0)
            return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *out_len = o;
    return true;
}

static void fuzz_form(const unsigned char *data, size_t size)
{
    char *want = malloc(size + 1);
    size_t want_len = 0;
    if (!want)
        return;
    bool valid = reference_form_decode(data, size, want, &want_len);
    /* outputs too small by one, just right, and roomy; each its own allocation, so ASan sees a
     * write past it */
    size_t caps[] = {0, 1, want_len, want_len + 1, size + 1, size / 2 + 1};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        char *out = malloc(caps[i] ? caps[i] : 1);
        if (!out)
            break;
        bool ok = url_form_decode((const char *)data, size, out, caps[i]);
        if (show)
            fprintf(stderr, "url_form_decode into %zu bytes: %s\n", caps[i], ok ? out : "refused");
        check(ok == (valid && want_len < caps[i]), "url_form_decode disagrees with the reference");
        if (ok)
            check(!strcmp(out, want), "url_form_decode decoded differently");
        free(out);
    }
    free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum jwt_alg alg = (data[0] / 4) % 2 ? JWT_EDDSA : JWT_ES256;
    switch (data[0] % 4) {
    case 0:
        fuzz_raw(data + 1, size - 1, alg);
        break;
    case 1:
        fuzz_parts(data + 1, size - 1, alg);
        break;
    case 2:
        fuzz_signed(data + 1, size - 1, alg);
        break;
    default:
        fuzz_form(data + 1, size - 1);
        break;
    }
    return 0;
}
