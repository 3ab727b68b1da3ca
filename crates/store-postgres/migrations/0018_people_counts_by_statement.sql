-- The counts of people per status and site, kept per statement instead of
-- per row. A row trigger updated the same few count rows once per person:
-- within one transaction (a copy of a whole registry by migrate-store or a
-- restore) each update of a row first walks every version of it the
-- transaction already made, so the time grew with the square of the people
-- (80,000 in one transaction: 42 s; 1,000,000: hours). A statement trigger
-- reads the statement's rows (its transition tables) and updates each count
-- once per statement.
DROP TRIGGER people_counts_insert ON people;
DROP TRIGGER people_counts_update ON people;
DROP TRIGGER people_counts_delete ON people;
DROP FUNCTION people_counts_change();

CREATE FUNCTION people_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Every write of a person sets all its columns: only a change of
        -- the counted ones moves the person between counts.
        UPDATE people_counts c SET n = c.n - d.n
        FROM (SELECT o.status, COALESCE(o.site_id, '') AS site_id, COUNT(*) AS n
              FROM old_rows o JOIN new_rows w ON w.id = o.id
              WHERE o.deleted_at IS NULL
                AND (o.status IS DISTINCT FROM w.status OR o.site_id IS DISTINCT FROM w.site_id
                     OR o.deleted_at IS DISTINCT FROM w.deleted_at)
              GROUP BY 1, 2) d
        WHERE c.status = d.status AND c.site_id = d.site_id;
        INSERT INTO people_counts (status, site_id, n)
        SELECT w.status, COALESCE(w.site_id, ''), COUNT(*)
        FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE w.deleted_at IS NULL
          AND (o.status IS DISTINCT FROM w.status OR o.site_id IS DISTINCT FROM w.site_id
               OR o.deleted_at IS DISTINCT FROM w.deleted_at)
        GROUP BY 1, 2
        ON CONFLICT (status, site_id) DO UPDATE SET n = people_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE people_counts c SET n = c.n - d.n
        FROM (SELECT status, COALESCE(site_id, '') AS site_id, COUNT(*) AS n
              FROM old_rows WHERE deleted_at IS NULL GROUP BY 1, 2) d
        WHERE c.status = d.status AND c.site_id = d.site_id;
    ELSE
        INSERT INTO people_counts (status, site_id, n)
        SELECT status, COALESCE(site_id, ''), COUNT(*) FROM new_rows WHERE deleted_at IS NULL GROUP BY 1, 2
        ON CONFLICT (status, site_id) DO UPDATE SET n = people_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

-- An upsert that updates an existing person fills the update trigger's
-- tables, one that inserts the insert trigger's.
CREATE TRIGGER people_counts_insert AFTER INSERT ON people
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION people_counts_apply();
CREATE TRIGGER people_counts_update AFTER UPDATE ON people
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION people_counts_apply();
CREATE TRIGGER people_counts_delete AFTER DELETE ON people
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION people_counts_apply();
