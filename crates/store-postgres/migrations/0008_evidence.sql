-- Evidence: the same tables as SQLite's migration 13.
CREATE TABLE vault_objects (
    name        TEXT COLLATE "C" PRIMARY KEY,
    sha256      TEXT COLLATE "C" NOT NULL UNIQUE,
    size        BIGINT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE evidence (
    id              TEXT COLLATE "C" PRIMARY KEY,
    object_name     TEXT COLLATE "C" NOT NULL REFERENCES vault_objects(name),
    sha256          TEXT COLLATE "C" NOT NULL,
    size            BIGINT NOT NULL,
    title           TEXT COLLATE "C" NOT NULL,
    media_type      TEXT COLLATE "C" NOT NULL,
    protected       BYTEA NOT NULL,
    derived_from    TEXT COLLATE "C" REFERENCES evidence(id),
    derivation      TEXT COLLATE "C",
    created_at      TEXT COLLATE "C" NOT NULL,
    created_by      TEXT COLLATE "C",
    created_by_name TEXT COLLATE "C" NOT NULL
);
CREATE INDEX evidence_created ON evidence(created_at, id);
CREATE INDEX evidence_sha256 ON evidence(sha256);
CREATE INDEX evidence_derived ON evidence(derived_from);

CREATE TABLE custody_events (
    seq         BIGINT PRIMARY KEY,
    evidence_id TEXT COLLATE "C" NOT NULL REFERENCES evidence(id),
    at          TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,
    actor_id    TEXT COLLATE "C",
    actor_name  TEXT COLLATE "C" NOT NULL,
    counterpart TEXT COLLATE "C",
    method      TEXT COLLATE "C",
    sha256      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX custody_by_evidence ON custody_events(evidence_id, seq);

-- Key rotation may re-seal `protected`; nothing else changes.
CREATE TRIGGER evidence_append_only
BEFORE UPDATE OF id, object_name, sha256, size, title, media_type, derived_from, derivation, created_at,
                 created_by, created_by_name OR DELETE ON evidence
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('evidence records are never changed');
CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON evidence
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('evidence records are never changed');
CREATE TRIGGER vault_objects_content_fixed BEFORE UPDATE OF name, sha256, size OR DELETE ON vault_objects
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('a stored object''s content is never changed');
CREATE TRIGGER vault_objects_no_truncate BEFORE TRUNCATE ON vault_objects
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('a stored object''s content is never changed');
CREATE TRIGGER custody_events_append_only BEFORE UPDATE OR DELETE ON custody_events
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('the chain of custody is append-only');
CREATE TRIGGER custody_events_no_truncate BEFORE TRUNCATE ON custody_events
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('the chain of custody is append-only');
