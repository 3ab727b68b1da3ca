-- Lantern on SQLite, schema version 1.
-- Identifiers are UUIDs as text; times are RFC 3339 UTC text, which sorts
-- in time order.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    language      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret   BLOB,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sites (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE households (
    id         TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    site_id    TEXT REFERENCES sites(id),
    created_at TEXT NOT NULL
);
CREATE INDEX households_label ON households(label);

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    version      INTEGER NOT NULL,
    core         TEXT NOT NULL,          -- JSON of the unprotected content
    protected    BLOB,                   -- sealed JSON of documents, contact, notes
    display_name TEXT NOT NULL,          -- the primary name as written
    sort_key     TEXT NOT NULL,          -- search key of the primary name
    status       TEXT NOT NULL,
    site_id      TEXT REFERENCES sites(id),
    household_id TEXT REFERENCES households(id),
    birth_from   INTEGER,                -- earliest possible birth year
    birth_to     INTEGER,                -- latest possible birth year
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
);
CREATE INDEX people_sort ON people(sort_key) WHERE deleted_at IS NULL;
CREATE INDEX people_status ON people(status, sort_key) WHERE deleted_at IS NULL;
CREATE INDEX people_site ON people(site_id, sort_key) WHERE deleted_at IS NULL;
CREATE INDEX people_household ON people(household_id) WHERE deleted_at IS NULL;
CREATE INDEX people_birth ON people(birth_from, birth_to) WHERE deleted_at IS NULL;

-- Every word of every name's search key, for exact and prefix search.
CREATE TABLE name_tokens (
    token     TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people(id),
    PRIMARY KEY (token, person_id)
) WITHOUT ROWID;
CREATE INDEX name_tokens_person ON name_tokens(person_id);

CREATE TABLE family_links (
    person_id   TEXT NOT NULL REFERENCES people(id),
    relative_id TEXT NOT NULL REFERENCES people(id),
    kind        TEXT NOT NULL,
    PRIMARY KEY (person_id, relative_id),
    CHECK (person_id <> relative_id)
) WITHOUT ROWID;

CREATE TABLE person_versions (
    person_id         TEXT NOT NULL REFERENCES people(id),
    version           INTEGER NOT NULL,
    at                TEXT NOT NULL,
    actor_id          TEXT,
    actor_name        TEXT NOT NULL,
    action            TEXT NOT NULL,
    core              TEXT NOT NULL,
    protected_changed INTEGER NOT NULL,
    PRIMARY KEY (person_id, version)
) WITHOUT ROWID;

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id   TEXT,
    request_id  TEXT NOT NULL,
    address     TEXT,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_at ON audit_events(at);
CREATE INDEX audit_actor ON audit_events(actor_name, seq);
CREATE INDEX audit_record ON audit_events(record_id, seq);
CREATE INDEX audit_action ON audit_events(action, seq);

-- The audit trail and the version history are append-only: the database
-- itself refuses to change or remove a row.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER person_versions_no_update BEFORE UPDATE ON person_versions
BEGIN SELECT RAISE(ABORT, 'person history is append-only'); END;
CREATE TRIGGER person_versions_no_delete BEFORE DELETE ON person_versions
BEGIN SELECT RAISE(ABORT, 'person history is append-only'); END;
