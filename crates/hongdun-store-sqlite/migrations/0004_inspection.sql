-- Random inspections (双随机、一公开) and the hazard loop.
-- Keep in step with hongdun-store-pg/migrations/0004_inspection.sql.

-- Internal credit-risk class (A low … D high; NULL counts as B). Never public.
ALTER TABLE entity ADD COLUMN risk_class TEXT;

-- 一单: inspection items, each with its legal basis and department (a section).
CREATE TABLE inspection_item (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    department_id INTEGER REFERENCES unit (id),
    legal_basis   TEXT NOT NULL,
    -- Space-separated entity kinds and industry-code prefixes; empty = all.
    kinds         TEXT NOT NULL DEFAULT '',
    industries    TEXT NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Declared conflicts of interest (recusal).
CREATE TABLE inspector_conflict (
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    uscc       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, uscc)
);

CREATE TABLE inspection_plan (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id        INTEGER NOT NULL REFERENCES unit (id),
    name           TEXT NOT NULL,
    departments    TEXT NOT NULL,
    items          TEXT NOT NULL,
    target         TEXT NOT NULL,
    sampling       TEXT NOT NULL,
    exclude_months INTEGER NOT NULL DEFAULT 0,
    team_size      INTEGER NOT NULL,
    pool           TEXT NOT NULL,
    publish_days   INTEGER NOT NULL,
    status         TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX inspection_plan_unit ON inspection_plan (unit_id, id);

-- A draw and its frozen inputs: written once, never edited (triggers below).
CREATE TABLE inspection_draw (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id           INTEGER REFERENCES inspection_plan (id),
    unit_id           INTEGER NOT NULL REFERENCES unit (id),
    kind              TEXT NOT NULL,
    seed              TEXT NOT NULL,
    seed_source       TEXT NOT NULL,
    seed_hash         TEXT NOT NULL,
    algorithm         TEXT NOT NULL,
    algorithm_version INTEGER NOT NULL,
    sampling          TEXT NOT NULL,
    team_size         INTEGER NOT NULL,
    candidates_count  INTEGER NOT NULL,
    candidates_sha256 TEXT NOT NULL,
    inspectors        TEXT NOT NULL,
    inspectors_sha256 TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    drawn_by          TEXT NOT NULL,
    drawn_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX inspection_draw_plan ON inspection_draw (plan_id) WHERE kind = 'plan';
-- The canonical candidate list, in chunks.
CREATE TABLE inspection_draw_list (
    draw_id INTEGER NOT NULL REFERENCES inspection_draw (id),
    chunk   INTEGER NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (draw_id, chunk)
);
CREATE TRIGGER inspection_draw_no_update BEFORE UPDATE ON inspection_draw
BEGIN SELECT RAISE(ABORT, 'draw records are immutable'); END;
CREATE TRIGGER inspection_draw_no_delete BEFORE DELETE ON inspection_draw
BEGIN SELECT RAISE(ABORT, 'draw records are immutable'); END;
CREATE TRIGGER inspection_draw_list_no_update BEFORE UPDATE ON inspection_draw_list
BEGIN SELECT RAISE(ABORT, 'draw records are immutable'); END;
CREATE TRIGGER inspection_draw_list_no_delete BEFORE DELETE ON inspection_draw_list
BEGIN SELECT RAISE(ABORT, 'draw records are immutable'); END;

CREATE TABLE inspection_task (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id      INTEGER NOT NULL REFERENCES inspection_plan (id),
    draw_id      INTEGER NOT NULL REFERENCES inspection_draw (id),
    seq          INTEGER NOT NULL,
    entity_id    INTEGER NOT NULL REFERENCES entity (id),
    unit_id      INTEGER REFERENCES unit (id),
    team         TEXT NOT NULL,
    status       TEXT NOT NULL,
    outcome      TEXT,
    note         TEXT,
    visited_at   TEXT,
    lat          REAL,
    lng          REAL,
    publish_due  TEXT,
    published_at TEXT,
    updated_at   TEXT NOT NULL
);
CREATE INDEX inspection_task_plan ON inspection_task (plan_id, seq);
CREATE INDEX inspection_task_entity ON inspection_task (entity_id, visited_at);
CREATE INDEX inspection_task_unit ON inspection_task (unit_id, status);
CREATE TABLE inspection_task_member (
    task_id INTEGER NOT NULL REFERENCES inspection_task (id),
    user_id INTEGER NOT NULL REFERENCES app_user (id),
    PRIMARY KEY (user_id, task_id)
);
CREATE TABLE inspection_record (
    task_id     INTEGER NOT NULL REFERENCES inspection_task (id),
    item_id     INTEGER NOT NULL REFERENCES inspection_item (id),
    verdict     TEXT NOT NULL,
    note        TEXT,
    photos      TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (task_id, item_id)
);

-- 隐患: one row per hazard, its state the one current state; every step an event.
CREATE TABLE hazard (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id     INTEGER NOT NULL REFERENCES unit (id),
    entity_id   INTEGER REFERENCES entity (id),
    place       TEXT NOT NULL,
    task_id     INTEGER REFERENCES inspection_task (id),
    category    TEXT NOT NULL,
    description TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('reported', 'ordered', 'submitted', 'closed')),
    deadline    TEXT,
    found_on    TEXT NOT NULL,
    closed_on   TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX hazard_unit_state ON hazard (unit_id, state);
CREATE INDEX hazard_found ON hazard (found_on);
CREATE TABLE hazard_event (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id  INTEGER NOT NULL REFERENCES hazard (id),
    at         TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    state      TEXT NOT NULL,
    note       TEXT,
    evidence   TEXT NOT NULL DEFAULT '',
    deadline   TEXT
);
CREATE INDEX hazard_event_hazard ON hazard_event (hazard_id, id);
