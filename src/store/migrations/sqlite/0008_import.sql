-- gatehouse schema, version 8: accounts imported from other systems (gatehouse import). Each
-- imported row of a source is remembered by the source (its kind and location, without
-- credentials) and its id there, so a second run skips it, and so an integer id of the source
-- can still be traced to the UUID it was given. Times are unix seconds.
CREATE TABLE import_id_map (
    source      TEXT NOT NULL,
    old_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (source, old_id)
);
CREATE INDEX import_id_map_user ON import_id_map(user_id);
