-- Tracing requests: the same tables as SQLite's migration 11.
CREATE TABLE tracing_requests (
    id            TEXT COLLATE "C" PRIMARY KEY,
    reference     TEXT COLLATE "C" NOT NULL UNIQUE,
    secret_hash   TEXT COLLATE "C" NOT NULL,
    version       BIGINT NOT NULL,
    kind          TEXT COLLATE "C" NOT NULL,
    channel       TEXT COLLATE "C" NOT NULL,
    state         TEXT COLLATE "C" NOT NULL,
    requester     BYTEA NOT NULL,
    sought        TEXT COLLATE "C" NOT NULL,
    matched_id    TEXT COLLATE "C" REFERENCES people(id),
    consent       TEXT COLLATE "C",
    filed_at      TEXT COLLATE "C" NOT NULL,
    updated_at    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX tracing_requests_state ON tracing_requests(state, filed_at, id);

CREATE TABLE request_steps (
    request_id TEXT COLLATE "C" NOT NULL REFERENCES tracing_requests(id),
    seq        BIGINT NOT NULL,
    state      TEXT COLLATE "C" NOT NULL,
    at         TEXT COLLATE "C" NOT NULL,
    actor_id   TEXT COLLATE "C",
    actor_name TEXT COLLATE "C" NOT NULL,
    reason     TEXT COLLATE "C",
    PRIMARY KEY (request_id, seq)
);

CREATE TABLE request_candidates (
    request_id  TEXT COLLATE "C" NOT NULL REFERENCES tracing_requests(id),
    person_id   TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    probability TEXT COLLATE "C" NOT NULL,
    decision    TEXT COLLATE "C" NOT NULL,
    decided_at  TEXT COLLATE "C",
    PRIMARY KEY (request_id, person_id)
);

CREATE TRIGGER request_steps_append_only BEFORE UPDATE OR DELETE ON request_steps
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('request history is append-only');
