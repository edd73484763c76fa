-- gatehouse schema, version 7: OpenID Connect login. Identities at providers linked to accounts,
-- found by the provider's name and its subject (the sub claim): a subject is linked to one
-- account, and an account has at most one identity per provider. Logins in progress, stored by
-- the SHA-256 of the state parameter and deleted when they come back. The same tables as the
-- SQLite schema: times are unix seconds (bigint), user ids are UUIDs, an empty string is stored
-- as NULL.
CREATE TABLE oauth_identities (
    provider   text NOT NULL,
    subject    text NOT NULL,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email      text,             -- the address the provider asserted; NULL: none
    created_at bigint NOT NULL,
    PRIMARY KEY (provider, subject),
    UNIQUE (provider, user_id)
);
CREATE INDEX oauth_identities_user ON oauth_identities(user_id);

CREATE TABLE oauth_states (
    state_hash    text PRIMARY KEY,
    binding_hash  text NOT NULL,  -- SHA-256 of the cookie that binds the login to the browser
    provider      text NOT NULL,
    code_verifier text NOT NULL,  -- PKCE
    nonce         text NOT NULL,
    next          text,           -- where to land afterwards; NULL: the default
    created_at    bigint NOT NULL,
    expires_at    bigint NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);
