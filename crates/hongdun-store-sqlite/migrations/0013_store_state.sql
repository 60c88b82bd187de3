-- The store's own bookkeeping, never shown to users (settings are in
-- `setting`). One key so far: `search_index` = 'rebuild' while a first bulk
-- load leaves the search index to one rebuild at its end (see
-- ensure_entity_indexes), so a load killed half-way is healed by the next
-- start or the resumed import.
CREATE TABLE store_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
