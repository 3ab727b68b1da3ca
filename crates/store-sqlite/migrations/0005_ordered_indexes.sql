-- Lists are ordered by (sort_key, id); indexes in that order let SQLite
-- walk them and stop after one page instead of sorting every row.
DROP INDEX people_sort;
DROP INDEX people_status;
DROP INDEX people_site;
CREATE INDEX people_sort ON people(sort_key, id) WHERE deleted_at IS NULL;
CREATE INDEX people_status ON people(status, sort_key, id) WHERE deleted_at IS NULL;
CREATE INDEX people_site ON people(site_id, sort_key, id) WHERE deleted_at IS NULL;
