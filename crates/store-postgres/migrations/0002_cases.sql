-- Status and resettlement cases: the same tables as SQLite's migration 7.
CREATE TABLE cases (
    id           TEXT COLLATE "C" PRIMARY KEY,
    version      BIGINT NOT NULL,
    person_id    TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    household_id TEXT COLLATE "C" REFERENCES households(id),
    step         TEXT COLLATE "C" NOT NULL,
    step_at      TEXT COLLATE "C" NOT NULL,
    country      TEXT COLLATE "C",
    created_at   TEXT COLLATE "C" NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX cases_step ON cases(step, step_at, id);
CREATE INDEX cases_waiting ON cases(step_at, id);
CREATE INDEX cases_person ON cases(person_id);

CREATE TABLE case_steps (
    case_id    TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    seq        BIGINT NOT NULL,
    step       TEXT COLLATE "C" NOT NULL,
    at         TEXT COLLATE "C" NOT NULL,
    actor_id   TEXT COLLATE "C",
    actor_name TEXT COLLATE "C" NOT NULL,
    country    TEXT COLLATE "C",
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_steps_step ON case_steps(step, case_id);

CREATE TABLE case_obstacles (
    id          TEXT COLLATE "C" PRIMARY KEY,
    case_id     TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    kind        TEXT COLLATE "C" NOT NULL,
    occurred_on TEXT COLLATE "C" NOT NULL,
    by_whom     TEXT COLLATE "C",
    detail      TEXT COLLATE "C",
    recorded_at TEXT COLLATE "C" NOT NULL,
    actor_id    TEXT COLLATE "C",
    actor_name  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX case_obstacles_case ON case_obstacles(case_id, recorded_at);
CREATE INDEX case_obstacles_kind ON case_obstacles(kind);

CREATE TRIGGER case_steps_append_only BEFORE UPDATE OR DELETE ON case_steps
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('case history is append-only');
CREATE TRIGGER case_obstacles_append_only BEFORE UPDATE OR DELETE ON case_obstacles
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('obstacles are append-only');
CREATE TRIGGER case_steps_no_truncate BEFORE TRUNCATE ON case_steps
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('case history is append-only');
