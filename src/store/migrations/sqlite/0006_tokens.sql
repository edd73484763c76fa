-- gatehouse schema, version 6: the token API. Keys that sign access tokens; refresh tokens,
-- stored by the SHA-256 of their value and rotated within a family; OAuth clients, whose secret
-- is stored as a SHA-256 too. Times are unix seconds; an empty string is stored as NULL.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL,
    private_key  TEXT NOT NULL,  -- base64 PKCS #8 DER, or sealed ("enc1:")
    created_at   INTEGER NOT NULL,
    activates_at INTEGER NOT NULL,
    retires_at   INTEGER         -- NULL: not yet known
);

-- session_hash is no foreign key: with REDIS_URL, sessions live in Redis, not in this database.
CREATE TABLE refresh_tokens (
    token_hash   TEXT PRIMARY KEY,
    family_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id    TEXT,           -- NULL for /api/token/
    session_hash TEXT,           -- the session that created the family; NULL: none
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    rotated_at   INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_hash);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens(expires_at);

CREATE TABLE oauth_clients (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT,           -- NULL for a public client
    confidential INTEGER NOT NULL DEFAULT 0,
    grants       INTEGER NOT NULL,  -- CLIENT_GRANT_* bits
    created_at   INTEGER NOT NULL
);
