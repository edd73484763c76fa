/* JWT signing and verification on OpenSSL 3 (EVP one-shot signatures for both algorithms). */
#include "jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define B64URL     sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define ES256_PART 32 /* bytes of r and of s in a raw ES256 signature */

const char *jwt_alg_name(enum jwt_alg alg)
{
    return alg == JWT_EDDSA ? "EdDSA" : alg == JWT_RS256 ? "RS256" : "ES256";
}

gh_status jwt_alg_from_name(const char *name, enum jwt_alg *out)
{
    if (!strcmp(name, "ES256"))
        *out = JWT_ES256;
    else if (!strcmp(name, "EdDSA"))
        *out = JWT_EDDSA;
    else if (!strcmp(name, "RS256"))
        *out = JWT_RS256;
    else
        return GH_ERR_CONFIG;
    return GH_OK;
}

/* ---- base64url ---- */

/* Encodes len bytes as unpadded base64url into a new heap string. */
static char *b64url_encode(const unsigned char *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, B64URL);
    char *out = malloc(cap);
    if (out)
        sodium_bin2base64(out, cap, bin, len, B64URL);
    return out;
}

/* Decodes the len characters of unpadded base64url at text into bin (cap bytes). */
static gh_status b64url_decode(const char *text, size_t len, unsigned char *bin, size_t cap,
                               size_t *out_len)
{
    const char *end = NULL;
    if (sodium_base642bin(bin, cap, text, len, NULL, out_len, &end, B64URL) != 0 ||
        end != text + len)
        return GH_ERR_INVALID_TOKEN;
    return GH_OK;
}

/* ---- keys ---- */

gh_status jwt_key_generate(enum jwt_alg alg, struct jwt_key *out)
{
    unsigned char id[16];
    memset(out, 0, sizeof *out);
    EVP_PKEY *pkey = alg == JWT_EDDSA ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                                      : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!pkey)
        return GH_INTERNAL;
    randombytes_buf(id, sizeof id);
    sodium_bin2base64(out->kid, sizeof out->kid, id, sizeof id, B64URL);
    out->alg = alg;
    out->pkey = pkey;
    return GH_OK;
}

gh_status jwt_key_export(const struct jwt_key *k, unsigned char **der, size_t *len)
{
    unsigned char *buf = NULL;
    int n = i2d_PrivateKey(k->pkey, &buf);
    if (n <= 0)
        return GH_INTERNAL;
    *der = buf;
    *len = (size_t)n;
    return GH_OK;
}

gh_status jwt_key_import(const char *kid, enum jwt_alg alg, const unsigned char *der, size_t len,
                         struct jwt_key *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(kid) >= sizeof out->kid || len > 65536)
        return GH_INTERNAL;
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    if (!pkey)
        return GH_INTERNAL;
    bool ok = alg == JWT_EDDSA ? EVP_PKEY_is_a(pkey, "ED25519") : EVP_PKEY_is_a(pkey, "EC");
    if (!ok) {
        EVP_PKEY_free(pkey);
        return GH_INTERNAL;
    }
    strcpy(out->kid, kid);
    out->alg = alg;
    out->pkey = pkey;
    return GH_OK;
}

/* Sets member name of jwk to the base64url of len bytes. */
static gh_status jwk_set_bytes(json_t *jwk, const char *name, const unsigned char *bin, size_t len)
{
    char *text = b64url_encode(bin, len);
    if (!text || json_object_set_new(jwk, name, json_string(text)) != 0) {
        free(text);
        return GH_NO_MEMORY;
    }
    free(text);
    return GH_OK;
}

/* The x and y coordinates of a P-256 public key, 32 bytes each. */
static gh_status ec_public_xy(EVP_PKEY *pkey, unsigned char x[ES256_PART],
                              unsigned char y[ES256_PART])
{
    BIGNUM *bx = NULL, *by = NULL;
    gh_status st = GH_INTERNAL;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
        BN_bn2binpad(bx, x, ES256_PART) == ES256_PART &&
        BN_bn2binpad(by, y, ES256_PART) == ES256_PART)
        st = GH_OK;
    BN_free(bx);
    BN_free(by);
    return st;
}

gh_status jwt_key_public_jwk(const struct jwt_key *k, json_t **out)
{
    gh_status st = GH_NO_MEMORY;
    json_t *jwk =
        json_pack("{s:s, s:s, s:s}", "kid", k->kid, "alg", jwt_alg_name(k->alg), "use", "sig");
    if (!jwk)
        return GH_NO_MEMORY;
    if (k->alg == JWT_EDDSA) {
        unsigned char pub[32];
        size_t len = sizeof pub;
        if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &len) != 1 || len != sizeof pub) {
            st = GH_INTERNAL;
            goto out;
        }
        if (json_object_set_new(jwk, "kty", json_string("OKP")) != 0 ||
            json_object_set_new(jwk, "crv", json_string("Ed25519")) != 0 ||
            (st = jwk_set_bytes(jwk, "x", pub, len)) != GH_OK)
            goto out;
    } else {
        unsigned char x[ES256_PART], y[ES256_PART];
        if ((st = ec_public_xy(k->pkey, x, y)) != GH_OK)
            goto out;
        st = GH_NO_MEMORY;
        if (json_object_set_new(jwk, "kty", json_string("EC")) != 0 ||
            json_object_set_new(jwk, "crv", json_string("P-256")) != 0 ||
            (st = jwk_set_bytes(jwk, "x", x, sizeof x)) != GH_OK ||
            (st = jwk_set_bytes(jwk, "y", y, sizeof y)) != GH_OK)
            goto out;
    }
    *out = jwk;
    jwk = NULL;
    st = GH_OK;
out:
    json_decref(jwk);
    return st;
}

/* Decodes the base64url member name of jwk into bin (cap bytes). */
static gh_status jwk_bytes(const json_t *jwk, const char *name, unsigned char *bin, size_t cap,
                           size_t *len)
{
    const char *text = json_string_value(json_object_get(jwk, name));
    if (!text)
        return GH_ERR_INVALID_TOKEN;
    return b64url_decode(text, strlen(text), bin, cap, len);
}

/* A public key from OpenSSL parameters of key type type. */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* An RSA public key from n and e (at least 2048 bits). */
static EVP_PKEY *rsa_from_jwk(const json_t *jwk)
{
    unsigned char n[1024], e[16];
    size_t n_len = 0, e_len = 0;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    if (jwk_bytes(jwk, "n", n, sizeof n, &n_len) != GH_OK || n_len < 256 ||
        jwk_bytes(jwk, "e", e, sizeof e, &e_len) != GH_OK || e_len == 0)
        return NULL;
    bn = BN_bin2bn(n, (int)n_len, NULL);
    be = BN_bin2bn(e, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)))
        pkey = pkey_from_params("RSA", params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

/* A P-256 public key from x and y. */
static EVP_PKEY *ec_from_jwk(const json_t *jwk)
{
    unsigned char point[1 + 2 * ES256_PART];
    size_t x_len = 0, y_len = 0;
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!crv || strcmp(crv, "P-256") ||
        jwk_bytes(jwk, "x", point + 1, ES256_PART, &x_len) != GH_OK || x_len != ES256_PART ||
        jwk_bytes(jwk, "y", point + 1 + ES256_PART, ES256_PART, &y_len) != GH_OK ||
        y_len != ES256_PART)
        return NULL;
    point[0] = 0x04; /* uncompressed */
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_END,
    };
    return pkey_from_params("EC", params);
}

/* An Ed25519 public key from x. */
static EVP_PKEY *okp_from_jwk(const json_t *jwk)
{
    unsigned char x[32];
    size_t len = 0;
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!crv || strcmp(crv, "Ed25519") || jwk_bytes(jwk, "x", x, sizeof x, &len) != GH_OK ||
        len != sizeof x)
        return NULL;
    return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, len);
}

gh_status jwt_key_from_jwk(const json_t *jwk, struct jwt_key *out)
{
    memset(out, 0, sizeof *out);
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *kid = json_string_value(json_object_get(jwk, "kid"));
    const char *alg = json_string_value(json_object_get(jwk, "alg"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    enum jwt_alg want;
    EVP_PKEY *pkey = NULL;
    if (!kty || (use && strcmp(use, "sig")) || (kid && strlen(kid) >= sizeof out->kid))
        return GH_ERR_INVALID_TOKEN;
    if (!strcmp(kty, "RSA")) {
        want = JWT_RS256;
        pkey = rsa_from_jwk(jwk);
    } else if (!strcmp(kty, "EC")) {
        want = JWT_ES256;
        pkey = ec_from_jwk(jwk);
    } else if (!strcmp(kty, "OKP")) {
        want = JWT_EDDSA;
        pkey = okp_from_jwk(jwk);
    } else {
        return GH_ERR_INVALID_TOKEN;
    }
    enum jwt_alg named;
    if (!pkey || (alg && (jwt_alg_from_name(alg, &named) != GH_OK || named != want))) {
        EVP_PKEY_free(pkey);
        return GH_ERR_INVALID_TOKEN;
    }
    strcpy(out->kid, kid ? kid : "");
    out->alg = want;
    out->pkey = pkey;
    return GH_OK;
}

void jwt_key_free(struct jwt_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
}

/* ---- signatures ---- */

/* Signs data with the key: EdDSA as is, ES256 over SHA-256 with the DER signature turned into
 * the raw r || s that JWS uses. sig must hold 64 bytes. */
static gh_status sign_bytes(const struct jwt_key *k, const unsigned char *data, size_t len,
                            unsigned char sig[64], size_t *sig_len)
{
    gh_status st = GH_INTERNAL;
    unsigned char der[80];
    size_t der_len = sizeof der;
    ECDSA_SIG *es = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return GH_NO_MEMORY;
    if (k->alg == JWT_EDDSA) {
        *sig_len = 64;
        if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
            EVP_DigestSign(ctx, sig, sig_len, data, len) == 1 && *sig_len == 64)
            st = GH_OK;
        goto out;
    }
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, der, &der_len, data, len) != 1)
        goto out;
    const unsigned char *p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r = NULL, *s = NULL;
    if (!es)
        goto out;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, ES256_PART) == ES256_PART &&
        BN_bn2binpad(s, sig + ES256_PART, ES256_PART) == ES256_PART) {
        *sig_len = 64;
        st = GH_OK;
    }
out:
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    return st;
}

/* True when sig (raw, as in JWS) is k's signature of data. */
static bool verify_bytes(const struct jwt_key *k, const unsigned char *data, size_t len,
                         const unsigned char *sig, size_t sig_len)
{
    bool ok = false;
    unsigned char *der = NULL;
    ECDSA_SIG *es = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || (k->alg != JWT_RS256 && sig_len != 64))
        goto out;
    if (k->alg == JWT_EDDSA) {
        ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
        goto out;
    }
    if (k->alg == JWT_RS256) {
        ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
        goto out;
    }
    es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, ES256_PART, NULL),
           *s = BN_bin2bn(sig + ES256_PART, ES256_PART, NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        goto out;
    }
    int der_len = i2d_ECDSA_SIG(es, &der);
    ok = der_len > 0 && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
         EVP_DigestVerify(ctx, der, (size_t)der_len, data, len) == 1;
out:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* ---- tokens ---- */

/* The base64url of the compact JSON of value, as a new heap string. */
static char *encode_part(const json_t *value)
{
    char *json = json_dumps(value, JSON_COMPACT);
    char *part = json ? b64url_encode((const unsigned char *)json, strlen(json)) : NULL;
    free(json);
    return part;
}

gh_status jwt_sign(const struct jwt_key *k, const json_t *claims, char **token)
{
    gh_status st = GH_NO_MEMORY;
    unsigned char sig[64];
    size_t sig_len = 0;
    char *head = NULL, *body = NULL, *sig_text = NULL, *out = NULL;
    json_t *header =
        json_pack("{s:s, s:s, s:s}", "alg", jwt_alg_name(k->alg), "typ", "JWT", "kid", k->kid);
    if (!header || !(head = encode_part(header)) || !(body = encode_part(claims)))
        goto out;
    size_t signing_len = strlen(head) + 1 + strlen(body);
    out = malloc(signing_len + 1 + sodium_base64_ENCODED_LEN(64, B64URL));
    if (!out)
        goto out;
    strcpy(out, head);
    strcat(out, ".");
    strcat(out, body);
    if ((st = sign_bytes(k, (const unsigned char *)out, signing_len, sig, &sig_len)) != GH_OK)
        goto out;
    st = GH_NO_MEMORY;
    if (!(sig_text = b64url_encode(sig, sig_len)))
        goto out;
    strcat(out, ".");
    strcat(out, sig_text);
    *token = out;
    out = NULL;
    st = GH_OK;
out:
    json_decref(header);
    free(head);
    free(body);
    free(sig_text);
    free(out);
    return st;
}

/* Decodes a base64url part holding a JSON object. New reference, or NULL. */
static json_t *decode_object(const char *text, size_t len)
{
    unsigned char bin[JWT_TOKEN_MAX];
    size_t n = 0;
    if (b64url_decode(text, len, bin, sizeof bin, &n) != GH_OK)
        return NULL;
    json_t *v = json_loadb((const char *)bin, n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* Checks the header: exactly the expected algorithm, the JWT type when a type is given, and a
 * kid the lookup knows. Returns that key, or NULL. */
static const struct jwt_key *check_header(const json_t *header, const enum jwt_alg *allowed,
                                          size_t n, jwt_key_lookup lookup, void *ctx)
{
    const char *got = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    const json_t *typ = json_object_get(header, "typ");
    enum jwt_alg alg;
    bool ok = false;
    if (!got || jwt_alg_from_name(got, &alg) != GH_OK || !kid)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ok = ok || allowed[i] == alg;
    if (!ok)
        return NULL;
    if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT")))
        return NULL;
    if (json_object_get(header, "crit"))
        return NULL; /* no extension is understood, so none may be required */
    const struct jwt_key *k = lookup(ctx, kid);
    return k && k->alg == alg ? k : NULL;
}

gh_status jwt_verify(const char *token, enum jwt_alg alg, jwt_key_lookup lookup, void *ctx,
                     json_t **claims)
{
    return jwt_verify_allowed(token, &alg, 1, lookup, ctx, claims);
}

gh_status jwt_verify_allowed(const char *token, const enum jwt_alg *allowed, size_t n,
                             jwt_key_lookup lookup, void *ctx, json_t **claims)
{
    gh_status st = GH_ERR_INVALID_TOKEN;
    json_t *header = NULL, *payload = NULL;
    unsigned char sig[512]; /* up to RSA-4096 */
    size_t sig_len = 0;
    size_t len = token ? strnlen(token, JWT_TOKEN_MAX + 1) : 0;
    if (len == 0 || len > JWT_TOKEN_MAX)
        return GH_ERR_INVALID_TOKEN;
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || strchr(dot2 + 1, '.'))
        return GH_ERR_INVALID_TOKEN;
    if (!(header = decode_object(token, (size_t)(dot1 - token))))
        goto out;
    const struct jwt_key *k = check_header(header, allowed, n, lookup, ctx);
    if (!k || b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof sig, &sig_len) != GH_OK ||
        !verify_bytes(k, (const unsigned char *)token, (size_t)(dot2 - token), sig, sig_len))
        goto out;
    if (!(payload = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1))))
        goto out;
    *claims = payload;
    payload = NULL;
    st = GH_OK;
out:
    json_decref(header);
    json_decref(payload);
    return st;
}
