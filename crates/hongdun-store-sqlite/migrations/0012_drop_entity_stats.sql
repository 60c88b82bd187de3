-- The dashboard's counts by office, kind and status are read from entity_draw
-- (status, unit_id, kind, …), which covers them with the same leading columns
-- in another order; entity_stats repeated them. One index fewer to keep up
-- and to build after a first load (0.9 s of a million-row import, about 15 s
-- of ten million). Keep in step with hongdun-store-pg/migrations/0011.
DROP INDEX IF EXISTS entity_stats;
