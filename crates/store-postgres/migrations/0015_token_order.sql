-- Each name token carries its person's sort key, so a name search reads the
-- matching people in list order from one index (token, sort key, person)
-- instead of looking up every match in `people` to sort it.
ALTER TABLE name_tokens ADD COLUMN sort_key TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE name_tokens t SET sort_key = p.sort_key FROM people p WHERE p.id = t.person_id;
CREATE INDEX name_tokens_sorted ON name_tokens (token, sort_key, person_id);
