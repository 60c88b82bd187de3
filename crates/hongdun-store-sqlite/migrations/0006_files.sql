-- Uploaded files (visit photos, rectification evidence): kept in the database so
-- a backup holds everything. Keep in step with the PostgreSQL migration.
CREATE TABLE stored_file (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256       TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL,
    unit_id      INTEGER NOT NULL REFERENCES unit (id),
    created_by   INTEGER REFERENCES app_user (id),
    created_at   TEXT NOT NULL
);
CREATE INDEX stored_file_unit ON stored_file (unit_id);
