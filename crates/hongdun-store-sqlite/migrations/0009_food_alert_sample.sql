-- 食安在线, continued: AI capture alerts from kitchen edge boxes (merged
-- repeats, triage, a confirmed alert's rectification through the hazard loop),
-- the merchant's reply link for a hazard, and food sampling tests (抽检):
-- plans, samples, lab results per item, disposal events.
-- Keep in step with hongdun-store-pg/migrations/0009_food_alert_sample.sql.
CREATE TABLE ai_alert (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id   INTEGER NOT NULL REFERENCES camera (id),
    entity_id   INTEGER NOT NULL REFERENCES entity (id),
    unit_id     INTEGER NOT NULL REFERENCES unit (id),
    kind        TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    first_at    TEXT NOT NULL,
    last_at     TEXT NOT NULL,
    repeats     INTEGER NOT NULL DEFAULT 1,
    confidence  REAL NOT NULL,
    snapshot_id INTEGER REFERENCES stored_file (id),
    status      TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'dismissed')),
    triaged_by  TEXT,
    triaged_at  TEXT,
    note        TEXT,
    hazard_id   INTEGER REFERENCES hazard (id),
    created_at  TEXT NOT NULL
);
CREATE INDEX ai_alert_merge ON ai_alert (camera_id, kind, status, last_at);
CREATE INDEX ai_alert_unit ON ai_alert (unit_id, status, id);
CREATE INDEX ai_alert_first ON ai_alert (first_at);
CREATE UNIQUE INDEX ai_alert_hazard ON ai_alert (hazard_id) WHERE hazard_id IS NOT NULL;

-- A capability link the business answers a rectification order with (photos).
-- Only the SHA-256 of the token is kept; a new link replaces the old one.
CREATE TABLE hazard_reply_link (
    hazard_id    INTEGER PRIMARY KEY REFERENCES hazard (id),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE sample_plan (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id    INTEGER NOT NULL REFERENCES unit (id),
    year       INTEGER NOT NULL,
    name       TEXT NOT NULL,
    target     INTEGER NOT NULL CHECK (target >= 1),
    note       TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX sample_plan_unit ON sample_plan (unit_id, year);
CREATE TABLE food_sample (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id          INTEGER NOT NULL REFERENCES sample_plan (id),
    unit_id          INTEGER NOT NULL REFERENCES unit (id),
    sample_no        TEXT NOT NULL UNIQUE,
    product          TEXT NOT NULL,
    category         TEXT NOT NULL,
    spec             TEXT,
    batch_no         TEXT,
    produced_on      TEXT,
    producer_name    TEXT NOT NULL,
    producer_address TEXT,
    seller_entity_id INTEGER NOT NULL REFERENCES entity (id),
    place_kind       TEXT NOT NULL,
    sampled_on       TEXT NOT NULL,
    sampled_by       TEXT NOT NULL,
    lab              TEXT,
    state            TEXT NOT NULL CHECK (state IN ('sampled', 'passed', 'failed', 'disposing', 'closed')),
    tested_on        TEXT,
    published_on     TEXT,
    closed_on        TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX food_sample_plan ON food_sample (plan_id);
CREATE INDEX food_sample_unit ON food_sample (unit_id, sampled_on);
CREATE INDEX food_sample_seller ON food_sample (seller_entity_id);
CREATE INDEX food_sample_published ON food_sample (published_on) WHERE published_on IS NOT NULL;
CREATE TABLE sample_result (
    sample_id  INTEGER NOT NULL REFERENCES food_sample (id),
    seq        INTEGER NOT NULL,
    item       TEXT NOT NULL,
    value      TEXT NOT NULL,
    unit       TEXT,
    limit_text TEXT NOT NULL,
    standard   TEXT NOT NULL,
    pass       INTEGER NOT NULL,
    PRIMARY KEY (sample_id, seq)
) WITHOUT ROWID;
CREATE TABLE sample_event (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id  INTEGER NOT NULL REFERENCES food_sample (id),
    at         TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    state      TEXT NOT NULL,
    note       TEXT,
    ref_no     TEXT
);
CREATE INDEX sample_event_sample ON sample_event (sample_id, id);
