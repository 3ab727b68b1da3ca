-- Interview scheduling: the same tables as SQLite's migration 8.
CREATE TABLE rooms (
    id         TEXT COLLATE "C" PRIMARY KEY,
    site_id    TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    name       TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE interpreters (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    languages  TEXT COLLATE "C" NOT NULL,  -- language tags, comma-separated
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE interviews (
    id             TEXT COLLATE "C" PRIMARY KEY,
    version        BIGINT NOT NULL,
    case_id        TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    person_id      TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    starts_at      TEXT COLLATE "C" NOT NULL,
    ends_at        TEXT COLLATE "C" NOT NULL,
    room_id        TEXT COLLATE "C" NOT NULL REFERENCES rooms(id),
    interviewer_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    interpreter_id TEXT COLLATE "C" REFERENCES interpreters(id),
    language       TEXT COLLATE "C",
    status         TEXT COLLATE "C" NOT NULL,
    others_present TEXT COLLATE "C",
    created_at     TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL,
    CHECK (starts_at < ends_at)
);
-- Conflict checks look up each resource's interviews around a time.
CREATE INDEX interviews_room ON interviews(room_id, starts_at);
CREATE INDEX interviews_interviewer ON interviews(interviewer_id, starts_at);
CREATE INDEX interviews_interpreter ON interviews(interpreter_id, starts_at);
CREATE INDEX interviews_person ON interviews(person_id, starts_at);
CREATE INDEX interviews_case ON interviews(case_id, starts_at);
CREATE INDEX interviews_start ON interviews(starts_at);
