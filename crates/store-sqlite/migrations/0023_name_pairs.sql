-- Each two distinct words of a person's names (from any of their names,
-- as the name search matches them), in byte order, with the person's sort
-- key: a search by two words or more looks up the pairs its words cover
-- instead of reading every person of each word and intersecting them (two
-- common words have thousands of people each and a few hundred in common).
CREATE TABLE name_pairs (
    first     TEXT NOT NULL,
    second    TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people(id),
    sort_key  TEXT NOT NULL,
    PRIMARY KEY (first, second, person_id)
) WITHOUT ROWID;
CREATE INDEX name_pairs_person ON name_pairs(person_id);

INSERT INTO name_pairs (first, second, person_id, sort_key)
SELECT a.token, b.token, a.person_id, a.sort_key
FROM name_tokens a JOIN name_tokens b ON b.person_id = a.person_id AND a.token < b.token;
