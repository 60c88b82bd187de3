-- The entity table again, with the credit code's uniqueness moved from the
-- column (an automatic index, which SQLite cannot drop) to the named index
-- `entity_uscc`, which a first bulk load defers with the other indexes, and
-- the legacy registration number's to a partial index that leaves out the
-- businesses without one (nearly all: a NULL needs no uniqueness check, but
-- each still cost an insert into the column's index, 0.5 s a million; see
-- `uscc_index_of_its_own` in lib.rs, which runs this with foreign keys off,
-- in one transaction, then checks them). Ids, every column and the
-- AUTOINCREMENT high-water mark are kept; the search index (external content
-- keyed by id) stays valid. The columns are those of migrations 0002 and
-- 0005, in their order.
CREATE TABLE entity_rebuilt (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    uscc           TEXT,
    reg_no         TEXT,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    legal_rep      TEXT,
    id_number      TEXT,
    phone          TEXT,
    address        TEXT,
    county_code    TEXT,
    township_code  TEXT,
    unit_id        INTEGER REFERENCES unit (id),
    grid           TEXT,
    industry       TEXT,
    status         TEXT NOT NULL,
    established    TEXT,
    capital        INTEGER,
    employees      INTEGER,
    business_scope TEXT,
    tags           TEXT NOT NULL DEFAULT '',
    warning        TEXT,
    search         TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    risk_class     TEXT,
    CHECK (uscc IS NOT NULL OR reg_no IS NOT NULL)
);
INSERT INTO entity_rebuilt (
    id, uscc, reg_no, name, kind, legal_rep, id_number, phone, address, county_code, township_code,
    unit_id, grid, industry, status, established, capital, employees, business_scope, tags, warning,
    search, created_by, created_at, updated_at, risk_class
)
SELECT
    id, uscc, reg_no, name, kind, legal_rep, id_number, phone, address, county_code, township_code,
    unit_id, grid, industry, status, established, capital, employees, business_scope, tags, warning,
    search, created_by, created_at, updated_at, risk_class
FROM entity ORDER BY id;
CREATE TEMP TABLE entity_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'entity';
DROP TABLE entity;
ALTER TABLE entity_rebuilt RENAME TO entity;
DELETE FROM sqlite_sequence WHERE name = 'entity' AND EXISTS (SELECT 1 FROM temp.entity_seq);
INSERT INTO sqlite_sequence (name, seq) SELECT 'entity', seq FROM temp.entity_seq;
DROP TABLE temp.entity_seq;
CREATE UNIQUE INDEX entity_uscc ON entity (uscc);
CREATE UNIQUE INDEX entity_reg_no ON entity (reg_no) WHERE reg_no IS NOT NULL;
CREATE TRIGGER entity_fts_delete AFTER DELETE ON entity BEGIN
    INSERT INTO entity_fts (entity_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
CREATE TRIGGER entity_fts_update AFTER UPDATE OF search ON entity BEGIN
    INSERT INTO entity_fts (entity_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO entity_fts (rowid, search) VALUES (new.id, new.search);
END;
