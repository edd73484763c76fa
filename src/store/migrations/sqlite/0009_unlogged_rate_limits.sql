-- gatehouse schema, version 9: on PostgreSQL the rate-limit table becomes unlogged. SQLite has
-- no such table kind; its commits are one WAL append each. Nothing changes here, so that both
-- backends keep one numbering.
SELECT 1;
