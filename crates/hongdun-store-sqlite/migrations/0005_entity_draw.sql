-- The candidate list of a draw in one index-only pass: every column the
-- candidate query reads or filters on (all but tags), led by the status and the
-- office the scope selects. A province's register is read from this narrow
-- index instead of its wide rows. Deferred on bulk load like the other
-- secondary indexes (ENTITY_INDEXES). Keep in step with the PostgreSQL one.
CREATE INDEX IF NOT EXISTS entity_draw ON entity (status, unit_id, kind, industry, township_code, county_code, risk_class, grid, uscc, reg_no);
