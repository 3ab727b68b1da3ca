-- Case notes and decisions: the same table as SQLite's migration 9.
CREATE TABLE case_notes (
    id           TEXT COLLATE "C" PRIMARY KEY,
    case_id      TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    kind         TEXT COLLATE "C" NOT NULL,
    about_id     TEXT COLLATE "C" REFERENCES people(id),
    confidential SMALLINT NOT NULL CHECK (confidential IN (0, 1)),
    sealed       BYTEA NOT NULL,
    author_id    TEXT COLLATE "C",
    author_name  TEXT COLLATE "C" NOT NULL,
    at           TEXT COLLATE "C" NOT NULL
);
CREATE INDEX case_notes_case ON case_notes(case_id, at);
CREATE TRIGGER case_notes_append_only BEFORE UPDATE OR DELETE ON case_notes
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('case notes are append-only');
