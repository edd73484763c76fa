/* The records gatehouse keeps, as plain C structs: below every module that uses them (core/,
 * store/, kv/, mail/, http/), so every include of it points down. Strings are fixed-size and
 * NUL-terminated; an empty string stands for SQL NULL. */
#ifndef GH_RECORDS_H
#define GH_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/secret.h"

#define EMAIL_MAX         254
#define NAME_MAX_CHARS    150
#define NAME_MAX_BYTES    (NAME_MAX_CHARS * 4)
#define PASSWORD_HASH_MAX 160
#define URL_FIELD_MAX     512
#define IP_MAX            46
#define USER_AGENT_MAX    256

struct profile {
    char id[UUID_LEN + 1];
    char phone_number[24];
    char birth_date[11];
    char github_link[256];
};

struct user {
    char id[UUID_LEN + 1];
    char email[EMAIL_MAX + 1];
    char password_hash[PASSWORD_HASH_MAX];
    char first_name[NAME_MAX_BYTES + 1];
    char last_name[NAME_MAX_BYTES + 1];
    bool is_active;
    bool is_staff;
    bool is_superuser;
    char thumbnail[URL_FIELD_MAX]; /* media key; empty = no avatar */
    int64_t date_joined;
    struct profile profile;
};

struct session {
    char token_hash[TOKEN_HASH_LEN + 1];
    char id[UUID_LEN + 1]; /* public identifier, shown in session lists */
    char user_id[UUID_LEN + 1];
    int64_t created_at;
    int64_t expires_at;
    int64_t last_seen_at;
    char ip[IP_MAX];
    char user_agent[USER_AGENT_MAX];
};

/* Purposes of one-time tokens. */
#define PURPOSE_CONFIRM         "confirm"
#define PURPOSE_RESET           "reset"           /* the link in the reset mail */
#define PURPOSE_PASSWORD_CHANGE "password_change" /* handed to the change-password page */

struct onetime {
    char token_hash[TOKEN_HASH_LEN + 1];
    char user_id[UUID_LEN + 1];
    const char *purpose;
    int64_t created_at;
    int64_t expires_at;
};

/* What a mail request asks the outbox worker to send, if the account at the address qualifies. */
#define MAIL_REQUEST_CONFIRM    "confirm"    /* a confirmation link, to an unconfirmed account */
#define MAIL_REQUEST_RESET      "reset"      /* a password reset link, to an active account */
#define MAIL_REQUEST_REGISTERED "registered" /* someone registered with an existing address */
#define MAIL_REQUEST_MAX        16

/* A message in the outbox, or a request for one (request set, subject and bodies empty). The
 * strings are heap-allocated and owned by the struct. */
struct mail {
    int64_t id;         /* the outbox row; names the mail file and the Message-ID */
    int64_t created_at; /* when the row was queued (unix seconds); 0 before it is */
    char recipient[EMAIL_MAX + 1];
    char request[MAIL_REQUEST_MAX]; /* empty for a rendered message */
    char *subject;
    char *text_body;
    char *html_body;
    int attempts;
};

/* Wipes and frees the strings of a mail (NULL-safe) and clears them. */
void mail_clear(struct mail *m);

/* A key that signs access tokens (core/keys.c). The private key is stored as text: base64 of
 * its PKCS #8 DER, or of that DER sealed with GATEHOUSE_KEY_ENCRYPTION_KEY ("enc1:" prefix). */
#define SIGNING_KEY_TEXT_MAX 512
struct signing_key_row {
    char kid[48];
    char alg[8]; /* "ES256" or "EdDSA" */
    char private_key[SIGNING_KEY_TEXT_MAX];
    int64_t created_at;
    int64_t activates_at; /* signs from then on (published in the JWKS before) */
    int64_t retires_at;   /* leaves the JWKS then; 0 = not yet known */
};

/* A refresh token, stored by the SHA-256 of its value. Tokens rotate: each use marks the token
 * rotated and creates its successor in the same family; a family is revoked as a whole. */
struct refresh_token {
    char token_hash[TOKEN_HASH_LEN + 1];
    char family_id[UUID_LEN + 1];
    char user_id[UUID_LEN + 1];
    char client_id[64];                    /* the OAuth client; empty for /api/token/ */
    char session_hash[TOKEN_HASH_LEN + 1]; /* the session that created the family; empty: none */
    int64_t created_at;
    int64_t expires_at;
    int64_t rotated_at; /* 0 = live */
    int64_t revoked_at; /* 0 = not revoked */
};

/* Grants an OAuth client may use (bit set). */
#define CLIENT_GRANT_REFRESH_TOKEN      (1u << 0)
#define CLIENT_GRANT_CLIENT_CREDENTIALS (1u << 1)

/* An OAuth client registered with `gatehouse client create`. Its secret is stored as the
 * SHA-256 of a 256-bit random value, never in clear. */
struct oauth_client {
    char id[64];
    char name[128];
    char secret_hash[TOKEN_HASH_LEN + 1]; /* empty for a public client */
    bool confidential;
    unsigned grants; /* CLIENT_GRANT_* */
    int64_t created_at;
};

/* A login at an OpenID Connect provider linked to an account: found by (provider, subject). */
#define PROVIDER_NAME_MAX 32
#define SUBJECT_MAX       256
struct oauth_identity {
    char provider[PROVIDER_NAME_MAX]; /* the configured name, e.g. "google" */
    char subject[SUBJECT_MAX];        /* the provider's sub claim */
    char user_id[UUID_LEN + 1];
    char email[EMAIL_MAX + 1]; /* the address the provider asserted when it was linked */
    int64_t created_at;
};

/* A login started at a provider and not yet come back: stored by the SHA-256 of the state
 * parameter, bound to the browser by the SHA-256 of a cookie value, single use. */
#define NEXT_PATH_MAX 512
struct oauth_state {
    char state_hash[TOKEN_HASH_LEN + 1];
    char binding_hash[TOKEN_HASH_LEN + 1];
    char provider[PROVIDER_NAME_MAX];
    char code_verifier[TOKEN_LEN + 1]; /* PKCE */
    char nonce[TOKEN_LEN + 1];
    char next[NEXT_PATH_MAX]; /* where to land afterwards: a relative path of the frontend */
    int64_t created_at;
    int64_t expires_at;
};

/* A user's stored password hash, as the timing pad of password checks reads them
 * (core/login_pad.c). */
struct user_hash {
    char user_id[UUID_LEN + 1];
    char hash[PASSWORD_HASH_MAX];
};

/* Who is calling: resolved by the HTTP layer from the credentials a route accepts (the
 * session cookie; a Bearer token). NONE on routes anyone may call. */
enum principal_kind { PRINCIPAL_NONE, PRINCIPAL_SESSION, PRINCIPAL_BEARER };

struct principal {
    enum principal_kind kind;
    struct user user;
    struct session session;      /* PRINCIPAL_SESSION: the session of the cookie */
    char token_id[UUID_LEN + 1]; /* PRINCIPAL_BEARER: the access token's jti */
};

/* Who did something and from where: attached to sessions and audit rows. */
struct client_info {
    char ip[IP_MAX];
    char user_agent[USER_AGENT_MAX];
};

struct audit_event {
    const char *event;   /* "register", "confirm", "login_success", ... */
    const char *user_id; /* NULL when unknown */
    const char *email;   /* NULL when not relevant */
    const struct client_info *client;
    const char *detail; /* short reason, never a secret; NULL for none */
};

#endif
