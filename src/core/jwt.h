/* JSON Web Tokens signed asymmetrically (RFC 7515/7519): ES256 (ECDSA P-256, SHA-256) or EdDSA
 * (Ed25519, RFC 8037), on OpenSSL 3. Tokens are made here for access tokens and checked here
 * for Bearer requests, /api/token/verify/ and introspection; other services check them with the
 * JWKS alone. Verification is strict: the header must name exactly the configured algorithm
 * (never "none", never another one), a known kid and the JWT type; the signature is checked
 * before any claim is trusted. */
#ifndef GH_JWT_H
#define GH_JWT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/status.h"

/* JWT_RS256 (RSASSA-PKCS1-v1_5 with SHA-256) is only verified: OpenID Connect providers sign
 * ID tokens with it. gatehouse signs with ES256 or EdDSA. */
enum jwt_alg { JWT_ES256, JWT_EDDSA, JWT_RS256 };

#define JWT_KID_MAX   48         /* bytes of a key id, with its NUL */
#define JWT_TOKEN_MAX (8 * 1024) /* longest token accepted for verification */

/* A key pair in memory. pkey is an OpenSSL EVP_PKEY, owned; free with jwt_key_free. */
struct jwt_key {
    char kid[JWT_KID_MAX];
    enum jwt_alg alg;
    void *pkey;
};

/* The algorithm's JOSE name ("ES256", "EdDSA"), and back: GH_ERR_CONFIG for an unknown name. */
const char *jwt_alg_name(enum jwt_alg alg);
GH_MUST_CHECK gh_status jwt_alg_from_name(const char *name, enum jwt_alg *out);

/* Generates a new key pair with a random kid. */
GH_MUST_CHECK gh_status jwt_key_generate(enum jwt_alg alg, struct jwt_key *out);
/* The private key as DER (i2d_PrivateKey: SEC1 for EC keys, PKCS #8 for Ed25519), for storage;
 * *der is heap memory the caller wipes and frees. */
GH_MUST_CHECK gh_status jwt_key_export(const struct jwt_key *k, unsigned char **der, size_t *len);
/* Loads a key pair from the DER of jwt_key_export, with its kid and algorithm. */
GH_MUST_CHECK gh_status jwt_key_import(const char *kid, enum jwt_alg alg, const unsigned char *der,
                                       size_t len, struct jwt_key *out);
/* The public key as a JWK (RFC 7517): kty, crv, x (and y), kid, alg, use "sig". New reference. */
GH_MUST_CHECK gh_status jwt_key_public_jwk(const struct jwt_key *k, json_t **out);
/* Loads a public key from a JWK (RSA: n, e; EC P-256: x, y; OKP Ed25519: x) with its kid
 * (may be absent: empty). The algorithm is the JWK's alg, or the one its key type signs with
 * here. GH_ERR_INVALID_TOKEN for anything else (other curves, short RSA keys, private JWKs
 * are read for their public part only). */
GH_MUST_CHECK gh_status jwt_key_from_jwk(const json_t *jwk, struct jwt_key *out);
/* Frees the key's OpenSSL object. NULL-safe. */
void jwt_key_free(struct jwt_key *k);

/* Signs claims (an object) with k into a compact token ("header.payload.signature"), header
 * {"alg", "typ": "JWT", "kid"}. *token is heap memory owned by the caller. */
GH_MUST_CHECK gh_status jwt_sign(const struct jwt_key *k, const json_t *claims, char **token);

/* Finds the key with kid among the verifier's keys; NULL when none. */
typedef const struct jwt_key *(*jwt_key_lookup)(void *ctx, const char *kid);

/* Checks token's form, header (alg == alg exactly, typ JWT when present, a kid that lookup
 * knows) and signature, then returns its claims (new reference). GH_ERR_INVALID_TOKEN for any
 * failure — the caller checks the claims' meaning (exp, nbf, iss, aud, token_type). */
GH_MUST_CHECK gh_status jwt_verify(const char *token, enum jwt_alg alg, jwt_key_lookup lookup,
                                   void *ctx, json_t **claims);
/* Like jwt_verify for tokens of others (ID tokens): the header's alg must be one of the n in
 * allowed and the key lookup finds must be of that alg. */
GH_MUST_CHECK gh_status jwt_verify_allowed(const char *token, const enum jwt_alg *allowed, size_t n,
                                           jwt_key_lookup lookup, void *ctx, json_t **claims);

#endif
