-- gatehouse schema, version 6: the token API. Keys that sign access tokens; refresh tokens,
-- stored by the SHA-256 of their value and rotated within a family; OAuth clients, whose secret
-- is stored as a SHA-256 too. The same tables as the SQLite schema: times are unix seconds
-- (bigint), ids of families and users are UUIDs, an empty string is stored as NULL.
CREATE TABLE signing_keys (
    kid          text PRIMARY KEY,
    alg          text NOT NULL,
    private_key  text NOT NULL,  -- base64 PKCS #8 DER, or sealed ("enc1:")
    created_at   bigint NOT NULL,
    activates_at bigint NOT NULL,
    retires_at   bigint          -- NULL: not yet known
);

-- session_hash is no foreign key: with REDIS_URL, sessions live in Redis, not in this database.
CREATE TABLE refresh_tokens (
    token_hash   text PRIMARY KEY,
    family_id    uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id    text,           -- NULL for /api/token/
    session_hash text,           -- the session that created the family; NULL: none
    created_at   bigint NOT NULL,
    expires_at   bigint NOT NULL,
    rotated_at   bigint,
    revoked_at   bigint
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_hash);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens(expires_at);

CREATE TABLE oauth_clients (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    secret_hash  text,           -- NULL for a public client
    confidential boolean NOT NULL DEFAULT false,
    grants       integer NOT NULL,  -- CLIENT_GRANT_* bits
    created_at   bigint NOT NULL
);
