-- Tracing requests (crates/domain/src/tracing.rs). The requester's
-- details are sealed (purpose tracing-requester); the family follows the
-- request with its reference and a secret, stored hashed.
CREATE TABLE tracing_requests (
    id            TEXT PRIMARY KEY,
    reference     TEXT NOT NULL UNIQUE,
    secret_hash   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    channel       TEXT NOT NULL,
    state         TEXT NOT NULL,
    requester     BLOB NOT NULL,           -- sealed JSON
    sought        TEXT NOT NULL,           -- JSON
    matched_id    TEXT REFERENCES people(id),
    consent       TEXT,                    -- JSON: scope, not_to_be_traced, method, witness, by, at
    filed_at      TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX tracing_requests_state ON tracing_requests(state, filed_at, id);

CREATE TABLE request_steps (
    request_id TEXT NOT NULL REFERENCES tracing_requests(id),
    seq        INTEGER NOT NULL,
    state      TEXT NOT NULL,
    at         TEXT NOT NULL,
    actor_id   TEXT,
    actor_name TEXT NOT NULL,
    reason     TEXT,
    PRIMARY KEY (request_id, seq)
) WITHOUT ROWID;

CREATE TABLE request_candidates (
    request_id  TEXT NOT NULL REFERENCES tracing_requests(id),
    person_id   TEXT NOT NULL REFERENCES people(id),
    probability TEXT NOT NULL,             -- decimal text: values are integers, text or bytes only
    decision    TEXT NOT NULL,             -- proposed, confirmed, rejected
    decided_at  TEXT,
    PRIMARY KEY (request_id, person_id)
) WITHOUT ROWID;

CREATE TRIGGER request_steps_no_update BEFORE UPDATE ON request_steps
BEGIN SELECT RAISE(ABORT, 'request history is append-only'); END;
CREATE TRIGGER request_steps_no_delete BEFORE DELETE ON request_steps
BEGIN SELECT RAISE(ABORT, 'request history is append-only'); END;
