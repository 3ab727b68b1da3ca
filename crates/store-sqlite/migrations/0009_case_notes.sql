-- Case notes and decisions (protected: the text is sealed under the master
-- key, purpose case-note); append-only: a correction is a new note.
CREATE TABLE case_notes (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id),
    kind         TEXT NOT NULL,
    about_id     TEXT REFERENCES people(id),
    confidential INTEGER NOT NULL CHECK (confidential IN (0, 1)),
    sealed       BLOB NOT NULL,
    author_id    TEXT,
    author_name  TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes(case_id, at);
CREATE TRIGGER case_notes_no_update BEFORE UPDATE ON case_notes
BEGIN SELECT RAISE(ABORT, 'case notes are append-only'); END;
CREATE TRIGGER case_notes_no_delete BEFORE DELETE ON case_notes
BEGIN SELECT RAISE(ABORT, 'case notes are append-only'); END;
