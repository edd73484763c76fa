-- gatehouse schema, version 1: accounts, sessions, one-time tokens, mail outbox, audit log.
-- The same tables as the SQLite schema. Times are unix seconds (bigint), as in SQLite, so both
-- backends compare and store them alike; ids are UUIDs. Emails are stored lower-cased and are
-- unique regardless of case through the index on lower(email).
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    first_name    text NOT NULL,
    last_name     text NOT NULL,
    is_active     boolean NOT NULL DEFAULT false,
    is_staff      boolean NOT NULL DEFAULT false,
    is_superuser  boolean NOT NULL DEFAULT false,
    thumbnail     text,
    date_joined   bigint NOT NULL
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

CREATE TABLE user_profiles (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    phone_number text,
    birth_date   text,
    github_link  text
);

CREATE TABLE sessions (
    token_hash   text PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   bigint NOT NULL,
    expires_at   bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    ip           text,
    user_agent   text
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE one_time_tokens (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at    bigint
);
CREATE INDEX one_time_tokens_user ON one_time_tokens(user_id, purpose);

CREATE TABLE mail_outbox (
    id              bigserial PRIMARY KEY,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    text_body       text NOT NULL,
    html_body       text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL,
    sent_at         bigint,
    last_error      text,
    created_at      bigint NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    created_at bigint NOT NULL,
    event      text NOT NULL,
    user_id    uuid,
    email      text,
    ip         text,
    user_agent text,
    detail     text
);
CREATE INDEX audit_log_user ON audit_log(user_id, created_at);
