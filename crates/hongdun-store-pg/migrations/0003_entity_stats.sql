-- The dashboard's counts. One pass over this narrow covering index, in its own
-- order (no sort), counts by office, kind and status at once; its first column
-- serves the office scope. New registrations per month seek the second index.
-- Both are built after the last batch of a first load, like the other
-- secondary indexes (ENTITY_INDEXES).
CREATE INDEX IF NOT EXISTS entity_stats ON entity (unit_id, kind, status);
CREATE INDEX IF NOT EXISTS entity_established ON entity (established, unit_id);
