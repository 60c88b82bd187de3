-- The platform spine: divisions, units, users, roles, sessions, tokens, audit,
-- sign-in log, dictionaries, settings, holiday calendar. Keep in step with
-- hongdun-store-pg/migrations/0001_system.sql (same tables, same columns).

CREATE TABLE division (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code TEXT
);
CREATE INDEX division_parent ON division (parent_code);

CREATE TABLE unit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id  INTEGER REFERENCES unit (id),
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('bureau', 'section', 'office', 'grid')),
    enabled    INTEGER NOT NULL DEFAULT 1,
    sort       INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX unit_parent ON unit (parent_id);

CREATE TABLE unit_division (
    unit_id       INTEGER NOT NULL REFERENCES unit (id),
    division_code TEXT NOT NULL REFERENCES division (code),
    PRIMARY KEY (unit_id, division_code)
);

CREATE TABLE role (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    permissions TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    builtin     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE role_unit (
    role_id INTEGER NOT NULL REFERENCES role (id),
    unit_id INTEGER NOT NULL REFERENCES unit (id),
    PRIMARY KEY (role_id, unit_id)
);

CREATE TABLE app_user (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    unit_id              INTEGER NOT NULL REFERENCES unit (id),
    phone                TEXT,
    cert_no              TEXT,
    password_hash        TEXT NOT NULL,
    enabled              INTEGER NOT NULL DEFAULT 1,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    password_changed_at  TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX app_user_unit ON app_user (unit_id);

CREATE TABLE user_role (
    user_id INTEGER NOT NULL REFERENCES app_user (id),
    role_id INTEGER NOT NULL REFERENCES role (id),
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE session (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip         TEXT
);
CREATE INDEX session_by_user ON session (user_id);

CREATE TABLE api_token (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES app_user (id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    permissions  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);

-- No foreign keys: the audit trail outlives whatever it describes.
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_user_id INTEGER,
    actor_name    TEXT NOT NULL,
    unit_id       INTEGER,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    before_data   TEXT,
    after_data    TEXT,
    request_id    TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX audit_log_unit ON audit_log (unit_id, seq);

CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE login_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    username   TEXT NOT NULL,
    user_id    INTEGER,
    unit_id    INTEGER,
    outcome    TEXT NOT NULL,
    ip         TEXT,
    user_agent TEXT
);
CREATE INDEX login_log_unit ON login_log (unit_id, id);

CREATE TABLE dict_type (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE dict_item (
    dict_type TEXT NOT NULL REFERENCES dict_type (code),
    code      TEXT NOT NULL,
    label     TEXT NOT NULL,
    sort      INTEGER NOT NULL DEFAULT 0,
    enabled   INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (dict_type, code)
);

CREATE TABLE setting (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE holiday_year (
    year       INTEGER PRIMARY KEY,
    source     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE holiday (
    day        TEXT NOT NULL,
    year       INTEGER NOT NULL REFERENCES holiday_year (year),
    is_off_day INTEGER NOT NULL,
    name       TEXT NOT NULL
);
CREATE UNIQUE INDEX holiday_year_day ON holiday (year, day);
