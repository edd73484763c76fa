-- gatehouse schema, version 7: OpenID Connect login. Identities at providers linked to accounts,
-- found by the provider's name and its subject (the sub claim): a subject is linked to one
-- account, and an account has at most one identity per provider. Logins in progress, stored by
-- the SHA-256 of the state parameter and deleted when they come back. Times are unix seconds; an
-- empty string is stored as NULL.
CREATE TABLE oauth_identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email      TEXT,             -- the address the provider asserted; NULL: none
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject),
    UNIQUE (provider, user_id)
);
CREATE INDEX oauth_identities_user ON oauth_identities(user_id);

CREATE TABLE oauth_states (
    state_hash    TEXT PRIMARY KEY,
    binding_hash  TEXT NOT NULL,  -- SHA-256 of the cookie that binds the login to the browser
    provider      TEXT NOT NULL,
    code_verifier TEXT NOT NULL,  -- PKCE
    nonce         TEXT NOT NULL,
    next          TEXT,           -- where to land afterwards; NULL: the default
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);
