-- The live people per residence status and site, kept by a trigger in the
-- transaction of each change: lists and the dashboard read their totals
-- here instead of counting rows (a count over a million people reads a
-- million index entries). A person without a site counts under site ''.
-- Write transactions hold the store's advisory lock, so two never update
-- these rows at once.
CREATE TABLE people_counts (
    status  TEXT COLLATE "C" NOT NULL,
    site_id TEXT COLLATE "C" NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (status, site_id)
);

INSERT INTO people_counts (status, site_id, n)
SELECT status, COALESCE(site_id, ''), COUNT(*) FROM people WHERE deleted_at IS NULL
GROUP BY status, COALESCE(site_id, '');

CREATE FUNCTION people_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE people_counts SET n = n - 1 WHERE status = OLD.status AND site_id = COALESCE(OLD.site_id, '');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        INSERT INTO people_counts (status, site_id, n) VALUES (NEW.status, COALESCE(NEW.site_id, ''), 1)
        ON CONFLICT (status, site_id) DO UPDATE SET n = people_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

-- An upsert that updates an existing person fires the update trigger only.
CREATE TRIGGER people_counts_insert AFTER INSERT ON people
FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION people_counts_change();
-- Every write of a person sets all its columns: only a change of the
-- counted ones moves the person between counts.
CREATE TRIGGER people_counts_update AFTER UPDATE ON people
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.site_id IS DISTINCT FROM NEW.site_id
                   OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION people_counts_change();
CREATE TRIGGER people_counts_delete AFTER DELETE ON people
FOR EACH ROW WHEN (OLD.deleted_at IS NULL) EXECUTE FUNCTION people_counts_change();
