-- The live people per residence status and site, kept by triggers in the
-- transaction of each change: lists and the dashboard read their totals
-- here instead of counting rows (a count over a million people reads a
-- million index entries). A person without a site counts under site ''.
CREATE TABLE people_counts (
    status  TEXT NOT NULL,
    site_id TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (status, site_id)
) WITHOUT ROWID;

INSERT INTO people_counts (status, site_id, n)
SELECT status, COALESCE(site_id, ''), COUNT(*) FROM people WHERE deleted_at IS NULL
GROUP BY status, COALESCE(site_id, '');

-- An upsert that updates an existing person fires the update trigger, not
-- this one (SQLite fires AFTER INSERT only for rows inserted).
CREATE TRIGGER people_counts_insert AFTER INSERT ON people
WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO people_counts (status, site_id, n) VALUES (NEW.status, COALESCE(NEW.site_id, ''), 1)
    ON CONFLICT (status, site_id) DO UPDATE SET n = n + 1;
END;

-- Every write of a person sets all its columns: only a change of the
-- counted ones moves the person between counts.
CREATE TRIGGER people_counts_update AFTER UPDATE ON people
WHEN OLD.status IS NOT NEW.status OR OLD.site_id IS NOT NEW.site_id OR OLD.deleted_at IS NOT NEW.deleted_at
BEGIN
    UPDATE people_counts SET n = n - 1
    WHERE OLD.deleted_at IS NULL AND status = OLD.status AND site_id = COALESCE(OLD.site_id, '');
    INSERT INTO people_counts (status, site_id, n)
    SELECT NEW.status, COALESCE(NEW.site_id, ''), 1 WHERE NEW.deleted_at IS NULL
    ON CONFLICT (status, site_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER people_counts_delete AFTER DELETE ON people
WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE people_counts SET n = n - 1 WHERE status = OLD.status AND site_id = COALESCE(OLD.site_id, '');
END;
