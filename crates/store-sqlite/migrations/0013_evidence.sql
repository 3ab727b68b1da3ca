-- Evidence (crates/vault/src/objects.rs, crates/store/src/evidence.rs).
-- `vault_objects` catalogues the stored objects: each object's content
-- hash (stored once per content), size, and data key wrapped by the
-- keyring. `evidence` is what a user recorded: an original, or a working
-- copy linked to its original; originals are never changed. Every receipt,
-- transfer, access and export is a custody event, also in the ledger.
CREATE TABLE vault_objects (
    name        TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL UNIQUE,
    size        INTEGER NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE evidence (
    id              TEXT PRIMARY KEY,
    object_name     TEXT NOT NULL REFERENCES vault_objects(name),
    sha256          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    title           TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    protected       BLOB NOT NULL,          -- sealed JSON: file name, description
    derived_from    TEXT REFERENCES evidence(id),
    derivation      TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT,
    created_by_name TEXT NOT NULL
);
CREATE INDEX evidence_created ON evidence(created_at, id);
CREATE INDEX evidence_sha256 ON evidence(sha256);
CREATE INDEX evidence_derived ON evidence(derived_from);

CREATE TABLE custody_events (
    seq         INTEGER PRIMARY KEY,
    evidence_id TEXT NOT NULL REFERENCES evidence(id),
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    counterpart TEXT,
    method      TEXT,
    sha256      TEXT NOT NULL
);
CREATE INDEX custody_by_evidence ON custody_events(evidence_id, seq);

-- Key rotation may re-seal `protected`; nothing else changes.
CREATE TRIGGER evidence_no_update
BEFORE UPDATE OF id, object_name, sha256, size, title, media_type, derived_from, derivation, created_at,
                 created_by, created_by_name ON evidence
BEGIN SELECT RAISE(ABORT, 'evidence records are never changed'); END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN SELECT RAISE(ABORT, 'evidence records are never changed'); END;
CREATE TRIGGER vault_objects_content_fixed BEFORE UPDATE OF name, sha256, size ON vault_objects
BEGIN SELECT RAISE(ABORT, 'a stored object''s content is never changed'); END;
CREATE TRIGGER vault_objects_no_delete BEFORE DELETE ON vault_objects
BEGIN SELECT RAISE(ABORT, 'a stored object''s content is never changed'); END;
CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events
BEGIN SELECT RAISE(ABORT, 'the chain of custody is append-only'); END;
CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events
BEGIN SELECT RAISE(ABORT, 'the chain of custody is append-only'); END;
