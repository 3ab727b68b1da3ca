-- Status and resettlement cases (crates/domain/src/case.rs): the current
-- step on the case, every step and every obstacle in append-only tables.
CREATE TABLE cases (
    id           TEXT PRIMARY KEY,
    version      INTEGER NOT NULL,
    person_id    TEXT NOT NULL REFERENCES people(id),
    household_id TEXT REFERENCES households(id),
    step         TEXT NOT NULL,
    step_at      TEXT NOT NULL,
    country      TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX cases_step ON cases(step, step_at, id);
CREATE INDEX cases_waiting ON cases(step_at, id);
CREATE INDEX cases_person ON cases(person_id);

CREATE TABLE case_steps (
    case_id    TEXT NOT NULL REFERENCES cases(id),
    seq        INTEGER NOT NULL,
    step       TEXT NOT NULL,
    at         TEXT NOT NULL,
    actor_id   TEXT,
    actor_name TEXT NOT NULL,
    country    TEXT,
    PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
CREATE INDEX case_steps_step ON case_steps(step, case_id);

CREATE TABLE case_obstacles (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    kind        TEXT NOT NULL,
    occurred_on TEXT NOT NULL,
    by_whom     TEXT,
    detail      TEXT,
    recorded_at TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL
);
CREATE INDEX case_obstacles_case ON case_obstacles(case_id, recorded_at);
CREATE INDEX case_obstacles_kind ON case_obstacles(kind);

CREATE TRIGGER case_steps_no_update BEFORE UPDATE ON case_steps
BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END;
CREATE TRIGGER case_steps_no_delete BEFORE DELETE ON case_steps
BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END;
CREATE TRIGGER case_obstacles_no_update BEFORE UPDATE ON case_obstacles
BEGIN SELECT RAISE(ABORT, 'obstacles are append-only'); END;
CREATE TRIGGER case_obstacles_no_delete BEFORE DELETE ON case_obstacles
BEGIN SELECT RAISE(ABORT, 'obstacles are append-only'); END;
