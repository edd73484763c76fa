-- gatehouse schema, version 3: one row that GET /ready rewrites, proving the database accepts
-- writes (a full disk or a read-only database still answers reads).
CREATE TABLE readiness (
    id         integer PRIMARY KEY CHECK (id = 1),
    checked_at bigint NOT NULL,
    probes     bigint NOT NULL  -- counts the probes, so every probe changes the row
);
INSERT INTO readiness (id, checked_at, probes) VALUES (1, 0, 0);
