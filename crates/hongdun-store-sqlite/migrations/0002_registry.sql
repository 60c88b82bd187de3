-- The register of businesses: entities, licences, history, import jobs.
-- Keep in step with hongdun-store-pg/migrations/0002_registry.sql.

CREATE TABLE entity (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    uscc           TEXT UNIQUE,
    reg_no         TEXT UNIQUE,
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
    CHECK (uscc IS NOT NULL OR reg_no IS NOT NULL)
);
CREATE INDEX entity_unit_name ON entity (unit_id, name);
CREATE INDEX entity_township ON entity (township_code);

-- Search terms (CJK bigrams, words, #pinyin-initial bigrams) in an external-content
-- FTS5 index. Inserts are indexed a batch at a time by the store (one set-based
-- statement instead of a trigger per row); updates and deletes by triggers.
CREATE VIRTUAL TABLE entity_fts USING fts5 (
    search, content = 'entity', content_rowid = 'id', tokenize = "unicode61 tokenchars '#'"
);
CREATE TRIGGER entity_fts_delete AFTER DELETE ON entity BEGIN
    INSERT INTO entity_fts (entity_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
CREATE TRIGGER entity_fts_update AFTER UPDATE OF search ON entity BEGIN
    INSERT INTO entity_fts (entity_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO entity_fts (rowid, search) VALUES (new.id, new.search);
END;

CREATE TABLE licence (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id  INTEGER NOT NULL REFERENCES entity (id),
    kind       TEXT NOT NULL,
    number     TEXT NOT NULL,
    issuer     TEXT,
    issued_on  TEXT,
    expires_on TEXT,
    status     TEXT NOT NULL DEFAULT 'valid',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, number)
);
CREATE INDEX licence_entity ON licence (entity_id);
CREATE INDEX licence_expiry ON licence (expires_on);

CREATE TABLE entity_event (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id  INTEGER NOT NULL REFERENCES entity (id),
    at         TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    kind       TEXT NOT NULL,
    changes    TEXT NOT NULL
);
CREATE INDEX entity_event_entity ON entity_event (entity_id, id);

CREATE TABLE import_job (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    file_sha256     TEXT NOT NULL,
    mode            TEXT NOT NULL,
    status          TEXT NOT NULL,
    rows_total      INTEGER NOT NULL DEFAULT 0,
    rows_ok         INTEGER NOT NULL DEFAULT 0,
    rows_failed     INTEGER NOT NULL DEFAULT 0,
    rows_warned     INTEGER NOT NULL DEFAULT 0,
    inserted        INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    checkpoint_row  INTEGER NOT NULL DEFAULT 0,
    unit_id         INTEGER,
    created_by_name TEXT NOT NULL,
    message         TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX import_job_file ON import_job (file_sha256, status);

CREATE TABLE import_error (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER NOT NULL REFERENCES import_job (id),
    row_no      INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    severity    TEXT NOT NULL
);
CREATE INDEX import_error_job ON import_error (job_id, row_no);
