-- Testimonies, events, recipients and dossiers (crates/store-sql/src/testimony.rs).
-- A testimony is one source's account, recorded once: what everyone who may
-- read testimonies sees is in clear (pseudonym, date, language, act types,
-- links); the witness, the narrative, names and sources are sealed in
-- `protected`. Every row has its entry in the ledger.
CREATE TABLE act_types (
    code       TEXT PRIMARY KEY,
    labels     TEXT NOT NULL,            -- JSON: language tag -> label
    created_at TEXT NOT NULL
);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    start_date      TEXT,                -- JSON fuzzy date
    end_date        TEXT,
    place           TEXT,
    exact_place     BLOB,                -- sealed
    description     TEXT,
    created_at      TEXT NOT NULL,
    created_by_name TEXT NOT NULL
);
CREATE INDEX events_created ON events(created_at, id);

CREATE TABLE testimonies (
    id              TEXT PRIMARY KEY,
    pseudonym       TEXT NOT NULL,
    given_on        TEXT NOT NULL,
    language        TEXT NOT NULL,
    reliability     TEXT NOT NULL,
    acts            TEXT NOT NULL,       -- JSON [[event, act type]]
    confidential    TEXT NOT NULL,       -- JSON list of parts
    protected       BLOB NOT NULL,       -- sealed JSON: witness, narrative, names, sources, note
    created_at      TEXT NOT NULL,
    created_by      TEXT,
    created_by_name TEXT NOT NULL
);
CREATE INDEX testimonies_created ON testimonies(created_at, id);

CREATE TABLE testimony_events (
    testimony_id TEXT NOT NULL REFERENCES testimonies(id),
    event_id     TEXT NOT NULL REFERENCES events(id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (testimony_id, event_id)
);
CREATE INDEX testimony_events_by_event ON testimony_events(event_id);

CREATE TABLE testimony_evidence (
    testimony_id TEXT NOT NULL REFERENCES testimonies(id),
    evidence_id  TEXT NOT NULL REFERENCES evidence(id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (testimony_id, evidence_id)
);

CREATE TABLE recipients (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    language   TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE recipient_users (
    recipient_id TEXT NOT NULL REFERENCES recipients(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (recipient_id, user_id)
);

CREATE TABLE testimony_shares (
    seq          INTEGER PRIMARY KEY,
    testimony_id TEXT NOT NULL REFERENCES testimonies(id),
    recipient_id TEXT NOT NULL REFERENCES recipients(id),
    decision     TEXT NOT NULL,
    how          TEXT NOT NULL,
    form         TEXT REFERENCES evidence(id),
    at           TEXT NOT NULL,
    by_name      TEXT NOT NULL
);
CREATE INDEX testimony_shares_by_testimony ON testimony_shares(testimony_id, seq);

CREATE TABLE dossiers (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    recipient_id    TEXT NOT NULL REFERENCES recipients(id),
    purpose         TEXT NOT NULL,
    expires         TEXT NOT NULL,
    redaction       TEXT NOT NULL,       -- JSON list
    include_files   INTEGER NOT NULL,
    testimonies     TEXT NOT NULL,       -- JSON ids
    records         TEXT NOT NULL,       -- JSON [{kind, id, index, leaf}]
    files           TEXT NOT NULL,       -- JSON [[sha256, size]]
    entry_seq       INTEGER NOT NULL,
    fields          TEXT NOT NULL,       -- JSON: the dossier entry's committed values
    checkpoint_size INTEGER,
    created_at      TEXT NOT NULL,
    created_by_name TEXT NOT NULL
);
CREATE INDEX dossiers_by_recipient ON dossiers(recipient_id, created_at);

-- Recorded once; key rotation may re-seal `protected` and `exact_place`;
-- a dossier's checkpoint is fixed once.
CREATE TRIGGER testimonies_fixed
BEFORE UPDATE OF id, pseudonym, given_on, language, reliability, acts, confidential, created_at, created_by,
                 created_by_name ON testimonies
BEGIN SELECT RAISE(ABORT, 'testimonies are never changed'); END;
CREATE TRIGGER testimonies_no_delete BEFORE DELETE ON testimonies
BEGIN SELECT RAISE(ABORT, 'testimonies are never changed'); END;
CREATE TRIGGER events_fixed
BEFORE UPDATE OF id, title, start_date, end_date, place, description, created_at, created_by_name ON events
BEGIN SELECT RAISE(ABORT, 'events are never changed'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are never changed'); END;
CREATE TRIGGER testimony_shares_no_update BEFORE UPDATE ON testimony_shares
BEGIN SELECT RAISE(ABORT, 'sharing decisions are append-only'); END;
CREATE TRIGGER testimony_shares_no_delete BEFORE DELETE ON testimony_shares
BEGIN SELECT RAISE(ABORT, 'sharing decisions are append-only'); END;
CREATE TRIGGER dossiers_fixed
BEFORE UPDATE ON dossiers
WHEN OLD.checkpoint_size IS NOT NULL
  OR NEW.id IS NOT OLD.id OR NEW.title IS NOT OLD.title OR NEW.recipient_id IS NOT OLD.recipient_id
  OR NEW.purpose IS NOT OLD.purpose OR NEW.expires IS NOT OLD.expires OR NEW.redaction IS NOT OLD.redaction
  OR NEW.records IS NOT OLD.records OR NEW.files IS NOT OLD.files OR NEW.entry_seq IS NOT OLD.entry_seq
BEGIN SELECT RAISE(ABORT, 'dossiers are never changed'); END;
CREATE TRIGGER dossiers_no_delete BEFORE DELETE ON dossiers
BEGIN SELECT RAISE(ABORT, 'dossiers are never changed'); END;
