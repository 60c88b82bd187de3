-- The candidate list of a draw from a covering index (index-only scans once the
-- table is vacuumed): status and office as keys, the rest carried along.
-- Deferred on bulk load like the other secondary indexes (ENTITY_INDEXES).
CREATE INDEX IF NOT EXISTS entity_draw ON entity (status, unit_id) INCLUDE (kind, industry, township_code, county_code, risk_class, grid, uscc, reg_no);
