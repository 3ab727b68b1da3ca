-- Key rotation re-seals protected values under a new master-key
-- generation: the sealed column of an append-only table may be rewritten
-- (its plaintext stays the same; the ledger commits to the plaintext), no
-- other column.
DROP TRIGGER case_notes_no_update;
CREATE TRIGGER case_notes_no_update
BEFORE UPDATE OF id, case_id, kind, about_id, confidential, author_id, author_name, at ON case_notes
BEGIN SELECT RAISE(ABORT, 'case notes are append-only'); END;
