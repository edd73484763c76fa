-- gatehouse schema, version 9: rate-limit counters are transient, so their table is unlogged.
-- A counter update then writes no WAL and its commit does not wait for a WAL flush (a login
-- charges and clears counters before its session is written). The price: after a PostgreSQL
-- crash, or on a promoted standby, the table starts empty, so the windows in progress restart.
ALTER TABLE rate_limits SET UNLOGGED;
