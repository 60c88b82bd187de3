-- The dashboard's counts by office, kind and status are read from entity_draw
-- ((status, unit_id) INCLUDE (kind, …)), an index-only scan by the same status
-- and office keys; entity_stats repeated them. One index fewer to keep up and
-- to build after a first load. Keep in step with
-- hongdun-store-sqlite/migrations/0012.
DROP INDEX IF EXISTS entity_stats;
