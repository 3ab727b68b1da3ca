-- Lantern on PostgreSQL, schema version 1: the same tables as the SQLite
-- backend at its version 6, so both run the same statements
-- (crates/store-sql). Identifiers and times are text, as there: times in a
-- fixed-width UTC form whose text order is time order. Every text column
-- uses the "C" collation (code-point order), so lists sort and prefix
-- searches match exactly as on SQLite, whatever the cluster's locale.
-- Flags are 0/1 integers.

CREATE TABLE users (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    username             TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name         TEXT COLLATE "C" NOT NULL,
    role                 TEXT COLLATE "C" NOT NULL,
    language             TEXT COLLATE "C" NOT NULL,
    password_hash        TEXT COLLATE "C" NOT NULL,
    totp_secret          BYTEA,
    disabled             SMALLINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at           TEXT COLLATE "C" NOT NULL,
    must_change_password SMALLINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1))
);

CREATE TABLE setup_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    expires_at TEXT COLLATE "C" NOT NULL,
    used_at    TEXT COLLATE "C"
);

CREATE TABLE sessions (
    id_hash      TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    csrf_token   TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    last_seen_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    name         TEXT COLLATE "C" NOT NULL,
    token_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at   TEXT COLLATE "C" NOT NULL,
    last_used_at TEXT COLLATE "C",
    revoked      SMALLINT NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);

CREATE TABLE sites (
    id   TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE
);

CREATE TABLE households (
    id         TEXT COLLATE "C" PRIMARY KEY,
    label      TEXT COLLATE "C" NOT NULL,
    site_id    TEXT COLLATE "C" REFERENCES sites(id),
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX households_label ON households(label, id);

CREATE TABLE people (
    id           TEXT COLLATE "C" PRIMARY KEY,
    version      BIGINT NOT NULL,
    core         TEXT COLLATE "C" NOT NULL,  -- JSON of the unprotected content
    protected    BYTEA,                      -- sealed JSON of documents, contact, notes
    display_name TEXT COLLATE "C" NOT NULL,  -- the primary name as written
    sort_key     TEXT COLLATE "C" NOT NULL,  -- search key of the primary name
    status       TEXT COLLATE "C" NOT NULL,
    site_id      TEXT COLLATE "C" REFERENCES sites(id),
    household_id TEXT COLLATE "C" REFERENCES households(id),
    birth_from   BIGINT,                     -- earliest possible birth year
    birth_to     BIGINT,                     -- latest possible birth year
    created_at   TEXT COLLATE "C" NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL,
    deleted_at   TEXT COLLATE "C"
);
-- Lists are ordered by (sort_key, id): indexes in that order let a page be
-- read without sorting every row.
CREATE INDEX people_sort ON people(sort_key, id) WHERE deleted_at IS NULL;
CREATE INDEX people_status ON people(status, sort_key, id) WHERE deleted_at IS NULL;
CREATE INDEX people_site ON people(site_id, sort_key, id) WHERE deleted_at IS NULL;
CREATE INDEX people_household ON people(household_id) WHERE deleted_at IS NULL;
CREATE INDEX people_birth ON people(birth_from, birth_to) WHERE deleted_at IS NULL;

-- Every word of every name's search key, for exact and prefix search.
CREATE TABLE name_tokens (
    token     TEXT COLLATE "C" NOT NULL,
    person_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    PRIMARY KEY (token, person_id)
);
CREATE INDEX name_tokens_person ON name_tokens(person_id);

CREATE TABLE family_links (
    person_id   TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    relative_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    kind        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (person_id, relative_id),
    CHECK (person_id <> relative_id)
);

CREATE TABLE person_versions (
    person_id         TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    version           BIGINT NOT NULL,
    at                TEXT COLLATE "C" NOT NULL,
    actor_id          TEXT COLLATE "C",
    actor_name        TEXT COLLATE "C" NOT NULL,
    action            TEXT COLLATE "C" NOT NULL,
    core              TEXT COLLATE "C" NOT NULL,
    protected_changed SMALLINT NOT NULL CHECK (protected_changed IN (0, 1)),
    PRIMARY KEY (person_id, version)
);

CREATE TABLE person_photos (
    person_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES people(id),
    content_type TEXT COLLATE "C" NOT NULL,
    sealed       BYTEA NOT NULL,
    uploaded_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,
    at          TEXT COLLATE "C" NOT NULL,
    actor_id    TEXT COLLATE "C",
    actor_name  TEXT COLLATE "C" NOT NULL,
    action      TEXT COLLATE "C" NOT NULL,
    record_kind TEXT COLLATE "C" NOT NULL,
    record_id   TEXT COLLATE "C",
    request_id  TEXT COLLATE "C" NOT NULL,
    address     TEXT COLLATE "C",
    detail      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_at ON audit_events(at);
CREATE INDEX audit_actor ON audit_events(actor_name, seq);
CREATE INDEX audit_record ON audit_events(record_id, seq);
CREATE INDEX audit_action ON audit_events(action, seq);

-- Audit events are numbered 1, 2, 3… without gaps, as on SQLite: a gap in
-- an audit trail reads as a deletion. A sequence would leave one after
-- every rolled-back transaction; writes run one at a time (an advisory
-- lock), so the next number is the largest plus one. A copy (restore,
-- migrate-store) brings its own numbers and keeps them.
CREATE FUNCTION lantern_next_audit_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NULL THEN
        NEW.seq := COALESCE((SELECT MAX(seq) FROM audit_events), 0) + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_seq BEFORE INSERT ON audit_events
FOR EACH ROW EXECUTE FUNCTION lantern_next_audit_seq();

-- The tamper-evident log (crates/ledger): one row per leaf, in order.
CREATE TABLE ledger_entries (
    seq       BIGINT PRIMARY KEY,  -- leaf index, from 0
    entry     BYTEA NOT NULL,      -- canonical entry bytes
    leaf_hash BYTEA NOT NULL       -- SHA-256(0x00 || entry)
);

-- The salts of each entry's field commitments: private, so a field can be
-- disclosed and proven later; never published with the entries.
CREATE TABLE ledger_salts (
    seq   BIGINT NOT NULL REFERENCES ledger_entries(seq),
    field TEXT COLLATE "C" NOT NULL,
    salt  BYTEA NOT NULL,
    PRIMARY KEY (seq, field)
);

-- The latest entry of each record, to compare records with the log.
CREATE TABLE ledger_heads (
    record_kind TEXT COLLATE "C" NOT NULL,
    record_id   TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL REFERENCES ledger_entries(seq),
    PRIMARY KEY (record_kind, record_id)
);

-- Signed checkpoints (C2SP signed notes), the history kept.
CREATE TABLE ledger_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT COLLATE "C" NOT NULL,
    at   TEXT COLLATE "C" NOT NULL
);

-- Hashes of every perfect subtree of the log, written as their last leaf is
-- appended, so roots and proofs read O(log n) nodes (crates/ledger/src/tree.rs).
CREATE TABLE ledger_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- The audit trail, the version history and the log are append-only: the
-- database itself refuses to change or remove a row.
CREATE FUNCTION lantern_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('audit events are append-only');
CREATE TRIGGER person_versions_append_only BEFORE UPDATE OR DELETE ON person_versions
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('person history is append-only');
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('the ledger is append-only');
CREATE TRIGGER ledger_salts_append_only BEFORE UPDATE OR DELETE ON ledger_salts
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('the ledger is append-only');
CREATE TRIGGER ledger_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_nodes
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('the ledger is append-only');
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('checkpoints are append-only');
-- TRUNCATE skips row triggers; refuse it too.
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('audit events are append-only');
CREATE TRIGGER person_versions_no_truncate BEFORE TRUNCATE ON person_versions
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('person history is append-only');
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('the ledger is append-only');
