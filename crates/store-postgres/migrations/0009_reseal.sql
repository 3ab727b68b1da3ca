-- Key rotation: the sealed column of case notes may be re-sealed, no other
-- column (SQLite's migration 14).
DROP TRIGGER case_notes_append_only ON case_notes;
CREATE TRIGGER case_notes_append_only
BEFORE UPDATE OF id, case_id, kind, about_id, confidential, author_id, author_name, at OR DELETE ON case_notes
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('case notes are append-only');
