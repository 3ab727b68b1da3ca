-- Testimonies, events, recipients and dossiers: the same tables as SQLite's migration 17.
-- A testimony is one source's account, recorded once: what everyone who may
-- read testimonies sees is in clear (pseudonym, date, language, act types,
-- links); the witness, the narrative, names and sources are sealed in
-- `protected`. Every row has its entry in the ledger.
CREATE TABLE act_types (
    code       TEXT COLLATE "C" PRIMARY KEY,
    labels     TEXT COLLATE "C" NOT NULL,            -- JSON: language tag -> label
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE events (
    id              TEXT COLLATE "C" PRIMARY KEY,
    title           TEXT COLLATE "C" NOT NULL,
    start_date      TEXT COLLATE "C",                -- JSON fuzzy date
    end_date        TEXT COLLATE "C",
    place           TEXT COLLATE "C",
    exact_place     BYTEA,                -- sealed
    description     TEXT COLLATE "C",
    created_at      TEXT COLLATE "C" NOT NULL,
    created_by_name TEXT COLLATE "C" NOT NULL
);
CREATE INDEX events_created ON events(created_at, id);

CREATE TABLE testimonies (
    id              TEXT COLLATE "C" PRIMARY KEY,
    pseudonym       TEXT COLLATE "C" NOT NULL,
    given_on        TEXT COLLATE "C" NOT NULL,
    language        TEXT COLLATE "C" NOT NULL,
    reliability     TEXT COLLATE "C" NOT NULL,
    acts            TEXT COLLATE "C" NOT NULL,       -- JSON [[event, act type]]
    confidential    TEXT COLLATE "C" NOT NULL,       -- JSON list of parts
    protected       BYTEA NOT NULL,       -- sealed JSON: witness, narrative, names, sources, note
    created_at      TEXT COLLATE "C" NOT NULL,
    created_by      TEXT COLLATE "C",
    created_by_name TEXT COLLATE "C" NOT NULL
);
CREATE INDEX testimonies_created ON testimonies(created_at, id);

CREATE TABLE testimony_events (
    testimony_id TEXT COLLATE "C" NOT NULL REFERENCES testimonies(id),
    event_id     TEXT COLLATE "C" NOT NULL REFERENCES events(id),
    position     BIGINT NOT NULL,
    PRIMARY KEY (testimony_id, event_id)
);
CREATE INDEX testimony_events_by_event ON testimony_events(event_id);

CREATE TABLE testimony_evidence (
    testimony_id TEXT COLLATE "C" NOT NULL REFERENCES testimonies(id),
    evidence_id  TEXT COLLATE "C" NOT NULL REFERENCES evidence(id),
    position     BIGINT NOT NULL,
    PRIMARY KEY (testimony_id, evidence_id)
);

CREATE TABLE recipients (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    kind       TEXT COLLATE "C" NOT NULL,
    language   TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE recipient_users (
    recipient_id TEXT COLLATE "C" NOT NULL REFERENCES recipients(id),
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    PRIMARY KEY (recipient_id, user_id)
);

CREATE TABLE testimony_shares (
    seq          BIGINT PRIMARY KEY,
    testimony_id TEXT COLLATE "C" NOT NULL REFERENCES testimonies(id),
    recipient_id TEXT COLLATE "C" NOT NULL REFERENCES recipients(id),
    decision     TEXT COLLATE "C" NOT NULL,
    how          TEXT COLLATE "C" NOT NULL,
    form         TEXT COLLATE "C" REFERENCES evidence(id),
    at           TEXT COLLATE "C" NOT NULL,
    by_name      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX testimony_shares_by_testimony ON testimony_shares(testimony_id, seq);

CREATE TABLE dossiers (
    id              TEXT COLLATE "C" PRIMARY KEY,
    title           TEXT COLLATE "C" NOT NULL,
    recipient_id    TEXT COLLATE "C" NOT NULL REFERENCES recipients(id),
    purpose         TEXT COLLATE "C" NOT NULL,
    expires         TEXT COLLATE "C" NOT NULL,
    redaction       TEXT COLLATE "C" NOT NULL,       -- JSON list
    include_files   BIGINT NOT NULL,
    testimonies     TEXT COLLATE "C" NOT NULL,       -- JSON ids
    records         TEXT COLLATE "C" NOT NULL,       -- JSON [{kind, id, index, leaf}]
    files           TEXT COLLATE "C" NOT NULL,       -- JSON [[sha256, size]]
    entry_seq       BIGINT NOT NULL,
    fields          TEXT COLLATE "C" NOT NULL,       -- JSON: the dossier entry's committed values
    checkpoint_size BIGINT,
    created_at      TEXT COLLATE "C" NOT NULL,
    created_by_name TEXT COLLATE "C" NOT NULL
);
CREATE INDEX dossiers_by_recipient ON dossiers(recipient_id, created_at);

-- Recorded once; key rotation may re-seal protected and exact_place;
-- a dossier's checkpoint is fixed once.
CREATE TRIGGER testimonies_fixed
BEFORE UPDATE OF id, pseudonym, given_on, language, reliability, acts, confidential, created_at, created_by,
                 created_by_name OR DELETE ON testimonies
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('testimonies are never changed');
CREATE TRIGGER events_fixed
BEFORE UPDATE OF id, title, start_date, end_date, place, description, created_at, created_by_name OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('events are never changed');
CREATE TRIGGER testimony_shares_append_only BEFORE UPDATE OR DELETE ON testimony_shares
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('sharing decisions are append-only');
CREATE TRIGGER dossiers_no_delete BEFORE DELETE ON dossiers
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('dossiers are never changed');
CREATE TRIGGER dossiers_fixed
BEFORE UPDATE OF id, title, recipient_id, purpose, expires, redaction, records, files, entry_seq ON dossiers
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('dossiers are never changed');
CREATE TRIGGER dossiers_checkpoint_once BEFORE UPDATE OF checkpoint_size ON dossiers
FOR EACH ROW WHEN (OLD.checkpoint_size IS NOT NULL)
EXECUTE FUNCTION lantern_append_only('dossiers are never changed');
CREATE TRIGGER testimony_tables_no_truncate BEFORE TRUNCATE ON testimonies
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('testimonies are never changed');
