-- The people with one name word in list order, read without sorting: a
-- search for a common word merges these short ordered runs (one per word
-- its prefix covers) instead of walking the whole list.
CREATE INDEX name_tokens_sorted ON name_tokens (token, sort_key, person_id);
