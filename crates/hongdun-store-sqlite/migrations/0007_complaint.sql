-- 投诉举报: cases, their events, the versioned deadline rule sets, online
-- platforms (where complaints against their address-less merchants go), and the
-- ODR / 无理由退货 pledges shown on the public merchant page.
-- Keep in step with hongdun-store-pg/migrations/0007_complaint.sql.
CREATE TABLE complaint_rule_set (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    periods        TEXT NOT NULL,
    verified       INTEGER NOT NULL DEFAULT 0,
    updated_at     TEXT NOT NULL
);
CREATE TABLE complaint_platform (
    name    TEXT PRIMARY KEY,
    uscc    TEXT,
    unit_id INTEGER NOT NULL REFERENCES unit (id)
);
CREATE TABLE complaint (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt               TEXT NOT NULL UNIQUE,
    external_no           TEXT UNIQUE,
    kind                  TEXT NOT NULL CHECK (kind IN ('complaint', 'report', 'enquiry')),
    channel               TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('received', 'accepted', 'decided', 'closed', 'merged')),
    outcome               TEXT,
    step                  TEXT,
    due_on                TEXT,
    due_uncertain         INTEGER NOT NULL DEFAULT 0,
    paused_on             TEXT,
    late                  INTEGER NOT NULL DEFAULT 0,
    unit_id               INTEGER NOT NULL REFERENCES unit (id),
    rule_set              TEXT NOT NULL REFERENCES complaint_rule_set (code),
    received_on           TEXT NOT NULL,
    accepted_on           TEXT,
    decided_on            TEXT,
    closed_on             TEXT,
    complainant_name      TEXT,
    complainant_phone     TEXT,
    complainant_id_number TEXT,
    complainant_address   TEXT,
    person_key            TEXT,
    real_name             INTEGER NOT NULL,
    respondent_entity_id  INTEGER REFERENCES entity (id),
    respondent_name       TEXT NOT NULL,
    respondent_key        TEXT NOT NULL,
    respondent_address    TEXT,
    category              TEXT NOT NULL,
    platform              TEXT,
    amount_involved       INTEGER,
    amount_recovered      INTEGER NOT NULL DEFAULT 0,
    description           TEXT NOT NULL,
    files                 TEXT NOT NULL DEFAULT '',
    lat                   REAL,
    lng                   REAL,
    merged_into           INTEGER REFERENCES complaint (id),
    flagged               INTEGER NOT NULL DEFAULT 0,
    satisfaction          TEXT,
    reply                 TEXT,
    created_by            TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX complaint_unit_state ON complaint (unit_id, state, due_on);
CREATE INDEX complaint_person ON complaint (person_key, received_on);
CREATE INDEX complaint_respondent ON complaint (respondent_key, state);
CREATE INDEX complaint_received ON complaint (received_on);
CREATE TABLE complaint_event (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id INTEGER NOT NULL REFERENCES complaint (id),
    at           TEXT NOT NULL,
    on_day       TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    state        TEXT NOT NULL,
    note         TEXT,
    from_unit    INTEGER,
    to_unit      INTEGER,
    due_on       TEXT
);
CREATE INDEX complaint_event_complaint ON complaint_event (complaint_id, id);
CREATE TABLE entity_pledge (
    entity_id  INTEGER NOT NULL REFERENCES entity (id),
    kind       TEXT NOT NULL CHECK (kind IN ('odr', 'no_reason_return')),
    since      TEXT NOT NULL,
    until      TEXT,
    note       TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (entity_id, kind)
);
