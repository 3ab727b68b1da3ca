-- Search keys spell in ASCII the Latin letters Unicode does not decompose
-- (lantern_domain::text::ascii_spelling: Aydın as aydin, Łukasz as
-- lukasz, Məmmədov as mammadov), so that a registrar typing on a keyboard
-- without them finds the person. Keys stored before were made without it:
-- they are folded here alike. A stored key is lower case already and each
-- of those letters is spelled alone, so folding the stored key gives the
-- key the name gives now. Folding may make two words of one person the
-- same (Łukasz and Lukasz) and change their byte order, so the affected
-- people's words are gathered folded and once, and their pairs made again.
CREATE TEMP TABLE folded_tokens AS
SELECT DISTINCT replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(token, 'ł', 'l'), 'đ', 'dj'), 'ð', 'd'), 'þ', 'th'), 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'ı', 'i'), 'ə', 'a'), 'ħ', 'h'), 'ŋ', 'ng') AS token,
       person_id,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(sort_key, 'ł', 'l'), 'đ', 'dj'), 'ð', 'd'), 'þ', 'th'), 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'ı', 'i'), 'ə', 'a'), 'ħ', 'h'), 'ŋ', 'ng') AS sort_key
FROM name_tokens
WHERE person_id IN (
    SELECT person_id FROM name_tokens
    WHERE token <> replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(token, 'ł', 'l'), 'đ', 'dj'), 'ð', 'd'), 'þ', 'th'), 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'ı', 'i'), 'ə', 'a'), 'ħ', 'h'), 'ŋ', 'ng')
       OR sort_key <> replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(sort_key, 'ł', 'l'), 'đ', 'dj'), 'ð', 'd'), 'þ', 'th'), 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'ı', 'i'), 'ə', 'a'), 'ħ', 'h'), 'ŋ', 'ng')
);

DELETE FROM name_pairs WHERE person_id IN (SELECT person_id FROM folded_tokens);
DELETE FROM name_tokens WHERE person_id IN (SELECT person_id FROM folded_tokens);
INSERT INTO name_tokens (token, person_id, sort_key)
SELECT token, person_id, sort_key FROM folded_tokens;
INSERT INTO name_pairs (first, second, person_id, sort_key)
SELECT a.token, b.token, a.person_id, a.sort_key
FROM name_tokens a JOIN name_tokens b ON b.person_id = a.person_id AND a.token < b.token
WHERE a.person_id IN (SELECT DISTINCT person_id FROM folded_tokens);

UPDATE people SET sort_key = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(sort_key, 'ł', 'l'), 'đ', 'dj'), 'ð', 'd'), 'þ', 'th'), 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'ı', 'i'), 'ə', 'a'), 'ħ', 'h'), 'ŋ', 'ng')
WHERE sort_key <> replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(sort_key, 'ł', 'l'), 'đ', 'dj'), 'ð', 'd'), 'þ', 'th'), 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'ı', 'i'), 'ə', 'a'), 'ħ', 'h'), 'ŋ', 'ng');

DROP TABLE folded_tokens;
