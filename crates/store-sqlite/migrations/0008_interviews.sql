-- Interview scheduling (crates/domain/src/interview.rs): rooms at sites,
-- interpreters, and interviews occupying a room, an interviewer, an
-- interpreter and a resident for a slot.
CREATE TABLE rooms (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites(id),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE interpreters (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    languages  TEXT NOT NULL,          -- language tags, comma-separated
    created_at TEXT NOT NULL
);

CREATE TABLE interviews (
    id             TEXT PRIMARY KEY,
    version        INTEGER NOT NULL,
    case_id        TEXT NOT NULL REFERENCES cases(id),
    person_id      TEXT NOT NULL REFERENCES people(id),
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    room_id        TEXT NOT NULL REFERENCES rooms(id),
    interviewer_id TEXT NOT NULL REFERENCES users(id),
    interpreter_id TEXT REFERENCES interpreters(id),
    language       TEXT,
    status         TEXT NOT NULL,
    others_present TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CHECK (starts_at < ends_at)
);
-- Conflict checks look up each resource's interviews around a time.
CREATE INDEX interviews_room ON interviews(room_id, starts_at);
CREATE INDEX interviews_interviewer ON interviews(interviewer_id, starts_at);
CREATE INDEX interviews_interpreter ON interviews(interpreter_id, starts_at);
CREATE INDEX interviews_person ON interviews(person_id, starts_at);
CREATE INDEX interviews_case ON interviews(case_id, starts_at);
CREATE INDEX interviews_start ON interviews(starts_at);
