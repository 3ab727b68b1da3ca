-- Each name token carries its person's sort key, so a name search reads the
-- matching people in list order from the token table alone (a range scan of
-- its primary key) instead of looking up every match in `people` to sort it.
ALTER TABLE name_tokens ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
UPDATE name_tokens SET sort_key = (SELECT p.sort_key FROM people p WHERE p.id = name_tokens.person_id);
