-- Up Migration
-- Every ingest updates aggregate rows in place. With room left on each page, PostgreSQL can write
-- the new row version beside the old one without touching the primary key index (a HOT update),
-- which roughly halves the cost of an update and keeps the index from bloating.
ALTER TABLE analytics.user_skill_agg SET (fillfactor = 70);

-- Down Migration
ALTER TABLE analytics.user_skill_agg RESET (fillfactor);
