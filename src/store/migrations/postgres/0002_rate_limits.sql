-- gatehouse schema, version 2: fixed-window rate-limit counters (used when no Redis is set).
CREATE TABLE rate_limits (
    key        text PRIMARY KEY,
    count      bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX rate_limits_expiry ON rate_limits(expires_at);
CREATE INDEX one_time_tokens_expiry ON one_time_tokens(expires_at);
CREATE INDEX sessions_expiry ON sessions(expires_at);
