-- 食安在线: delivery-seal signing keys, batches issued to businesses, what
-- happened to each seal (order, scans, break), warnings, daily scan counts;
-- sunshine-kitchen cameras and their heartbeats as one 60-bit word per camera
-- and hour (bit i = a beat in minute i; hours count China time, see
-- hongdun_core::kitchen).
-- Keep in step with hongdun-store-pg/migrations/0008_food.sql.
CREATE TABLE seal_key (
    id         INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 255),
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE seal_batch (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id     INTEGER NOT NULL REFERENCES seal_key (id),
    entity_id  INTEGER NOT NULL REFERENCES entity (id),
    unit_id    INTEGER NOT NULL REFERENCES unit (id),
    count      INTEGER NOT NULL CHECK (count BETWEEN 1 AND 65535),
    note       TEXT,
    issued_on  TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX seal_batch_entity ON seal_batch (entity_id);
CREATE INDEX seal_batch_unit ON seal_batch (unit_id, issued_on);
CREATE TABLE seal_use (
    batch_id      INTEGER NOT NULL REFERENCES seal_batch (id),
    serial        INTEGER NOT NULL,
    order_no      TEXT,
    platform      TEXT,
    bound_at      TEXT,
    scans         INTEGER NOT NULL DEFAULT 0,
    first_scan_at TEXT,
    last_scan_at  TEXT,
    broken_at     TEXT,
    case_id       INTEGER REFERENCES complaint (id),
    PRIMARY KEY (batch_id, serial)
) WITHOUT ROWID;
CREATE TABLE seal_scan_day (
    unit_id INTEGER NOT NULL REFERENCES unit (id),
    day     TEXT NOT NULL,
    scans   INTEGER NOT NULL,
    PRIMARY KEY (unit_id, day)
);
CREATE TABLE seal_warning (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('never_issued', 'second_order', 'broken')),
    code     TEXT NOT NULL,
    batch_id INTEGER NOT NULL,
    serial   INTEGER NOT NULL,
    unit_id  INTEGER REFERENCES unit (id),
    detail   TEXT
);
CREATE INDEX seal_warning_unit ON seal_warning (unit_id, at);

CREATE TABLE camera (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id         TEXT NOT NULL UNIQUE,
    entity_id         INTEGER NOT NULL REFERENCES entity (id),
    unit_id           INTEGER NOT NULL REFERENCES unit (id),
    channel           INTEGER NOT NULL DEFAULT 1,
    place             TEXT NOT NULL,
    stream_url        TEXT,
    vendor            TEXT,
    enabled           INTEGER NOT NULL DEFAULT 1,
    installed_minute  INTEGER NOT NULL,
    last_beat_minute  INTEGER,
    created_at        TEXT NOT NULL
);
CREATE INDEX camera_entity ON camera (entity_id);
CREATE INDEX camera_unit ON camera (unit_id);
CREATE TABLE camera_beat (
    camera_id INTEGER NOT NULL REFERENCES camera (id),
    hour      INTEGER NOT NULL,
    minutes   INTEGER NOT NULL,
    PRIMARY KEY (camera_id, hour)
) WITHOUT ROWID;
CREATE INDEX camera_beat_hour ON camera_beat (hour);
